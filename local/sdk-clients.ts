import { AsyncLocalStorage } from 'node:async_hooks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { callerOf, type RunningServer } from './emulator/server.js';
import { temporaryKeyPrefix } from './emulator/sts.js';

/**
 * The SDK clients of the local engine's process: which function made each call (IAM's view), and
 * a shortcut to the emulator of this very process.
 */

/** Which function a call is made by: every function runs in this one process, each under its own role on AWS. */
export const invokedAs = new AsyncLocalStorage<string>();

/**
 * The AWS actions each function called with its own role, as IAM names them (`dynamodb:UpdateItem`,
 * `codepipeline:StartPipelineExecution`), by serverless.yml's function key, across every engine of
 * this process. Nothing enforces IAM locally: the package tests hold these against the roles
 * `sls package` writes, so a call no role allows fails there, not after a deploy.
 */
export const awsCallsByFunction = new Map<string, Set<string>>();
/** The same for the calls made with a role assumed in another account (signed with a key AssumeRole issued). */
export const assumedRoleCallsByFunction = new Map<string, Set<string>>();

/** IAM's prefix for each SDK client's serviceId. */
const iamPrefixOf: Record<string, string> = { CodePipeline: 'codepipeline', SFN: 'states', DynamoDB: 'dynamodb', SNS: 'sns', STS: 'sts' };

const instrumented = Symbol.for('codepipeline-sequencer.local-clients');
const callRecorder = 'local-aws-calls-by-function';

/** What an SDK client's requestHandler is handed and gives back, as far as the engine reads it. */
interface SdkRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}
interface SdkRequestHandler {
  handle(request: SdkRequest, options?: unknown): Promise<{ response: unknown }>;
  [key: string]: unknown;
}

/**
 * A request body as text. The SDK's JSON bodies are Uint8Arrays that warn when read as strings
 * (Buffer.from(body) would, through valueOf): read the bytes themselves.
 */
function wireText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  const bytes = body as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** The endpoints this process serves itself (the emulator's), each with its answer. */
const servedHere = new Map<string, RunningServer['answer']>();

/** From now on, this process's clients reach `endpoint` through `answer`, without a socket. */
export const answerHere = (endpoint: string, answer: RunningServer['answer']) => void servedHere.set(endpoint, answer);
/** `endpoint` is served no more (closed): a client sending to it gets the socket's own refusal. */
export const stopAnsweringHere = (endpoint: string) => void servedHere.delete(endpoint);

/**
 * `handler`, except that a request to an endpoint this process serves is answered by calling the
 * server's answer: the SDK still builds, signs, retries and parses every request and answer as on
 * the wire, and the server routes it as it routes one from a socket; only the loopback socket and
 * its HTTP parsing are skipped (a polled run takes a quarter less CPU). Another process (the AWS
 * CLI, `sequencer start`) still reaches the emulator over HTTP.
 */
function answeringHere(handler: SdkRequestHandler): SdkRequestHandler {
  const handle = async (request: SdkRequest, options?: unknown) => {
    const answer = servedHere.get(`${request.protocol}//${request.hostname}:${request.port}`);
    if (!answer) return handler.handle(request, options);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
    const body = wireText(request.body);
    const answered = await answer({ method: request.method, headers, body }).catch((error: unknown) => {
      // The server destroys the socket of a request it failed to answer: the SDK's Node handler
      // rejects with the reset named TimeoutError, which the SDK retries; so here.
      throw Object.assign(new Error('socket hang up', { cause: error }), { name: 'TimeoutError', code: 'ECONNRESET' });
    });
    return { response: { statusCode: answered.status, headers: answered.headers, body: Buffer.from(answered.body) } };
  };
  // The handler itself for everything else (its config, destroy()).
  return new Proxy(handler, {
    get: (target, property, receiver) => (property === 'handle' ? handle : (Reflect.get(target, property, receiver) as unknown)),
  });
}

/**
 * Every SDK client in this process (the functions' module-level ones, the per-account ones made
 * on the fly, the lazily loaded Step Functions and STS ones) sends through the one
 * Client.prototype.send of @smithy/core. At its first call each client gets:
 * - a middleware that files each call made inside a function's invocation by the key that signed it;
 * - a requestHandler that answers the emulator's requests in process (answeringHere).
 */
export function instrumentClients(): void {
  type AnyClient = {
    send: (...args: unknown[]) => unknown;
    config: { serviceId?: string; requestHandler: SdkRequestHandler };
    middlewareStack: { add: (middleware: unknown, options: object) => void };
    /** The middleware chains a client with cacheMiddleware resolved at its first calls (src/client-settings.ts). */
    handlers?: unknown;
    [instrumented]?: true;
  };
  const client = Object.getPrototypeOf(SFNClient.prototype) as AnyClient;
  if (client[instrumented]) return;
  const send = client.send;
  const seen = new WeakSet<object>();
  client.send = function (this: AnyClient, ...args: unknown[]) {
    if (!seen.has(this)) {
      seen.add(this);
      this.config.requestHandler = answeringHere(this.config.requestHandler);
      const service = this.config.serviceId ?? 'unknown';
      this.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: { request?: { headers?: Record<string, string> } }) => {
          const caller = invokedAs.getStore();
          if (caller !== undefined) {
            const { accessKeyId = '' } = callerOf(args.request?.headers?.authorization);
            const calls = accessKeyId.startsWith(temporaryKeyPrefix) ? assumedRoleCallsByFunction : awsCallsByFunction;
            (calls.get(caller) ?? calls.set(caller, new Set()).get(caller)!).add(`${iamPrefixOf[service] ?? service}:${String(context.commandName).replace(/Command$/, '')}`);
          }
          return next(args);
        },
        // After signing, where the request is as it goes out (a retry passes here again).
        { step: 'deserialize', name: callRecorder },
      );
      // A chain resolved before (a call made before the engine started) would go on without these.
      delete this.handlers;
    }
    return send.apply(this, args);
  };
  client[instrumented] = true;
}
