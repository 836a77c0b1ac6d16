import { startLocalDynamo } from '../../local/dynamodb.js';
import type { WireRequest } from '../../local/emulator/server.js';
import { closeLocalEngine, LocalEngine } from '../../local/engine.js';
import { parseWorld } from '../../local/world.js';
import { recordRequestHosts } from '../support/request-hosts.js';

describe('the local DynamoDB answers a client of its own process as it answers one over a socket', () => {
  const request = (operation: string, body: unknown): WireRequest => ({
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': '20260101T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
    },
    body: JSON.stringify(body),
  });
  const item = { pk: { S: 'watch#1' } };

  it('the same status, headers and body for an item, a condition that fails, a missing table, an unknown operation and a GET', async () => {
    // Prepare
    const dynamo = await startLocalDynamo();
    await dynamo.createTable('table');
    const requests = [
      request('PutItem', { TableName: 'table', Item: item }),
      request('GetItem', { TableName: 'table', Key: item, ConsistentRead: true }),
      request('PutItem', { TableName: 'table', Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      request('GetItem', { TableName: 'nope', Key: item }),
      request('Frobnicate', {}),
      { ...request('GetItem', {}), method: 'GET' },
    ];
    const counted = dynamo.requests();

    // Act
    const answers = [];
    for (const each of requests) {
      const inProcess = await dynamo.answer(each);
      const overHttp = await fetch(dynamo.endpoint, { method: each.method, headers: each.headers as Record<string, string>, ...(each.method === 'POST' && { body: each.body }) });
      answers.push({ inProcess, overHttp: { status: overHttp.status, headers: Object.fromEntries(overHttp.headers), body: await overHttp.text() } });
    }
    const served = dynamo.requests() - counted;
    await dynamo.close();

    // Assess
    for (const { inProcess, overHttp } of answers) {
      const { connection, date, 'keep-alive': keepAlive, ...wireHeaders } = overHttp.headers;
      expect(inProcess).toEqual({ ...overHttp, headers: { ...wireHeaders, 'x-amzn-requestid': expect.any(String) as string } });
    }
    expect(answers.map(({ inProcess }) => inProcess.status)).toEqual([200, 200, 400, 400, 400, 200]);
    expect(answers[2]!.inProcess.body).toContain('ConditionalCheckFailedException');
    // Each counts as a request DynamoDB would bill, whichever way it came.
    expect(served).toBe(2 * requests.length);
  });
});

describe("a local run woken by events (this file's first engine)", () => {
  afterAll(closeLocalEngine);

  it('makes none of its calls to the local DynamoDB through a socket, the table’s creation included', async () => {
    // Prepare: every HTTP request this process starts, by the host it goes to.
    const { hosts, stop } = recordRequestHosts();
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [{ name: 'P1', durationSeconds: 600 }] }, 'local-dynamo world');

    // Act
    const engine = await LocalEngine.create({ world, settings: { completion: 'events' } });
    const report = await engine.run({ input: { order: ['P1'] } });
    stop();

    // Assess
    expect([report.status, report.error, report.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(engine.completionUsage().dynamoRequests).toBeGreaterThan(0);
    expect(hosts).not.toContain(new URL(process.env.AWS_ENDPOINT_URL_DYNAMODB!).host);
  });
});
