/**
 * Every stage param of serverless.yml, checked when `sls package` runs (deploy/stage-params.cjs
 * loads this module), so that a param AWS would refuse only at deploy time, or one that would fail
 * every scheduled run, stops the package instead. Each problem is one line that names the param
 * and what it allows. The stage config and the schedule's input go through the very code the
 * functions run (src/config.ts, src/input.ts, src/order-policy.ts), so the two cannot disagree.
 */
import { stageConfigIssues, type StageConfig, type StageConfigIssue } from './config.js';
import { closestName } from './field-path.js';
import { executionInputSchema } from './input.js';
import { parseOrThrow } from './parse.js';
import { chooseOrder } from './order-policy.js';
import { checkOrder } from './order-checks.js';
import { InvalidInput } from './errors.js';
import { membersOf } from './run.js';
import { pipelineNames } from './targets.js';

/** The params src/config.ts reads at run time; the rest shape the stack. */
export const stageConfigKeys = [
  'pipelines',
  'accounts',
  'sequences',
  'defaultSequence',
  'pollSeconds',
  'maxPollSeconds',
  'pipelineTimeoutSeconds',
  'onSuperseded',
  'onFailure',
  'completion',
  'sweepSeconds',
];

/** The pipeline names serverless.yml ships with: a stage still using them has not been set up. */
export const examplePipelines = ['P1', 'P2', 'P3'];

/** The one stage that may keep the example pipelines without saying so. */
export const exampleStage = 'dev';

export const logLevels = ['ALL', 'ERROR', 'FATAL', 'OFF'];
/** CloudWatch Logs' RetentionInDays values (AWS::Logs::LogGroup). */
export const logRetentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
export const scheduleWhenBusyValues = ['skip', 'fail'];
/** EventBridge Scheduler's RetryPolicy limits. */
export const scheduleRetryAttempts = { min: 0, max: 185 };
export const scheduleMaxEventAgeSeconds = { min: 60, max: 86_400 };

const booleanParams = ['notifyOnSuccess', 'logExecutionData', 'tracing', 'retainStateMachine', 'scheduleEnabled', 'allowExamplePipelines'];

/** Every param a stage may set; anything else is a typo that would silently change nothing. */
export const knownParams = [
  ...stageConfigKeys,
  'notificationTopicArn',
  'notificationEmail',
  'logLevel',
  'logRetentionInDays',
  'scheduleRate',
  'scheduleTimezone',
  'scheduleRetryAttempts',
  'scheduleMaxEventAgeSeconds',
  'scheduleInput',
  'scheduleWhenBusy',
  'targetOrganizationId',
  ...booleanParams,
];

/** The value as the refusal quotes it: a stage's 100 pipelines would not fit one readable line. */
const shown = (value: unknown) => {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

const wholeNumberBetween = (value: unknown, { min, max }: { min: number; max: number }) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** The fields of a cron() expression: [name, lowest, highest, names allowed, special characters]. */
const cronFields: [string, number, number, string[], string][] = [
  ['minutes', 0, 59, [], ''],
  ['hours', 0, 23, [], ''],
  ['day-of-month', 1, 31, [], '?LW'],
  ['month', 1, 12, ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], ''],
  ['day-of-week', 1, 7, ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], '?L#'],
  ['year', 1970, 2199, [], ''],
];

/** Why one cron() field is not one EventBridge Scheduler takes, or undefined. */
function cronFieldProblem(text: string, [name, lowest, highest, names, special]: (typeof cronFields)[number]): string | undefined {
  const value = (item: string) => {
    const index = names.indexOf(item.toUpperCase());
    if (index >= 0) return index + 1;
    return /^\d+$/.test(item) ? Number(item) : Number.NaN;
  };
  const inRange = (item: string) => {
    const number = value(item);
    return number >= lowest && number <= highest;
  };
  for (const part of text.split(',')) {
    if (part === '*' || (part === '?' && special.includes('?'))) continue;
    if (special.includes('L') && /^(L|\d{0,2}L|LW|\d{1,2}W)$/i.test(part)) continue;
    if (special.includes('#') && /^[1-7]#[1-5]$/.test(part)) continue;
    const [range, step] = part.split('/');
    if (step !== undefined && !/^\d+$/.test(step)) return `${name} step '${step}' is not a number`;
    const bounds = range === '*' ? [] : range!.split('-');
    if (bounds.length > 2 || !bounds.every(inRange)) return `${name} '${part}' is not ${lowest}-${highest}${names.length > 0 ? ` or ${names[0]}-${names.at(-1)}` : ''}`;
  }
  return undefined;
}

/** Why an EventBridge Scheduler expression is not one it takes, or undefined. */
export function scheduleExpressionProblem(expression: unknown): string | undefined {
  if (typeof expression !== 'string') return 'must be a string';
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const amount = Number(rate[1]);
    if (amount < 1) return 'a rate must be at least 1';
    if ((amount === 1) !== !rate[2]!.endsWith('s')) return `write rate(1 ${rate[2]!.replace(/s$/, '')}) or rate(${amount > 1 ? amount : 2} ${rate[2]!.replace(/s?$/, 's')}): the unit is singular for 1 only`;
    return undefined;
  }
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression);
  if (at) {
    const [, year, month, day, hour, minute, second] = at.map(Number) as number[];
    const date = new Date(Date.UTC(year!, month! - 1, day, hour, minute, second));
    const valid = date.getUTCMonth() === month! - 1 && date.getUTCDate() === day && hour! < 24 && minute! < 60 && second! < 60;
    return valid ? undefined : `at() holds no real date and time`;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) return `cron() takes 6 fields (minutes hours day-of-month month day-of-week year); this has ${fields.length}`;
    const problem = fields.map((field, index) => cronFieldProblem(field, cronFields[index]!)).find((found) => found !== undefined);
    if (problem) return problem;
    if ((fields[2] === '?') === (fields[4] === '?')) return 'cron() needs ? in exactly one of day-of-month and day-of-week';
    return undefined;
  }
  return 'must be rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)';
}

/** An IANA time zone name, as Scheduler's ScheduleExpressionTimezone takes it (no bare UTC offsets). */
export function isTimeZone(name: unknown): boolean {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  // UTC (which ECMA-402 requires every engine to know) and the canonical names first: a
  // formatter's start-up (ICU's time zone data) cost 30 ms of every `sequencer run`, which checks
  // the stage's params; the list costs 5. Aliases (US/Pacific) are not on it, and take the formatter.
  if (name === 'UTC' || Intl.supportedValuesOf('timeZone').includes(name)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** What checkOrder refuses in an order, as text; undefined for an order decide-order accepts. */
function orderProblem(order: unknown, field: string): string | undefined {
  try {
    checkOrder(order, field);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidInput) return error.message;
    throw error;
  }
}

/** The stage's own orders, as far as they are sound: the default sequence only when it is one of the sequences. */
interface StageOrders extends Pick<StageConfig, 'pipelines' | 'sequences'> {
  defaultSequence: string | undefined;
}

/**
 * The schedule's input, checked as the state machine will check it: its shape always, then, when
 * the stage's pipelines and sequences are sound (`stage`), against them.
 */
function scheduleInputProblem(input: unknown, stage: StageOrders | undefined, pipelinesFrom: string): string | undefined {
  try {
    if (typeof input === 'object' && input !== null && Object.hasOwn(input, 'scheduled')) {
      return "'scheduled' is written by the stack from scheduleWhenBusy; leave it out";
    }
    const parsed = parseOrThrow(executionInputSchema, input, 'scheduleInput');
    if (stage === undefined) return undefined;
    const { defaultSequence } = stage;
    // An input that would take the default sequence, when that is not one, is told by defaultSequence's line.
    if (parsed.order === undefined && parsed.sequence === undefined && defaultSequence === undefined) return undefined;
    // '' is never read: without a default sequence, the input names its order or sequence.
    const { order } = chooseOrder({ input: parsed, sequences: stage.sequences, defaultSequence: defaultSequence ?? '', now: new Date() });
    const names = order.flatMap(membersOf);
    const allowed = pipelineNames(stage);
    const disallowed = names.filter((name) => !allowed.includes(name));
    if (disallowed.length > 0) return `${disallowed.join(', ')} not in this stage's pipelines (${allowed.join(', ')}, ${pipelinesFrom})`;
    const strangers = [...Object.keys(parsed.variables ?? {}), ...(parsed.from !== undefined ? [parsed.from] : [])].filter((name) => !names.includes(name));
    if (strangers.length > 0) return `${strangers.join(', ')} not in the order it runs (${names.join(', ')})`;
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^scheduleInput: /, '');
  }
}

/**
 * src/config.ts's problems with a stage config as lines about the params they name
 * (`params.dev.onFailure is "retry": must be ...`), one for each; `stageOf` says whose params each
 * is (the stage's, or default's), and a rule between two params says the other's value and whose
 * it is (`must be at least pollSeconds (30, from params.default)`).
 */
function stageConfigProblems(stageOf: (name: string) => string, params: Record<string, unknown>, issues: StageConfigIssue[]): string[] {
  const lines = issues.map(({ path: [name = 'pipelines', ...entry], message, against }) => {
    // Deep in a param (`pipelines.41.arn`), the refusal names that entry and shows its value, not the whole list.
    const value = entry.reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], params[name]);
    const other = against ? ` (${against.value}, from params.${stageOf(against.param)})` : '';
    return `params.${stageOf(String(name))}.${[name, ...entry].join('.')} is ${shown(value)}: ${message}${other}`;
  });
  // Once each: 30 s is both under 60 and not a whole number of minutes, one rule.
  return [...new Set(lines)];
}

/** How a caller other than `sls package` asks for the stage's problems. */
export interface StageParamChecks {
  /** Whose params each is, as the line names it: the stage's own, or `default`'s (default: the stage's). */
  ownerOf?: (name: string) => string;
  /**
   * Whether the pipelines are real ones. A local run starts only the world file's emulated
   * pipelines, never a real one that happens to be named P1: it leaves the example rule out.
   */
  realPipelines?: boolean;
}

/**
 * Every problem with a stage's params, one line each, naming the param and what it allows. `own`
 * is the set of params the stage names itself (serverless.yml `params.<stage>`), checked for typos.
 */
export function stageParamProblems(
  stage: string,
  params: Record<string, unknown>,
  own: readonly string[] = [],
  { ownerOf = () => stage, realPipelines = true }: StageParamChecks = {},
): string[] {
  const problems: string[] = [];
  const refuse = (name: string, rule: string) => problems.push(`params.${ownerOf(name)}.${name} is ${shown(params[name])}: ${rule}`);

  for (const name of own.filter((key) => !knownParams.includes(key))) {
    const meant = closestName(name, knownParams);
    problems.push(`params.${ownerOf(name)}.${name} is not a param${meant !== undefined ? ` (did you mean ${meant}?)` : ''}; the params are ${knownParams.join(', ')}`);
  }
  // Through JSON, as serverless.yml hands the params to the functions in STAGE_CONFIG.
  const { fields, issues } = stageConfigIssues(JSON.parse(JSON.stringify(Object.fromEntries(stageConfigKeys.map((key) => [key, params[key]])))));
  problems.push(...stageConfigProblems(ownerOf, params, issues));
  const organization = params.targetOrganizationId;
  if (organization !== '' && !(typeof organization === 'string' && /^o-[a-z0-9]{10,32}$/.test(organization))) {
    refuse('targetOrganizationId', "must be an organization id such as o-a1b2c3d4e5, or ''");
  }
  for (const name of booleanParams) {
    if (typeof params[name] !== 'boolean') refuse(name, 'must be true or false (a YAML boolean, not a string)');
  }
  const topic = params.notificationTopicArn;
  if (topic !== '' && !(typeof topic === 'string' && /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(topic))) {
    refuse('notificationTopicArn', "must be '' (the stack creates a topic) or an SNS topic ARN, arn:aws:sns:<region>:<account>:<name>");
  }
  const email = params.notificationEmail;
  if (email !== '' && !(typeof email === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
    refuse('notificationEmail', "must be '' (no subscription) or one e-mail address");
  }
  if (!logLevels.includes(params.logLevel as string)) refuse('logLevel', `must be one of ${logLevels.join(', ')}`);
  if (!logRetentionDays.includes(params.logRetentionInDays as number)) {
    refuse('logRetentionInDays', `must be one of CloudWatch Logs' ${logRetentionDays.join(', ')}`);
  }
  const expression = scheduleExpressionProblem(params.scheduleRate);
  if (expression) refuse('scheduleRate', expression.startsWith('must be') ? expression : `${expression}; EventBridge Scheduler takes rate(value unit), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss)`);
  if (!isTimeZone(params.scheduleTimezone)) refuse('scheduleTimezone', 'must be an IANA time zone name such as UTC or Europe/Paris');
  if (!wholeNumberBetween(params.scheduleRetryAttempts, scheduleRetryAttempts)) {
    refuse('scheduleRetryAttempts', `must be a whole number from ${scheduleRetryAttempts.min} to ${scheduleRetryAttempts.max} (EventBridge Scheduler)`);
  }
  if (!wholeNumberBetween(params.scheduleMaxEventAgeSeconds, scheduleMaxEventAgeSeconds)) {
    refuse('scheduleMaxEventAgeSeconds', `must be a whole number from ${scheduleMaxEventAgeSeconds.min} to ${scheduleMaxEventAgeSeconds.max} (EventBridge Scheduler)`);
  }
  if (!scheduleWhenBusyValues.includes(params.scheduleWhenBusy as string)) {
    refuse('scheduleWhenBusy', `must be one of ${scheduleWhenBusyValues.join(', ')}`);
  }
  // The rules below need only the params they read to be sound: a stage is refused once, with every problem.
  const { pipelines, sequences, defaultSequence } = fields;
  const allowed = pipelines === undefined ? undefined : pipelineNames({ pipelines });
  const pipelinesFrom = `from params.${ownerOf('pipelines')}`;
  // Every sequence naming a pipeline the stage does not have, in one line: a stage that names its
  // own pipelines and keeps default's sequences would otherwise read the same value once a sequence.
  const strangersOf =
    allowed === undefined || sequences === undefined
      ? []
      : Object.entries(sequences).flatMap(([sequence, entries]) => {
          const strangers = entries.flatMap(membersOf).filter((name) => !allowed.includes(name));
          return strangers.length > 0 ? [{ sequence, strangers }] : [];
        });
  if (allowed !== undefined && strangersOf.length > 0) {
    const named = strangersOf.map(({ sequence, strangers }, index) => `${index === 0 ? 'sequence ' : ''}'${sequence}' names ${strangers.join(', ')}`).join('; ');
    refuse('sequences', `${named}, not in this stage's pipelines (${allowed.join(', ')}, ${pipelinesFrom})`);
  }
  for (const [sequence, entries] of Object.entries(sequences ?? {})) {
    // The rules decide-order applies to the order a sequence gives (a group of 2 to 10, each pipeline
    // once): broken here, it would fail every run that takes this sequence, the schedule's too.
    const shape = orderProblem(entries, `sequence '${sequence}'`);
    if (shape !== undefined) refuse('sequences', shape);
  }
  const stageOrders =
    pipelines !== undefined && sequences !== undefined
      ? { pipelines, sequences, defaultSequence: defaultSequence !== undefined && Object.hasOwn(sequences, defaultSequence) ? defaultSequence : undefined }
      : undefined;
  // A schedule that runs a sequence refused above is told by that line.
  const scheduledSequence = (params.scheduleInput as { sequence?: unknown } | undefined)?.sequence;
  const inputProblem = strangersOf.some(({ sequence }) => sequence === scheduledSequence) ? undefined : scheduleInputProblem(params.scheduleInput, stageOrders, pipelinesFrom);
  if (inputProblem) refuse('scheduleInput', `${inputProblem}; it must be an input the state machine accepts in this stage (README, Input)`);
  const examples = (allowed ?? []).filter((name) => examplePipelines.includes(name));
  if (realPipelines && stage !== exampleStage && examples.length > 0 && params.allowExamplePipelines !== true) {
    const holder = ownerOf('pipelines') === stage ? `params.${stage}.pipelines still holds` : `stage '${stage}' takes its pipelines from params.${ownerOf('pipelines')}, which holds`;
    problems.push(
      `${holder} the example pipeline${examples.length === 1 ? '' : 's'} ${examples.join(', ')}: ` +
        `give the stage its own pipelines and sequences, or set params.${stage}.allowExamplePipelines: true if it really means pipelines of ${examples.length === 1 ? 'that name' : 'those names'}`,
    );
  }
  return problems.map((problem) => withOwnParamHint(problem, stage, ownerOf));
}

/** The params whose value must fit the stage's own pipelines: inherited, they may not. */
const pipelineBoundParams = ['sequences', 'defaultSequence', 'scheduleInput'];

/**
 * A problem with a param the stage takes from another's (default's) that must fit its own
 * pipelines says so, and which param to set: `params.prod.sequences`, not default's, which
 * other stages may rely on.
 */
function withOwnParamHint(problem: string, stage: string, ownerOf: (name: string) => string): string {
  const name = pipelineBoundParams.find((param) => ownerOf(param) !== stage && problem.startsWith(`params.${ownerOf(param)}.${param} `));
  return name === undefined ? problem : `${problem}; stage '${stage}' takes its ${name} from params.${ownerOf(name)}: give it its own, params.${stage}.${name}`;
}
