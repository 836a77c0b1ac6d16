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

/** A request's endpoint, as servedHere names it (`http://127.0.0.1:4599`). */
const endpointOf = (request: SdkRequest) => `${request.protocol}//${request.hostname}:${request.port}`;

/** From now on, this process's clients reach `endpoint` through `answer`, without a socket. */
export const answerHere = (endpoint: string, answer: RunningServer['answer']) => void servedHere.set(endpoint, answer);
/** `endpoint` is served no more (closed): a client sending to it gets the socket's own refusal. */
export const stopAnsweringHere = (endpoint: string) => void servedHere.delete(endpoint);

/**
 * `handler`, except that a request to an endpoint this process serves is answered by calling the
 * server's answer: the SDK still builds, signs (signingHere leaves out the hashes), retries and
 * parses every request and answer as on the wire, and the server routes it as it routes one from a
 * socket; only the loopback socket and its HTTP parsing are skipped (a polled run takes a quarter
 * less CPU). Another process (the AWS CLI, `sequencer start`) still reaches the emulator over HTTP.
 */
function answeringHere(handler: SdkRequestHandler): SdkRequestHandler {
  const handle = async (request: SdkRequest, options?: unknown) => {
    const answer = servedHere.get(endpointOf(request));
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

/** An SDK client, as far as the engine reads it. */
type AnyClient = {
  send: (...args: unknown[]) => unknown;
  config: {
    serviceId?: string;
    requestHandler: SdkRequestHandler;
    signer: SdkSignerProvider;
    credentials: Credentials | (() => Promise<Credentials>);
    region: () => Promise<string>;
    /** Set by the SDK's signer provider (the service's signing name), before it gives a signer. */
    signingName?: string;
  };
  middlewareStack: { add: (middleware: unknown, options: object) => void };
  /** The middleware chains a client with cacheMiddleware resolved at its first calls (src/client-settings.ts). */
  handlers?: unknown;
  [instrumented]?: true;
};
interface Credentials {
  accessKeyId: string;
  sessionToken?: string;
}

/** What a client's config.signer gives: SignatureV4, as far as the engine reads it. */
interface SdkSigner {
  sign(request: SdkRequest, options?: { signingDate?: Date; signingRegion?: string; signingService?: string }): Promise<SdkRequest>;
  [key: string]: unknown;
}
type SdkSignerProvider = (authScheme?: unknown) => Promise<SdkSigner>;

/**
 * `signerOf`, except that a request to an endpoint this process serves gets SigV4's headers
 * without their hashes: the emulator and dynalite read who signed it (the Credential's key and
 * region) and that the header is whole, never the signature, which is here a placeholder. The
 * hashes took a tenth of the CPU of the train and reliability tests (54 against 48 CPU-s,
 * alternated; Node 24's createHmac with a Buffer key alone takes 24 µs). A request to any other
 * endpoint (AWS itself, another process's emulator) is signed as the SDK signs it.
 */
function signingHere(signerOf: SdkSignerProvider, config: AnyClient['config']): SdkSignerProvider {
  return async (authScheme) => {
    const signer = await signerOf(authScheme);
    const sign: SdkSigner['sign'] = async (request, options = {}) => {
      if (!servedHere.has(endpointOf(request))) return signer.sign(request, options);
      const credentials = typeof config.credentials === 'function' ? await config.credentials() : config.credentials;
      const region = options.signingRegion ?? (await config.region());
      const longDate = (options.signingDate ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, '');
      const headers: Record<string, string> = { ...request.headers, 'x-amz-date': longDate };
      if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
      headers.authorization =
        `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${longDate.slice(0, 8)}/${region}/${options.signingService ?? config.signingName}/aws4_request, ` +
        `SignedHeaders=host;x-amz-date, Signature=${unsignedSignature}`;
      return Object.assign(Object.create(Object.getPrototypeOf(request) as object) as SdkRequest, request, { headers });
    };
    return new Proxy(signer, { get: (target, property, receiver) => (property === 'sign' ? sign : (Reflect.get(target, property, receiver) as unknown)) });
  };
}
/** The placeholder signature of a request answered in this process: 64 hex digits, as SigV4's are. */
const unsignedSignature = '0'.repeat(64);

/**
 * Every SDK client in this process (the functions' module-level ones, the per-account ones made
 * on the fly, the lazily loaded Step Functions and STS ones) sends through the one
 * Client.prototype.send of @smithy/core. At its first call each client gets:
 * - a middleware that files each call made inside a function's invocation by the key that signed it;
 * - a requestHandler that answers the emulator's requests in process (answeringHere);
 * - a signer that leaves the hashes out of those requests' signatures (signingHere).
 */
export function instrumentClients(): void {
  const client = Object.getPrototypeOf(SFNClient.prototype) as AnyClient;
  if (client[instrumented]) return;
  const send = client.send;
  const seen = new WeakSet<object>();
  client.send = function (this: AnyClient, ...args: unknown[]) {
    if (!seen.has(this)) {
      seen.add(this);
      this.config.requestHandler = answeringHere(this.config.requestHandler);
      this.config.signer = signingHere(this.config.signer, this.config);
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
