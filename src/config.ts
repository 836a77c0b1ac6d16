import * as z from 'zod/mini';
import { ConfigurationError } from './errors.js';
import { continueAtEvents, minContinueAtEvents } from './history-budget.js';
import { maxPipelineTimeoutSeconds, maxPipelinesPerRun, pipelineNamePattern, sequenceNamePattern } from './names.js';
import { accountIdPattern, codePipelineArnPattern, roleArnPattern, targetProblems } from './targets.js';

const pipelineName = z.string({ error: 'must be a string' }).check(z.regex(pipelineNamePattern, 'is not a valid CodePipeline name'));
const list = (min: number, max: number) => [
  z.minLength(min, `must have at least ${min} item${min === 1 ? '' : 's'}`),
  z.maxLength(max, `must have at most ${max} items`),
];
const wholeNumber = (min: number, max: number) =>
  z.int({ error: 'must be a whole number' }).check(z.minimum(min, `must be at least ${min}`), z.maximum(max, `must be at most ${max}`));
// A pipeline in another account or region: the sequencer's name for it, and where it is (src/targets.ts).
const remotePipeline = z.strictObject(
  {
    name: pipelineName,
    arn: z.string({ error: 'must be a string' }).check(z.regex(codePipelineArnPattern, 'must be arn:aws:codepipeline:<region>:<account>:<pipeline>')),
  },
  { error: 'must be a pipeline name or { name, arn }' },
);
const account = z.strictObject(
  { roleArn: z.string({ error: 'must be a string' }).check(z.regex(roleArnPattern, 'must be arn:aws:iam::<account>:role/<name>')) },
  { error: 'must be { roleArn }' },
);
const sweepRule = 'must be a multiple of 60 from 60 to 3600: the sweeper runs on a rate in whole minutes';
const sequenceName = z.string({ error: 'must be a string' }).check(z.regex(sequenceNamePattern, 'is not a valid sequence name'));

/** The stage's params, as serverless.yml hands them to every function in STAGE_CONFIG. */
const stageConfigSchema = z.strictObject(
  {
    pipelines: z
      .array(z.union([pipelineName, remotePipeline], { error: 'must be a pipeline name or { name, arn }' }), { error: 'must be a list of pipeline names' })
      .check(...list(1, 500)),
    // The role the functions assume for each account that holds some of the pipelines.
    accounts: z.optional(
      z.record(z.string().check(z.regex(accountIdPattern, 'must be a 12-digit account id')), account, {
        error: 'must map account ids to { roleArn }',
      }),
    ),
    // An entry is a pipeline, or a group (a list) of pipelines that run at the same time; decide-order checks the rest.
    sequences: z.record(
      sequenceName,
      z
        .array(z.union([pipelineName, z.array(pipelineName)]), { error: 'must be a list of pipeline names or groups of them' })
        .check(...list(1, maxPipelinesPerRun)),
      { error: 'must map sequence names to lists of pipelines' },
    ),
    defaultSequence: sequenceName,
    pollSeconds: wholeNumber(1, 3600),
    maxPollSeconds: wholeNumber(1, 86_400),
    pipelineTimeoutSeconds: wholeNumber(60, maxPipelineTimeoutSeconds),
    onSuperseded: z.enum(['follow', 'fail'], { error: "must be 'follow' or 'fail'" }),
    // What a FAILED pipeline execution does to the train: fail it, or hold it until someone retries the stage or the deadline comes.
    onFailure: z._default(z.enum(['fail', 'wait'], { error: "must be 'fail' or 'wait'" }), 'fail'),
    // How a pipeline's end is noticed: its CodePipeline event (with a sweeper as the safety net), or the Wait/Check loop alone.
    completion: z._default(z.enum(['events', 'poll'], { error: "must be 'events' or 'poll'" }), 'poll'),
    // The sweeper's EventBridge Scheduler rate, which takes whole minutes (deploy/completion-resources.cjs).
    sweepSeconds: z._default(
      z.int({ error: sweepRule }).check(z.minimum(60, sweepRule), z.maximum(3600, sweepRule), z.multipleOf(60, sweepRule)),
      60,
    ),
    // Not a serverless.yml param (deploy/stage-config.cjs never writes it): the local engine's tests
    // set it so that a train hands over after hundreds of events instead of 24,000. Only lower.
    continueAtEvents: z.optional(wholeNumber(minContinueAtEvents, continueAtEvents)),
  },
  { error: 'must be an object of the stage params' },
);

export type StageConfig = z.infer<typeof stageConfigSchema>;

/** One problem with a stage config: the param (and the entry in it) and the rule it breaks. */
export interface StageConfigIssue {
  path: (string | number)[];
  message: string;
  /** For a rule between two params, the other one and its value as the message shows it. */
  against?: { param: string; value: string };
}

/** Each param the schema accepts on its own, parsed (a default filled in): the rules between params need both sides sound. */
function paramsParsedAlone(json: unknown): Partial<StageConfig> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return {};
  const fields = Object.entries(stageConfigSchema.shape).flatMap(([name, schema]) => {
    const field = schema.safeParse((json as Record<string, unknown>)[name]);
    return field.success ? [[name, field.data] as const] : [];
  });
  return Object.fromEntries(fields) as Partial<StageConfig>;
}

/**
 * The rules between params, each checked when the params it compares are sound on their own.
 * `accountsSound`: the accounts param parsed (absent is sound: it is optional).
 */
function crossParamIssues(fields: Partial<StageConfig>, accountsSound: boolean): StageConfigIssue[] {
  const issues: StageConfigIssue[] = [];
  const { pollSeconds, maxPollSeconds, pipelines, sequences, defaultSequence } = fields;
  if (pollSeconds !== undefined && maxPollSeconds !== undefined && maxPollSeconds < pollSeconds) {
    issues.push({ path: ['maxPollSeconds'], message: 'must be at least pollSeconds', against: { param: 'pollSeconds', value: String(pollSeconds) } });
  }
  if (pipelines !== undefined && accountsSound) {
    issues.push(...targetProblems({ pipelines, ...(fields.accounts !== undefined ? { accounts: fields.accounts } : {}) }));
  }
  if (sequences !== undefined && defaultSequence !== undefined && !Object.hasOwn(sequences, defaultSequence)) {
    issues.push({
      path: ['defaultSequence'],
      message: `'${defaultSequence}' is not one of the sequences`,
      against: { param: 'sequences', value: Object.keys(sequences).join(', ') },
    });
  }
  return issues;
}

/**
 * Every problem with a stage config, the schema's and those of each rule between params whose
 * params are sound, so that a stage with several is refused once with all of them; the config
 * itself when there are none.
 */
export function stageConfigIssues(json: unknown): { config?: StageConfig; fields: Partial<StageConfig>; issues: StageConfigIssue[] } {
  const parsed = stageConfigSchema.safeParse(json);
  // Parsed whole, each param is as it would be alone: every function's cold start parses the config once.
  const fields = parsed.success ? parsed.data : paramsParsedAlone(json);
  const issues = [
    ...(parsed.error?.issues.map(({ path, message }) => ({ path: path as (string | number)[], message })) ?? []),
    ...crossParamIssues(fields, parsed.success || Object.hasOwn(fields, 'accounts')),
  ];
  return { ...(parsed.success && issues.length === 0 ? { config: parsed.data } : {}), fields, issues };
}

export function parseStageConfig(raw: string | undefined): StageConfig {
  if (raw === undefined || raw === '') {
    throw new ConfigurationError('STAGE_CONFIG is not set: deploy with serverless.yml, which sets it from the stage params');
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigurationError('STAGE_CONFIG is not valid JSON', { cause: error });
  }
  const { config, issues } = stageConfigIssues(json);
  if (config) return config;
  // The issues go with it, so that sls package names every one under its param (src/stage-params.ts).
  const lines = issues.map(({ path, message, against }) => `STAGE_CONFIG.${path.join('.')}: ${message}${against ? ` (${against.value})` : ''}`);
  throw new ConfigurationError(lines.join('; '), { cause: { issues } });
}

let cached: { raw: string | undefined; config: StageConfig } | undefined;

/** The stage config, parsed once per distinct STAGE_CONFIG value (a Lambda sees one). */
export function stageConfig(): StageConfig {
  const raw = process.env.STAGE_CONFIG;
  if (cached && cached.raw === raw) return cached.config;
  const config = parseStageConfig(raw);
  cached = { raw, config };
  return config;
}
