import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WireAnswer, WireRequest } from './emulator/server.js';
import { answerHere, stopAnsweringHere } from './sdk-clients.js';

/**
 * A real DynamoDB implementation in this process (dynalite, on an in-memory LevelDB): the
 * completion table's conditional writes behave as DynamoDB's do. It has no TTL, which the code
 * does not rely on (it ignores expired items itself). One per process, like the emulator.
 */
export interface LocalDynamo {
  endpoint: string;
  /** Requests served so far: what DynamoDB would bill (the bench). */
  requests(): number;
  /** What it answers `request`, without the socket: how this process's clients reach it. */
  answer(request: WireRequest): Promise<WireAnswer>;
  /** Creates an empty completion table; each engine gets its own, so worlds never share items. */
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Never what keeps a process alive: the CLI ends when its run does, whoever forgot to close this.
  server.unref();
  server.on('connection', (socket) => socket.unref());
  let requests = 0;
  server.on('request', () => {
    requests += 1;
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // This process's clients reach it without the socket, as they reach the emulator: dynalite's own
  // request handler reads the request's body from the stream and writes its answer to the response.
  const [handleRequest] = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  const answer = (request: WireRequest) => {
    requests += 1;
    return answerInProcess(handleRequest!, request);
  };
  answerHere(endpoint, answer);
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return {
    endpoint,
    requests: () => requests,
    answer,
    createTable: async (name) => {
      // The table serverless.yml declares: one string key, on demand.
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      // CREATING until dynalite marks it ACTIVE a moment later (a write of its own), and until then
      // it answers ResourceNotFoundException, as DynamoDB does: a caller may use it once this returns.
      for (let attempt = 0; attempt < 1000; attempt += 1) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      throw new Error(`local DynamoDB: table ${name} never became ACTIVE`);
    },
    close: async () => {
      stopAnsweringHere(endpoint);
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * What dynalite's request handler answers `request`, without a socket: the handler reads the body
 * through the request's 'data' and 'end' events, sets the status and headers, and ends the response
 * with the body; it reads and calls nothing else of either.
 */
function answerInProcess(handleRequest: (request: IncomingMessage, response: ServerResponse) => void, request: WireRequest): Promise<WireAnswer> {
  return new Promise((resolve) => {
    const incoming = Object.assign(new EventEmitter(), { method: request.method, url: '/', headers: request.headers });
    const headers: Record<string, string> = {};
    const response = {
      statusCode: 200,
      setHeader: (name: string, value: string | number) => void (headers[name.toLowerCase()] = String(value)),
      end: (body?: string) => resolve({ status: response.statusCode, headers, body: body ?? '' }),
    };
    handleRequest(incoming as unknown as IncomingMessage, response as unknown as ServerResponse);
    incoming.emit('data', Buffer.from(request.body));
    incoming.emit('end');
  });
}
