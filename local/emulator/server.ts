import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsServiceError } from './errors.js';

/**
 * Who signed a call, as SigV4's `Credential=<access key>/<date>/<region>/<service>/aws4_request`
 * says: the emulator maps the access key to an account, and the region picks that account's
 * CodePipeline there. Nothing is verified beyond that: the point is whose keys the SDK used.
 */
export interface Caller {
  accessKeyId?: string;
  region?: string;
}

/** An AWS Query service (STS): form-encoded `Action=...` in, XML out. */
export type QueryService = (action: string, params: URLSearchParams, caller: Caller) => { httpStatus: number; xml: string };

/** One AWS JSON service: requests name their operation in `X-Amz-Target: <targetPrefix>.<Operation>`. */
export interface JsonService {
  targetPrefix: string;
  contentType: string;
  /** Asked on every call, so the emulator can swap in another world behind the same endpoint. */
  operations: (caller: Caller) => Record<string, (input: unknown) => unknown>;
}

export interface ServeOptions {
  services: JsonService[];
  /** Runs before every routed call; throwing (or rejecting with) an AwsServiceError answers the call with it. */
  beforeCall: (operation: string, input: Record<string, unknown>, caller: Caller) => void | Promise<void>;
  /** Runs once every routed call has been answered, whatever the answer. */
  afterCall?: (operation: string) => void;
  /** Answers calls that carry no X-Amz-Target but a form-encoded `Action` (STS). */
  query?: QueryService;
  port?: number;
}

/** A request as it crosses the wire (header names in lower case), and its answer. */
export interface WireRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RunningServer {
  endpoint: string;
  /** What the server answers `request`, without the socket: for a client in this very process. */
  answer(request: WireRequest): Promise<WireAnswer>;
  close(): Promise<void>;
}

const fallbackContentType = 'application/x-amz-json-1.1';

export async function serveAwsJson(options: ServeOptions): Promise<RunningServer> {
  const server = createServer((request, response) => {
    readBody(request)
      .then((body) => answer(options, { method: request.method ?? 'GET', headers: request.headers, body }))
      .then(({ status, headers, body }) => {
        response.writeHead(status, headers);
        response.end(body);
      })
      .catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    answer: (request) => answer(options, request),
    // Once, however many callers close it (a CLI run after its train, closeLocalEngine again).
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      })),
  };
}

/** Who signed a request, read off its SigV4 `Authorization` header. */
export function callerOf(authorization: unknown): Caller {
  const credential = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//.exec(String(authorization ?? ''));
  return credential ? { accessKeyId: credential[1]!, region: credential[2]! } : {};
}

async function answer(options: ServeOptions, request: WireRequest): Promise<WireAnswer> {
  const { headers, body } = request;
  const target = headers['x-amz-target'];
  const caller = callerOf(headers.authorization);
  if (target === undefined && options.query && String(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const params = new URLSearchParams(body);
    const { httpStatus, xml } = options.query(params.get('Action') ?? '', params, caller);
    return { status: httpStatus, headers: { 'content-type': 'text/xml', 'content-length': String(Buffer.byteLength(xml)), 'x-amzn-requestid': randomUUID() }, body: xml };
  }
  // Exactly `<targetPrefix>.<Operation>`: with anything more (`...GetPipeline.x`) it names no operation.
  const parts = typeof target === 'string' ? target.split('.') : [];
  const [targetPrefix, operation] = parts.length === 2 ? parts : [];
  const service = options.services.find((candidate) => candidate.targetPrefix === targetPrefix);
  const contentType = service?.contentType ?? fallbackContentType;
  try {
    const operations = service?.operations(caller) ?? {};
    // Own properties only: `X-Amz-Target: CodePipeline_20150709.toString` is not an operation.
    const handle = operation !== undefined && Object.hasOwn(operations, operation) ? operations[operation] : undefined;
    if (request.method !== 'POST' || operation === undefined || handle === undefined) {
      throw new AwsServiceError('UnknownOperationException', `Unknown operation ${String(target)}`);
    }
    const input = parseJsonObject(body);
    try {
      await options.beforeCall(operation, input, caller);
      return json(200, contentType, handle(input));
    } finally {
      options.afterCall?.(operation);
    }
  } catch (error) {
    const serviceError =
      error instanceof AwsServiceError
        ? error
        : // An emulator bug: report it to the caller as the service would report its own.
          new AwsServiceError('InternalFailure', error instanceof Error ? error.message : String(error), 500);
    const body = { __type: serviceError.errorType, message: serviceError.message };
    return json(serviceError.httpStatus, contentType, body, { 'x-amzn-errortype': serviceError.errorType });
  }
}

function parseJsonObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw new AwsServiceError('SerializationException', 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError('SerializationException', 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function json(status: number, contentType: string, payload: unknown, extraHeaders: Record<string, string> = {}): WireAnswer {
  const body = JSON.stringify(payload);
  return {
    status,
    headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), 'x-amzn-requestid': randomUUID(), ...extraHeaders },
    body,
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
