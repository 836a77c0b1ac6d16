import { readFileSync } from 'node:fs';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { projectRoot } from '../local/stage.js';
import { BadOption, SetupProblem } from './errors.js';

/**
 * What every AWS-facing command (status, start, stop, redrive) shares: where it looks (region,
 * profile, endpoint), the stage's state machine, and one line for each way AWS can be out of
 * reach. A problem here is never exit 1, which means "the train failed".
 */

export interface Target {
  region: string;
  profile?: string;
  /** AWS_ENDPOINT_URL_SFN (or AWS_ENDPOINT_URL), when set: a local emulator, usually. */
  endpoint?: string;
  /** Which of the two variables set `endpoint`. */
  endpointVariable?: 'AWS_ENDPOINT_URL_SFN' | 'AWS_ENDPOINT_URL';
  local: boolean;
  /** Signs with the emulator's dummy credentials: a local endpoint, and neither AWS_ACCESS_KEY_ID nor --profile given. */
  dummyCredentials: boolean;
}

/**
 * The region `sls deploy` uses when it is not told one: the default in serverless.yml's
 * `region: ${opt:region, 'us-east-1'}`, so a command finds what a plain deploy made.
 */
export function deploymentRegion(): string {
  const text = readFileSync(`${projectRoot}serverless.yml`, 'utf8');
  return /^\s*region:\s*\$\{opt:region,\s*'([a-z0-9-]+)'\}/m.exec(text)?.[1] ?? /^\s*region:\s*([a-z0-9-]+)\s*$/m.exec(text)?.[1] ?? 'us-east-1';
}

/** --region, else AWS_REGION, else the deployment's default; --profile, else AWS_PROFILE (the SDK reads it). */
export function targetOf(options: { region?: string | undefined; profile?: string | undefined }, env: NodeJS.ProcessEnv): Target {
  if (options.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region)) {
    throw new BadOption(`--region '${options.region}' is not a region name, e.g. us-east-1`);
  }
  if (options.profile !== undefined && options.profile.trim() === '') throw new BadOption('--profile is empty');
  // As the SDK reads them: an empty variable is not set (a CI file's unused `${{ inputs.endpoint }}`).
  const endpoint = env.AWS_ENDPOINT_URL_SFN || env.AWS_ENDPOINT_URL || undefined;
  const variable = env.AWS_ENDPOINT_URL_SFN ? 'AWS_ENDPOINT_URL_SFN' : 'AWS_ENDPOINT_URL';
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/i.test(endpoint)) {
    throw new SetupProblem(`${variable} '${endpoint}' is not an http(s) URL, e.g. http://127.0.0.1:4599 for a local emulator`);
  }
  const local = endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/i.test(endpoint);
  return {
    region: options.region ?? (env.AWS_REGION || deploymentRegion()),
    ...(options.profile !== undefined && { profile: options.profile }),
    ...(endpoint !== undefined && { endpoint, endpointVariable: variable }),
    local,
    dummyCredentials: local && !env.AWS_ACCESS_KEY_ID && options.profile === undefined,
  };
}

/**
 * How long a call may wait for a connection, and then for its answer, before it fails as the
 * endpoint being out of reach (TimeoutError): Step Functions answers in well under a second, and
 * a server that takes the connection and never answers must not hold a command for ever.
 */
export const connectionTimeoutMs = 5_000;
export const requestTimeoutMs = 30_000;

/**
 * The Step Functions client: the default credential chain (or --profile) in the target region.
 * Pointed at a local emulator with no AWS_ACCESS_KEY_ID and no --profile, it signs with dummy
 * credentials, which the emulator does not check. Every call ends when `signal` does (Ctrl-C,
 * SIGTERM), the one in flight included.
 */
export function sfnClient(target: Target, signal: AbortSignal): SFNClient {
  const client = new SFNClient({
    region: target.region,
    ...(target.profile !== undefined && { profile: target.profile }),
    ...(target.dummyCredentials && { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    requestHandler: { connectionTimeout: connectionTimeoutMs, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  });
  const send = client.send.bind(client) as (command: unknown, options?: object) => Promise<unknown>;
  client.send = ((command: unknown, options?: object) => send(command, { abortSignal: signal, ...options })) as SFNClient['send'];
  return client;
}

/** The state machine `sls deploy` names for a stage. */
export const stageStateMachineName = (stage: string) => `codepipeline-sequencer-${stage}`;

/**
 * The stage's state machine ARN, as ListStateMachines names it. Not there: say in which region
 * and account it was looked for, since the usual mistake is the wrong one of either.
 */
export async function stageStateMachine(client: SFNClient, target: Target, stage: string): Promise<string> {
  const name = stageStateMachineName(stage);
  const seen: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListStateMachinesCommand({ maxResults: 1000, nextToken }));
    const found = page.stateMachines?.find((stateMachine) => stateMachine.name === name);
    if (found) return found.stateMachineArn!;
    seen.push(...(page.stateMachines ?? []).map((stateMachine) => stateMachine.stateMachineArn!));
    nextToken = page.nextToken;
  } while (nextToken);
  const account = seen[0]?.split(':')[4] ?? (await callerAccount(target));
  const others = seen.filter((arn) => arn.split(':').at(-1)!.startsWith('codepipeline-sequencer-')).map((arn) => arn.split(':').at(-1)!);
  throw new SetupProblem(
    `there is no state machine ${name} (stage '${stage}') in region ${target.region}${account !== undefined ? `, account ${account}` : ''}` +
      `${others.length > 0 ? `; there is ${others.join(', ')}` : ''}; deploy it with 'npx --no sls deploy --stage ${stage} --region ${target.region}', or give --stage, --region or --profile`,
  );
}

/** The account the credentials belong to (STS GetCallerIdentity); a local emulator has no STS, and says it in its ARNs. */
async function callerAccount(target: Target): Promise<string | undefined> {
  if (target.local) return undefined;
  const sts = new STSClient({ region: target.region, ...(target.profile !== undefined && { profile: target.profile }), maxAttempts: 1 });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

/** The AWS console page of an execution. */
export const consoleLink = (region: string, executionArn: string) =>
  `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;

/*
 * What `--execution` may be: a name Step Functions accepts (1 to 80 characters, none of them
 * white space, brackets, wildcards, " # % \ ^ | ~ ` $ & , ; : / or control characters) or the
 * ARN of an execution. Checked here so a typo is a clear refusal, not an AWS error code.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what AWS forbids in names
const legalName = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u;
const executionArnPattern = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([^:]+):([^:]+)$/;

/** An --execution value checked: its ARN (with the region and state machine it names), given one; its name, given a name. */
export function checkExecutionOption(value: string | undefined): { arn?: string; name?: string; region?: string; stateMachineName?: string } {
  if (value === undefined) return {};
  if (value === '') throw new BadOption('--execution is empty; give an execution name or ARN, or leave it out for the stage’s train');
  if (value.startsWith('arn:')) {
    if (/^arn:aws[a-z-]*:states:[^:]*:[^:]*:stateMachine:/.test(value)) {
      throw new BadOption(`--execution ${value} is a state machine ARN; give an execution's ARN or name (or --stage for the stage's train)`);
    }
    const parts = executionArnPattern.exec(value);
    if (!parts || !legalName.test(parts[3]!) || !legalName.test(parts[4]!)) {
      throw new BadOption(`--execution ${JSON.stringify(value)} is not an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)`);
    }
    return { arn: value, region: parts[1]!, stateMachineName: parts[3]! };
  }
  return { name: checkExecutionName('--execution', value) };
}

/** A name Step Functions accepts for an execution, or a clear refusal naming the option. */
export function checkExecutionName(option: string, value: string): string {
  if (!legalName.test(value)) {
    throw new BadOption(`${option} ${JSON.stringify(value)} is not an execution name: 1 to 80 characters, without spaces, brackets, wildcards or " # % \\ ^ | ~ \` $ & , ; : /`);
  }
  return value;
}

/** The endpoint could not be reached at all: refused, reset, timed out, or not found by DNS. */
export function isUnreachable(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: string; code?: string };
  return ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH'].includes(code ?? '') || name === 'TimeoutError';
}

/** What may well answer if asked again in a while: an endpoint out of reach, or a server error (5xx). */
export function isTransient(error: unknown): boolean {
  const { $fault, $metadata } = (error ?? {}) as { $fault?: string; $metadata?: { httpStatusCode?: number } };
  return isUnreachable(error) || $fault === 'server' || ($metadata?.httpStatusCode ?? 0) >= 500;
}

/**
 * AWS out of reach, or refusing, as one line saying what to do; undefined for anything else.
 * `doing` names the call's purpose, e.g. "read executions".
 */
export function setupProblemOf(error: unknown, target: Target): SetupProblem | undefined {
  if (error instanceof SetupProblem) return error;
  const { name, code, message } = (error ?? {}) as { name?: string; code?: string; message?: string };
  const where = target.endpoint ?? `Step Functions in ${target.region}`;
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(name ?? '')) {
    // Pointed at the emulator, the user's own credentials (or profile) turned off its dummy ones.
    const instead =
      target.local && !target.dummyCredentials
        ? `; ${target.endpointVariable} points at an emulator, whose dummy credentials are used only without ${target.profile ? '--profile' : 'AWS_ACCESS_KEY_ID (set, here, without a whole key pair)'}: ${target.profile ? 'leave --profile out' : 'unset it, or set AWS_SECRET_ACCESS_KEY too'}`
        : '; set AWS_PROFILE or --profile, or AWS credentials, or AWS_ENDPOINT_URL_SFN for a local emulator';
    return new SetupProblem(`no AWS credentials found${target.profile ? ` for profile ${target.profile}` : ''} (${message})${instead}`);
  }
  // An answer that is not Step Functions' (a wrong port, a proxy's page): the SDK could not read it.
  const response = (error as { $response?: { statusCode?: number; headers?: Record<string, string> } } | null)?.$response;
  if (response !== undefined && (name === 'SyntaxError' || /Deserialization error/.test(message ?? ''))) {
    const type = response.headers?.['content-type'];
    const hint = target.endpoint !== undefined ? `is ${target.endpointVariable} the emulator's address?` : 'is a proxy in the way?';
    return new SetupProblem(`${where} answered with HTTP ${response.statusCode ?? '?'}${type ? ` (${type})` : ''}, not as Step Functions does; ${hint}`);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnrecognizedClientException' || name === 'InvalidSignatureException' || name === 'ExpiredTokenException') {
    return new SetupProblem(`access denied by ${where} (${name}: ${message}); check the credentials${target.profile ? ` of profile ${target.profile}` : ''} and their states:* permissions`);
  }
  if (isUnreachable(error)) {
    return new SetupProblem(`cannot reach ${target.endpoint ?? `Step Functions in ${target.region}`} (${code ?? name}); is the emulator (or the network) up?`);
  }
  if (message === 'Region is missing') return new SetupProblem('no AWS region: give --region, or set AWS_REGION');
  if (name === 'InvalidArn') return new SetupProblem(`${where} refused an ARN: ${message}`);
  if (name === 'ExecutionDoesNotExist') return new SetupProblem(`there is no such execution in region ${target.region}: ${message}`);
  if (name === 'StateMachineDoesNotExist') return new SetupProblem(`there is no such state machine in region ${target.region}: ${message}`);
  return undefined;
}
