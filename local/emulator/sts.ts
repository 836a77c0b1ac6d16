import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { hubAccountId, worldRoleArn, type World } from '../world.js';
import type { Caller } from './server.js';

/**
 * STS AssumeRole as the world's accounts allow it, and which account each access key belongs
 * to. The hub's own keys (whatever the local environment signs with) are the hub's; keys this
 * STS issued belong to the account whose role was assumed; any other temporary key is unknown.
 * Only `AssumeRole` is served: it is the only STS call the sequencer makes.
 */

export interface AssumeRoleRecord {
  callerAccountId: string;
  roleArn: string;
  sessionName: string;
  granted: boolean;
  /** The key of the credentials issued, when granted: the calls they signed carry it too (CodePipelineCall). */
  accessKeyId?: string;
}

/** STS's limits (API reference, AssumeRole); role chaining caps the session at an hour. */
const sessionNamePattern = /^[\w+=,.@-]{2,64}$/;
const minDurationSeconds = 900;
const maxChainedDurationSeconds = 3600;
/** The prefix of the access keys AssumeRole issues, as AWS's own temporary keys have. */
export const temporaryKeyPrefix = 'ASIA';

export class StsEmulator {
  /** Each key AssumeRole issued: the account it signs for, and the session it is (a caller's identity). */
  private readonly sessionByAccessKey = new Map<string, { accountId: string; identity: string }>();
  private readonly assumed: AssumeRoleRecord[] = [];
  private issued = 0;

  private readonly world: Pick<World, 'accounts'>;
  private readonly clock: Clock;

  constructor(
    world: Pick<World, 'accounts'>,
    clock: Clock,
  ) {
    this.world = world;
    this.clock = clock;
  }

  /** The account whose credentials signed a call, or undefined for a temporary key STS never issued. */
  accountOf(caller: Caller): string | undefined {
    const key = caller.accessKeyId;
    if (key === undefined) return hubAccountId;
    const session = this.sessionByAccessKey.get(key);
    if (session !== undefined) return session.accountId;
    return key.startsWith(temporaryKeyPrefix) ? undefined : hubAccountId;
  }

  /**
   * Who signed a call, as AWS names a caller (a trigger's triggerDetail): an assumed role's
   * session, or, for the hub's own keys, the functions' role as the local stage names it.
   */
  identityOf(caller: Caller): string {
    const key = caller.accessKeyId;
    return (key !== undefined && this.sessionByAccessKey.get(key)?.identity) || `arn:aws:sts::${hubAccountId}:assumed-role/codepipeline-sequencer-local/codepipeline-sequencer-local`;
  }

  /** Every AssumeRole answered, granted or not, in order. */
  assumeRoleCalls(): AssumeRoleRecord[] {
    return this.assumed.map((record) => ({ ...record }));
  }

  readonly query = (action: string, params: URLSearchParams, caller: Caller): { httpStatus: number; xml: string } => {
    if (action !== 'AssumeRole') return errorXml(400, 'Sender', 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
    const callerAccountId = this.accountOf(caller);
    if (callerAccountId === undefined) return errorXml(403, 'Sender', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const roleArn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    const durationSeconds = Number(params.get('DurationSeconds') ?? minDurationSeconds);
    if (!sessionNamePattern.test(sessionName)) {
      return errorXml(400, 'Sender', 'ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    if (!Number.isInteger(durationSeconds) || durationSeconds < minDurationSeconds || durationSeconds > maxChainedDurationSeconds) {
      return errorXml(400, 'Sender', 'ValidationError', `The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.`);
    }
    const account = (this.world.accounts ?? []).find((candidate) => worldRoleArn(candidate) === roleArn);
    const granted = account !== undefined && account.role.trusts.includes(callerAccountId);
    const record: AssumeRoleRecord = { callerAccountId, roleArn, sessionName, granted };
    this.assumed.push(record);
    if (!granted) {
      // AWS answers a missing role and a trust that does not admit the caller alike.
      return errorXml(403, 'Sender', 'AccessDenied', `User: arn:aws:sts::${callerAccountId}:assumed-role/codepipeline-sequencer-local/${sessionName} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    this.issued += 1;
    const digest = createHash('sha256').update(`${roleArn}/${sessionName}/${this.issued}`).digest('hex').toUpperCase();
    const accessKeyId = `${temporaryKeyPrefix}${digest.slice(0, 16)}`;
    record.accessKeyId = accessKeyId;
    const expiration = new Date(this.clock.now() + durationSeconds * 1000).toISOString();
    const roleName = roleArn.slice(roleArn.indexOf(':role/') + ':role/'.length);
    this.sessionByAccessKey.set(accessKeyId, { accountId: account.id, identity: `arn:aws:sts::${account.id}:assumed-role/${roleName}/${sessionName}` });
    return {
      httpStatus: 200,
      xml: [
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>',
        `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${digest.slice(16, 56)}</SecretAccessKey>`,
        `<SessionToken>emulated-${digest.slice(0, 32)}</SessionToken><Expiration>${expiration}</Expiration></Credentials>`,
        `<AssumedRoleUser><AssumedRoleId>AROA${digest.slice(40, 56)}:${escapeXml(sessionName)}</AssumedRoleId>`,
        `<Arn>arn:aws:sts::${account.id}:assumed-role/${escapeXml(roleName)}/${escapeXml(sessionName)}</Arn></AssumedRoleUser>`,
        '</AssumeRoleResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></AssumeRoleResponse>',
      ].join(''),
    };
  };
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function errorXml(httpStatus: number, type: string, code: string, message: string) {
  return {
    httpStatus,
    xml: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`,
  };
}
