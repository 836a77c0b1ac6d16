import type { StageConfig } from './config.js';
import { ConfigurationError } from './errors.js';
import type { PipelineLocation } from './run.js';

/**
 * Where each pipeline of a stage lives. A stage's `pipelines` entry is a name (a pipeline in the
 * functions' own account and region), or `{ name, arn }` for a pipeline elsewhere: `name` is the
 * identity the sequencer uses everywhere (order, sequences, variables, `#{name.Ns.VAR}`, results),
 * the ARN says which pipeline in which account and region that is. Two pipelines may share a
 * CodePipeline name in different accounts or regions; they never share a sequencer name, and
 * `pipelineKey` tells them apart wherever a pipeline is found by what AWS reports (events).
 */

/** A CodePipeline ARN: partition, region, 12-digit account, pipeline name (CodePipeline's own rule). */
export const codePipelineArnPattern = /^arn:(aws|aws-cn|aws-us-gov):codepipeline:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([A-Za-z0-9.@\-_]{1,100})$/;

/** An IAM role ARN: a path of IAM's characters, a role name of 1 to 64 of them. */
export const roleArnPattern = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

export const accountIdPattern = /^\d{12}$/;

/** Where a pipeline in another account (or region) is, and the role that reaches it. */
export interface RemoteLocation {
  partition: string;
  accountId: string;
  region: string;
  roleArn: string;
}

export interface PipelineTarget {
  /** The sequencer's name for it: the identity in orders, variables, references and results. */
  name: string;
  /** Its name in CodePipeline, as the API calls take it. */
  pipelineName: string;
  /** Absent for a pipeline in the functions' own account and region. */
  remote?: RemoteLocation;
}

export type PipelineEntry = StageConfig['pipelines'][number];

export function parseCodePipelineArn(arn: string): { partition: string; region: string; accountId: string; pipelineName: string } | undefined {
  const match = codePipelineArnPattern.exec(arn);
  return match ? { partition: match[1]!, region: match[2]!, accountId: match[3]!, pipelineName: match[4]! } : undefined;
}

export const entryName = (entry: PipelineEntry): string => (typeof entry === 'string' ? entry : entry.name);

/** The sequencer names the stage allows, in the stage's order. */
export const pipelineNames = (config: Pick<StageConfig, 'pipelines'>): string[] => config.pipelines.map(entryName);

/**
 * The one key that tells pipelines apart across accounts and regions: what a CodePipeline event
 * carries (`account`, `region`, `detail.pipeline`) maps to exactly one key, whatever the sequencer
 * calls the pipeline. The event path finds a run's member by this key, never by name alone.
 */
export const pipelineKey = (accountId: string, region: string, pipelineName: string): string => `${accountId}/${region}/${pipelineName}`;

/** The key of a stage's pipeline; `home` is the functions' own account and region, for local pipelines. */
export function targetKey(target: PipelineTarget, home: { accountId: string; region: string }): string {
  return target.remote
    ? pipelineKey(target.remote.accountId, target.remote.region, target.pipelineName)
    : pipelineKey(home.accountId, home.region, target.pipelineName);
}

/**
 * The stage's pipeline that a CodePipeline event is about, by the event's `account`, `region` and
 * `detail.pipeline`, or undefined when the stage has no such pipeline (someone else's namesake).
 */
export function targetForEvent(
  config: Pick<StageConfig, 'pipelines' | 'accounts'>,
  home: { accountId: string; region: string },
  event: { accountId: string; region: string; pipelineName: string },
): PipelineTarget | undefined {
  const key = pipelineKey(event.accountId, event.region, event.pipelineName);
  return config.pipelines.map((entry) => targetOf(config, entryName(entry))).find((target) => targetKey(target, home) === key);
}

/** Where the stage's pipeline `name` lives. A name the stage does not list is taken as local (decide-order refuses it first). */
export function targetOf(config: Pick<StageConfig, 'pipelines' | 'accounts'>, name: string): PipelineTarget {
  const entry = config.pipelines.find((candidate) => entryName(candidate) === name);
  if (entry === undefined || typeof entry === 'string') return { name, pipelineName: name };
  const location = parseCodePipelineArn(entry.arn)!;
  const roleArn = config.accounts?.[location.accountId]?.roleArn;
  // Never fall back to the functions' own credentials: they would reach a namesake in the hub account.
  if (roleArn === undefined) throw new ConfigurationError(`STAGE_CONFIG.accounts: account ${location.accountId} of '${name}' has no role`);
  return {
    name,
    pipelineName: location.pipelineName,
    remote: { partition: location.partition, accountId: location.accountId, region: location.region, roleArn },
  };
}

/** Where a pipeline elsewhere runs, under its own CodePipeline name; undefined for one in the functions' own account and region. */
export const locationOf = ({ remote, pipelineName }: PipelineTarget): PipelineLocation | undefined =>
  remote && { accountId: remote.accountId, region: remote.region, pipelineName };

/**
 * Where a pipeline elsewhere is, to follow a request that names the stage's name for it:
 * `pipeline 'deploy-api' in account 222233334444, region eu-west-1, through role arn:...`.
 */
export function describeLocation(target: PipelineTarget & { remote: RemoteLocation }): string {
  const { accountId, region, roleArn } = target.remote;
  return `pipeline '${target.pipelineName}' in account ${accountId}, region ${region}, through role ${roleArn}`;
}

/**
 * What the schema alone cannot see, each as the field's path and what is wrong with it (as the
 * schema's own issues are), none when all is well: names and locations unique, every account a pipeline lives in has a role,
 * every role in its own account and used. sls package refuses the same through this code
 * (src/stage-params.ts), one line each.
 */
export function targetProblems(config: Pick<StageConfig, 'pipelines' | 'accounts'>): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push({ path, message });
  const names = new Map<string, number>();
  const locations = new Map<string, number>();
  const usedAccounts = new Set<string>();
  for (const [index, entry] of config.pipelines.entries()) {
    const name = entryName(entry);
    if (names.has(name)) problem(['pipelines', index], `'${name}' is listed twice (also pipelines.${names.get(name)})`);
    else names.set(name, index);
    if (typeof entry === 'string') continue;
    const location = parseCodePipelineArn(entry.arn)!;
    const key = pipelineKey(location.accountId, location.region, location.pipelineName);
    if (locations.has(key)) problem(['pipelines', index, 'arn'], `${entry.arn} is also pipelines.${locations.get(key)}; a pipeline has one name in a stage`);
    else locations.set(key, index);
    if (config.accounts?.[location.accountId] === undefined) {
      problem(['pipelines', index, 'arn'], `account ${location.accountId} has no role: add accounts."${location.accountId}".roleArn`);
    }
    usedAccounts.add(location.accountId);
  }
  for (const [accountId, { roleArn }] of Object.entries(config.accounts ?? {})) {
    const role = roleArnPattern.exec(roleArn);
    if (role && role[2] !== accountId) problem(['accounts', accountId, 'roleArn'], `${roleArn} is a role in account ${role[2]}, not ${accountId}`);
    if (!usedAccounts.has(accountId)) problem(['accounts', accountId], 'no pipeline of the stage lives in this account; remove it (the hub may assume only roles it needs)');
  }
  return problems;
}
