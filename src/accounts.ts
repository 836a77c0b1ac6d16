import { createHash } from 'node:crypto';
import type { STSClient } from '@aws-sdk/client-sts';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { awsErrorVerdict } from './aws-errors.js';
import { clientSettings } from './client-settings.js';
import { AwsUnavailable, PipelineAccessDenied } from './errors.js';
import { nowMs } from './clock.js';
import type { PipelineTarget } from './targets.js';

/**
 * Reaching pipelines in other accounts: every CodePipeline call for such a pipeline is made with
 * credentials of that account's role (AssumeRole), from a CodePipeline client for exactly that
 * account and region. Credentials live only as long as one invocation (`beginInvocation` forgets
 * them), are kept per account so they never serve another, and are never logged.
 */

type StsSdk = typeof import('@aws-sdk/client-sts');

let loadedSts: Promise<{ sdk: StsSdk; client: STSClient }> | undefined;

/**
 * The STS client, loaded at the first AssumeRole, then kept: only a stage with pipelines in other
 * accounts calls STS, so its code is a chunk of its own, outside every function's cold start
 * (esbuild's `splitting`). Region and endpoint from the SDK's configuration.
 */
function sts(): Promise<{ sdk: StsSdk; client: STSClient }> {
  loadedSts ??= import('@aws-sdk/client-sts').then((sdk) => ({ sdk, client: new sdk.STSClient(clientSettings) }));
  return loadedSts;
}

/**
 * STS's shortest session: an invocation lasts seconds, and role chaining caps a session at an
 * hour anyway. A session that outlived the invocation would be worth nothing to anyone.
 */
const sessionSeconds = 900;
/** Credentials this close to their expiry are renewed rather than used for another call. */
const renewBeforeExpiryMs = 60_000;

/** RoleSessionName: 2 to 64 of `\w+=,.@-` (STS API reference). */
const sessionNameChars = /[^\w+=,.@-]/g;
const maxSessionName = 64;

/**
 * The run's name as a RoleSessionName, so the target account's CloudTrail shows which run
 * called: the execution name itself when STS takes it, else its head and a digest of the whole
 * (execution names reach 80 characters and allow characters STS does not).
 */
export function roleSessionName(executionName: string): string {
  const clean = executionName.replace(sessionNameChars, '-');
  if (clean === executionName && clean.length >= 2 && clean.length <= maxSessionName) return clean;
  const digest = createHash('sha256').update(executionName).digest('hex').slice(0, 12);
  return `${clean.slice(0, maxSessionName - digest.length - 1)}-${digest}`;
}

interface Invocation {
  sessionName: string;
  credentials: Map<string, Promise<AwsCredentialIdentity>>;
  clients: Map<string, CodePipelineClient>;
}

const unnamedRun = 'codepipeline-sequencer';
let invocation: Invocation = { sessionName: unnamedRun, credentials: new Map(), clients: new Map() };

/** Called as each handler starts: forgets every credential and client of the previous invocation. */
export function beginInvocation(executionName: string | undefined): void {
  for (const client of invocation.clients.values()) client.destroy();
  invocation = {
    sessionName: executionName === undefined ? unnamedRun : roleSessionName(executionName),
    credentials: new Map(),
    clients: new Map(),
  };
}

/** STS's Query protocol says `Throttling` where JSON APIs say ThrottlingException: it passes. */
const throttledAssumeRole = new Set(['Throttling', 'IDPCommunicationError']);
/** The errors that say the role cannot be assumed by us: people fix them, waiting does not. */
const refusedAssumeRole = new Set(['AccessDenied', 'AccessDeniedException', 'RegionDisabledException', 'ExpiredTokenException', 'InvalidClientTokenId']);

/** The answers of a trust policy that does not admit the caller. */
const deniedAssumeRole = new Set(['AccessDenied', 'AccessDeniedException']);

/**
 * IAM keeps a role named in a trust policy by its unique id: a hub role deleted and created again
 * (a stage removed and deployed again) keeps its ARN but is no longer the role trusted.
 */
const trustHint =
  ". The role's trust policy must admit this function's role (deploy/target-account.yml's HubRoleArns, the sweeper's role too, or OrganizationId); a hub role deleted and created again since that stack was deployed is not the one it trusts: deploy it again";

/** Errors of AssumeRole itself: codepipeline.ts names the pipeline the call was for. */
const assumeRoleFailures = new WeakSet<Error>();
export const isAssumeRoleFailure = (error: unknown): error is Error => error instanceof Error && assumeRoleFailures.has(error);

type RemoteTarget = PipelineTarget & { remote: NonNullable<PipelineTarget['remote']> };

async function assumeRole(remote: RemoteTarget['remote']): Promise<AwsCredentialIdentity> {
  const { roleArn, accountId } = remote;
  try {
    const { sdk, client } = await sts();
    const { Credentials } = await client.send(
      new sdk.AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: invocation.sessionName, DurationSeconds: sessionSeconds }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      ...(Credentials.SessionToken ? { sessionToken: Credentials.SessionToken } : {}),
      ...(Credentials.Expiration ? { expiration: Credentials.Expiration } : {}),
    };
  } catch (error) {
    const { name = 'UnknownError', message = '' } = error as { name?: string; message?: string };
    // Only the error's name and message: never the request, which a verbose SDK error may echo.
    const said = `AssumeRole ${roleArn} (account ${accountId}) as session ${invocation.sessionName}: ${name}${message ? `: ${message}` : ''}${deniedAssumeRole.has(name) ? trustHint : ''}`;
    const refused = refusedAssumeRole.has(name) || (!throttledAssumeRole.has(name) && awsErrorVerdict(error) === 'rejected');
    const failure = refused ? new PipelineAccessDenied(said, { cause: error }) : new AwsUnavailable(said, { cause: error });
    assumeRoleFailures.add(failure);
    throw failure;
  }
}

/** The account's credentials, assumed once per invocation (concurrent calls share one AssumeRole), renewed only near expiry. */
async function credentialsFor(remote: RemoteTarget['remote']): Promise<AwsCredentialIdentity> {
  const { accountId } = remote;
  const cached = invocation.credentials.get(accountId);
  if (cached) {
    const credentials = await cached.catch(() => undefined);
    if (credentials && (credentials.expiration === undefined || credentials.expiration.getTime() - renewBeforeExpiryMs > nowMs())) return credentials;
  }
  const assumed = assumeRole(remote);
  const current = invocation;
  current.credentials.set(accountId, assumed);
  // A failed AssumeRole is not kept: the next call asks STS again.
  assumed.catch(() => {
    if (current.credentials.get(accountId) === assumed) current.credentials.delete(accountId);
  });
  return assumed;
}

/**
 * The CodePipeline client for a pipeline in another account: one per (account, region) per
 * invocation, signing with that account's role only. `local` is the functions' own client.
 */
export async function codePipelineFor(target: PipelineTarget, local: CodePipelineClient): Promise<CodePipelineClient> {
  if (!target.remote) return local;
  const remote = target.remote;
  const key = `${remote.accountId}/${remote.region}`;
  let client = invocation.clients.get(key);
  if (!client) {
    client = new CodePipelineClient({
      region: remote.region,
      ...clientSettings,
      credentials: () => credentialsFor(remote),
    });
    invocation.clients.set(key, client);
  }
  return client;
}
