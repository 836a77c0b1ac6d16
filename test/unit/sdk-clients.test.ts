import { CodePipelineClient, GetPipelineCommand, PipelineNotFoundException } from '@aws-sdk/client-codepipeline';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { jest } from '@jest/globals';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatedClock } from '../../local/clock.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { closeLocalEngine, LocalEngine } from '../../local/engine.js';
import type { WireRequest } from '../../local/emulator/server.js';
import { answerHere, awsCallsByFunction, instrumentClients, invokedAs, stopAnsweringHere } from '../../local/sdk-clients.js';
import { parseWorld } from '../../local/world.js';
import { clientSettings } from '../../src/client-settings.js';
import { rejectionOf } from '../support/rejection.js';
import { recordRequestHosts } from '../support/request-hosts.js';

const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [{ name: 'P1', durationSeconds: 600 }] }, 'sdk-clients world');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** SHA-256 as the SDK's signer wants it: an HMAC when given a key. */
class Sha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData) {
    this.#hash.update(bytesOf(data));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}
const bytesOf = (data: SourceData) =>
  typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
const codePipelineAt = (endpoint: string, maxAttempts = 1) => new CodePipelineClient({ endpoint, region: 'us-east-1', credentials, maxAttempts });

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({ world, clock: new SimulatedClock(Date.parse(world.startTime)) });
});
afterEach(async () => {
  stopAnsweringHere(emulator.endpoint);
  await emulator.close();
});

/** The requests the emulator answers in process from now on. */
const spiedAnswers = () => {
  const requests: WireRequest[] = [];
  answerHere(emulator.endpoint, (request) => {
    requests.push(request);
    return emulator.answer(request);
  });
  return requests;
};

describe('the emulator answers a client of its own process as it answers one over a socket', () => {
  const json = (target: string, body: string): WireRequest => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/codepipeline/aws4_request' },
    body,
  });

  it.each([
    ['a pipeline', json('CodePipeline_20150709.GetPipeline', '{"name":"P1"}')],
    ['an error of the service', json('CodePipeline_20150709.GetPipeline', '{"name":"nope"}')],
    ['an unknown operation', json('CodePipeline_20150709.DeletePipeline', '{"name":"P1"}')],
    ['a body that is not JSON', json('CodePipeline_20150709.GetPipeline', '{"name": ')],
    ['a GET', { ...json('CodePipeline_20150709.GetPipeline', ''), method: 'GET' }],
    ['an STS query', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' }],
  ])('%s: the same status, headers and body', async (_, request) => {
    // Act
    const inProcess = await emulator.answer(request);
    const overHttp = await fetch(emulator.endpoint, { method: request.method, headers: request.headers as Record<string, string>, ...(request.method === 'POST' && { body: request.body }) });

    // Assess
    const sameHeaders = (headers: Record<string, string>) => ({ ...headers, 'x-amzn-requestid': expect.any(String) as string });
    expect(inProcess).toEqual({
      status: overHttp.status,
      headers: sameHeaders(Object.fromEntries([...overHttp.headers].filter(([name]) => !['connection', 'date', 'keep-alive'].includes(name)))),
      body: await overHttp.text(),
    });
  });
});

// Before the describe below instruments the clients: one of these needs a call made before that.
describe("the functions' SDK clients (src/client-settings.ts)", () => {
  it('are made with the settings: the CodePipeline, DynamoDB, SNS and Step Functions clients', async () => {
    // Prepare
    const { codePipeline } = await import('../../src/codepipeline.js');
    const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
    const { sns } = await import('../../src/notify.js');
    const { stepFunctions } = await import('../../src/stepfunctions.js');

    // Act
    const clients = [codePipeline, dynamo, sns, (await stepFunctions()).client];

    // Assess
    for (const { config } of clients) {
      expect({ cacheMiddleware: config.cacheMiddleware, maxAttempts: await config.maxAttempts(), retryMode: typeof config.retryMode === 'string' ? config.retryMode : await config.retryMode() }).toEqual(clientSettings);
    }
  });

  it('resolve their middleware once per command, not at every call', async () => {
    // Prepare
    const client = new CodePipelineClient({ ...clientSettings, endpoint: emulator.endpoint, region: 'us-east-1', credentials });
    const resolved = jest.spyOn(GetPipelineCommand.prototype, 'resolveMiddleware');

    // Act
    for (let call = 0; call < 3; call += 1) await client.send(new GetPipelineCommand({ name: 'P1' }));

    // Assess
    expect(resolved).toHaveBeenCalledTimes(1);
    resolved.mockRestore();
    client.destroy();
  });

  it('are filed and answered in process by the local engine even when they called before it started', async () => {
    // Prepare: a call over the socket, before the engine instruments the clients, caches a chain without it.
    const client = new CodePipelineClient({ ...clientSettings, endpoint: emulator.endpoint, region: 'us-east-1', credentials });
    await client.send(new GetPipelineCommand({ name: 'P1' }));
    instrumentClients();
    const inProcess: WireRequest[] = [];
    answerHere(emulator.endpoint, (request) => {
      inProcess.push(request);
      return emulator.answer(request);
    });

    // Act
    const { pipeline } = await invokedAs.run('decideOrder', () => client.send(new GetPipelineCommand({ name: 'P1' })));

    // Assess
    expect(pipeline?.name).toBe('P1');
    expect(inProcess.map(({ headers }) => headers['x-amz-target'])).toEqual(['CodePipeline_20150709.GetPipeline']);
    expect([...(awsCallsByFunction.get('decideOrder') ?? [])]).toEqual(['codepipeline:GetPipeline']);
    client.destroy();
  });
});

describe("a client of the engine's process reaches the emulator without a socket", () => {
  beforeAll(instrumentClients);
  it('answers through the emulator itself, with the SDK parsing answers and errors as from the wire', async () => {
    // Prepare
    const requests = spiedAnswers();
    const codePipeline = codePipelineAt(emulator.endpoint);
    const warn = jest.spyOn(console, 'warn');

    // Act
    const { pipeline, $metadata } = await codePipeline.send(new GetPipelineCommand({ name: 'P1' }));
    const missing = await rejectionOf(codePipeline.send(new GetPipelineCommand({ name: 'nope' })));

    // Assess
    expect(pipeline?.name).toBe('P1');
    expect($metadata).toMatchObject({ httpStatusCode: 200, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string });
    expect(missing).toBeInstanceOf(PipelineNotFoundException);
    expect(missing).toMatchObject({ $metadata: { httpStatusCode: 400, requestId: expect.any(String) as string } });
    // The SDK warns when its request body (bytes) is read as a string, and will throw one day.
    expect(warn).not.toHaveBeenCalled();
    expect(requests.map(({ headers }) => headers['x-amz-target'])).toEqual(['CodePipeline_20150709.GetPipeline', 'CodePipeline_20150709.GetPipeline']);
    // Signed as for the wire, header names as a socket delivers them: the emulator reads the caller off it.
    expect(requests[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/codepipeline\/aws4_request/);
    codePipeline.destroy();
    warn.mockRestore();
  });

  it('reads header names as a socket delivers them, in lower case, whatever case the client wrote', async () => {
    // Prepare: a client that writes X-Amz-Target in capitals (HTTP header names are case-insensitive).
    const requests = spiedAnswers();
    const codePipeline = codePipelineAt(emulator.endpoint);
    codePipeline.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { headers: Record<string, string> };
        request.headers['X-Amz-Target'] = request.headers['x-amz-target']!;
        delete request.headers['x-amz-target'];
        return next(args);
      },
      { step: 'build' },
    );

    // Act
    const { pipeline } = await codePipeline.send(new GetPipelineCommand({ name: 'P1' }));

    // Assess
    expect(pipeline?.name).toBe('P1');
    expect(requests[0]!.headers['x-amz-target']).toBe('CodePipeline_20150709.GetPipeline');
    codePipeline.destroy();
  });

  it('retries a request the emulator failed to answer as the SDK retries a connection the server dropped', async () => {
    // Prepare: a server that drops every connection, and the emulator's answer failing.
    const dropping = createServer((request) => request.socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const droppingEndpoint = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`;
    let answers = 0;
    answerHere(emulator.endpoint, () => {
      answers += 1;
      return Promise.reject(new Error('an emulator bug'));
    });
    const [inProcess, overHttp] = [codePipelineAt(emulator.endpoint, 3), codePipelineAt(droppingEndpoint, 3)];

    // Act
    const failedHere = await rejectionOf(inProcess.send(new GetPipelineCommand({ name: 'P1' })));
    const failedThere = await rejectionOf(overHttp.send(new GetPipelineCommand({ name: 'P1' })));

    // Assess
    expect(answers).toBe(3);
    // (Over the socket jest's realm wraps Node's own error: 'AWS SDK error wrapper for TimeoutError: socket hang up'.)
    expect(failedHere).toMatchObject({ name: 'TimeoutError', message: 'socket hang up', code: 'ECONNRESET', $metadata: { attempts: 3 } });
    expect(failedThere).toMatchObject({ message: expect.stringContaining('TimeoutError: socket hang up') as string, $metadata: { attempts: 3 } });
    inProcess.destroy();
    overHttp.destroy();
    dropping.close();
  });

  it('answers a query service (STS) too, and goes back to the socket once the endpoint is no longer served here', async () => {
    // Prepare: the emulator's STS serves AssumeRole alone, so GetCallerIdentity is its XML error.
    const requests = spiedAnswers();
    const sts = new STSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const served = await rejectionOf(sts.send(new GetCallerIdentityCommand({})));

    // Act
    stopAnsweringHere(emulator.endpoint);
    const overHttp = await rejectionOf(sts.send(new GetCallerIdentityCommand({})));

    // Assess
    expect(requests).toHaveLength(1);
    expect(served).toMatchObject({ name: 'InvalidAction', message: 'Could not find operation GetCallerIdentity for version 2011-06-15', $metadata: { httpStatusCode: 400 } });
    expect(overHttp).toMatchObject({ name: served.name, message: served.message, $metadata: { httpStatusCode: 400 } });
    sts.destroy();
  });
});

describe('signatures', () => {
  beforeAll(instrumentClients);

  it('leaves the hashes out of a request answered in process, and signs one sent to any other endpoint as SigV4 signs it', async () => {
    // Prepare: a server standing for AWS, keeping what it was sent; credentials with a session token, as a role's are.
    const sent: { method: string; path: string; headers: Record<string, string>; body: string }[] = [];
    const aws = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        sent.push({ method: request.method!, path: request.url!, headers: request.headers as Record<string, string>, body });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => aws.listen(0, '127.0.0.1', resolve));
    const port = (aws.address() as AddressInfo).port;
    const temporary = { accessKeyId: 'local', secretAccessKey: 'secret', sessionToken: 'token' };
    const requests = spiedAnswers();
    const [here, there] = [emulator.endpoint, `http://127.0.0.1:${port}`].map((endpoint) => new CodePipelineClient({ endpoint, region: 'us-east-1', credentials: temporary, maxAttempts: 1 }));

    // Act
    await here!.send(new GetPipelineCommand({ name: 'P1' }));
    await there!.send(new GetPipelineCommand({ name: 'P1' }));

    // Assess: in process, who signed and when, as the emulator and dynalite read them.
    const [answered] = requests;
    expect(answered!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(answered!.headers['x-amz-security-token']).toBe('token');
    expect(answered!.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=local/${answered!.headers['x-amz-date']!.slice(0, 8)}/us-east-1/codepipeline/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    );
    // Over the socket, the signature SigV4 computes over the very headers it names as signed.
    const [request] = sent;
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(request!.headers.authorization!)![1]!.split(';');
    const date = request!.headers['x-amz-date']!;
    const signer = new SignatureV4({ credentials: temporary, region: 'us-east-1', service: 'codepipeline', sha256: Sha256 });
    const resigned = await signer.sign(
      { method: request!.method, protocol: 'http:', hostname: '127.0.0.1', port, path: request!.path, query: {}, body: request!.body, headers: Object.fromEntries(signedHeaders.map((name) => [name, request!.headers[name]!])) },
      { signingDate: new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`) },
    );
    expect(request!.headers.authorization).toMatch(/Signature=[0-9a-f]{64}$/);
    expect(request!.headers.authorization).toBe(resigned.headers.authorization);
    here!.destroy();
    there!.destroy();
    aws.close();
  });
});

describe('a local run', () => {
  afterAll(closeLocalEngine);

  it('makes none of its calls to the emulator through a socket, and its emulator once closed refuses them', async () => {
    // Prepare: every HTTP request this process starts, by the host it goes to.
    const { hosts, stop } = recordRequestHosts();
    const engine = await LocalEngine.create({ world, settings: { completion: 'poll' } });
    const endpoint = new URL(engine.emulator.endpoint);

    // Act
    const report = await engine.run({ input: { order: ['P1'] } });
    const looks = engine.emulator.callCounts().GetPipelineExecution;
    await engine.emulator.close();
    const afterClose = await rejectionOf(codePipelineAt(engine.emulator.endpoint).send(new GetPipelineCommand({ name: 'P1' })));
    stop();

    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(looks).toBeGreaterThan(0);
    expect(hosts.filter((host) => host === endpoint.host)).toEqual([endpoint.host]);
    expect(afterClose.message).toMatch(/connect ECONNREFUSED/);
  });
});
