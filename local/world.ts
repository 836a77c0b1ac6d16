import { z } from 'zod';
import { fileLabel, readCommandLineFile, WorldFileError } from './refusals.js';
import { closestName, fieldPath } from '../src/field-path.js';
import { completionModule } from './definition.js';

/**
 * A world file scripts what the local CodePipeline does: which pipelines exist, how long
 * each execution runs and how it ends, what was already happening at startTime, and which
 * calls fail. Every field is checked strictly so a typo fails loudly instead of being ignored.
 *
 * Time, as the emulator plays it (all in simulated seconds from the execution's start):
 * - an execution goes through the pipeline's stages (without `stages`: a Source stage taking a
 *   tenth of durationSeconds, at most 30 s, and a Build stage taking the rest); an execution of
 *   another length (history, supersededBy, inProgressAtStart) spends the same share in each;
 * - it ends with its outcome at the end of its last stage; `outcomes` scripts the executions
 *   StartPipelineExecution starts, in order, and `outcome` takes over after them;
 * - the execution mode decides who waits (emulator/timeline.ts follows AWS's rules): SUPERSEDED
 *   and QUEUED lock each stage to one execution, PARALLEL does not;
 * - Superseded: the execution finishes every stage but the last, then waits at the last one's
 *   inbound transition (disabled, as a person would disable it); a newer execution (trigger
 *   CloudWatchEvent) starts at that instant, runs supersededBy, and supersedes ours when it
 *   reaches the same transition;
 * - inProgressAtStart: someone else's execution, started 60 s before startTime, which ends
 *   startTime + remainingSeconds at the earliest;
 * - history: past successes, newest first, the newest ending an hour before startTime and each
 *   ending an hour before the next one starts.
 *
 * `pipelines` live in the hub (account 123456789012, us-east-1), where the sequencer runs.
 * `accounts` are the others: each has pipelines per region (`sequencedAs` is the stage's name for
 * one, its own name by default), the role the hub assumes there (`trusts`: the accounts its trust
 * policy admits, the hub by default) and `forwardsEvents`. The emulator answers each account's
 * CodePipeline only to credentials of that account (local/emulator/sts.ts).
 */

/** The operations the emulator answers, so the ones a fault may target. */
export const emulatedOperations = [
  'GetPipeline',
  'ListPipelines',
  'StartPipelineExecution',
  'GetPipelineExecution',
  'ListActionExecutions',
  'ListPipelineExecutions',
  'StopPipelineExecution',
  'GetPipelineState',
  'ListExecutions',
  'GetExecutionHistory',
  'ListStateMachines',
] as const;
export type EmulatedOperation = (typeof emulatedOperations)[number];

/** Errors every AWS JSON API may answer (API reference, "Common Errors"), beyond each operation's own. */
export const commonErrors = [
  'AccessDeniedException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InternalFailure',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'NotAuthorized',
  'OptInRequired',
  'RequestExpired',
  'ServiceUnavailable',
  'ThrottlingException',
  'UnrecognizedClientException',
  'ValidationError',
] as const;

/**
 * The errors each emulated operation's model lists (the SDK's `@throws`), so a world can inject
 * only what the service could answer; the conformance test holds this list to the SDK's.
 */
export const modelledErrors: Record<EmulatedOperation, readonly string[]> = {
  GetPipeline: ['PipelineNotFoundException', 'PipelineVersionNotFoundException', 'ValidationException'],
  ListPipelines: ['InvalidNextTokenException', 'ValidationException'],
  StartPipelineExecution: [
    'ConcurrentPipelineExecutionsLimitExceededException',
    'ConflictException',
    'PipelineNotFoundException',
    'ValidationException',
  ],
  GetPipelineExecution: ['PipelineExecutionNotFoundException', 'PipelineNotFoundException', 'ValidationException'],
  ListPipelineExecutions: ['InvalidNextTokenException', 'PipelineNotFoundException', 'ValidationException'],
  ListActionExecutions: [
    'InvalidNextTokenException',
    'PipelineExecutionNotFoundException',
    'PipelineNotFoundException',
    'ValidationException',
  ],
  StopPipelineExecution: [
    'ConflictException',
    'DuplicatedStopRequestException',
    'PipelineExecutionNotStoppableException',
    'PipelineNotFoundException',
    'ValidationException',
  ],
  GetPipelineState: ['PipelineNotFoundException', 'ValidationException'],
  ListExecutions: [
    'InvalidArn',
    'InvalidToken',
    'ResourceNotFound',
    'StateMachineDoesNotExist',
    'StateMachineTypeNotSupported',
    'ValidationException',
  ],
  GetExecutionHistory: ['ExecutionDoesNotExist', 'InvalidArn', 'InvalidToken', 'KmsAccessDeniedException', 'KmsInvalidStateException', 'KmsThrottlingException'],
  ListStateMachines: ['InvalidToken'],
};

/**
 * Step Functions' StartExecution, which the emulator serves for the state machine's own
 * continuation, may be faulted too (not held to the conformance checks: the engine is its only
 * caller). Its model's errors, as the SDK lists them.
 */
export const startExecutionErrors = [
  'ExecutionAlreadyExists',
  'ExecutionLimitExceeded',
  'InvalidArn',
  'InvalidExecutionInput',
  'InvalidName',
  'KmsAccessDeniedException',
  'KmsInvalidStateException',
  'KmsThrottlingException',
  'StateMachineDeleting',
  'StateMachineDoesNotExist',
  'ValidationException',
] as const;

/**
 * SendTaskSuccess, which the event function and the sweeper call to wake a run, may be faulted
 * too: a wake that fails is what the functions' retries, reopened watches and sweeps recover.
 * Its model's errors, as the SDK lists them.
 */
export const sendTaskSuccessErrors = ['InvalidOutput', 'InvalidToken', 'KmsAccessDeniedException', 'KmsInvalidStateException', 'KmsThrottlingException', 'TaskDoesNotExist', 'TaskTimedOut'] as const;

const faultableOperations = [...emulatedOperations, 'StartExecution', 'SendTaskSuccess'] as const;
/** The operations about no pipeline: a fault on one names none. */
const aboutNoPipeline: readonly string[] = ['StartExecution', 'SendTaskSuccess'];
const errorsOf = (operation: (typeof faultableOperations)[number]): readonly string[] =>
  operation === 'StartExecution' ? startExecutionErrors : operation === 'SendTaskSuccess' ? sendTaskSuccessErrors : modelledErrors[operation];

const positiveInteger = z.int('expected a positive integer').positive('expected a positive integer');

const oneOf = <const Values extends readonly [string, ...string[]]>(values: Values) =>
  z.enum(values, `expected one of ${values.join(' | ')}`);

// CodePipeline's own constraint on pipeline names (API reference, PipelineName).
const pipelineNamePattern = /^[A-Za-z0-9.@\-_]{1,100}$/;

const outcomes = ['Succeeded', 'Failed', 'Stopped', 'Cancelled', 'Superseded'] as const;
// The newer execution that supersedes ours cannot itself be superseded: one level keeps worlds readable.
const supersedingOutcomes = ['Succeeded', 'Failed', 'Stopped', 'Cancelled'] as const;

const statusSummary = z.string().min(1, 'expected a non-empty string');
/** One retry of a failed stage: when, how long, and how it ends (a retry can fail again). */
const retrySchema = z.strictObject({
  afterSeconds: positiveInteger,
  durationSeconds: positiveInteger,
  outcome: oneOf(['Succeeded', 'Failed']).default('Succeeded'),
  statusSummary: statusSummary.optional(),
});

// CodePipeline's constraints on stage, action and namespace names and on pipeline-level variables
// (API reference: StageDeclaration, ActionDeclaration, PipelineVariableDeclaration).
const stageOrActionName = z.string().regex(/^[A-Za-z0-9.@\-_]{1,100}$/, 'expected 1-100 characters of A-Z a-z 0-9 . @ - _');
const variableName = z.string().regex(/^[A-Za-z0-9@\-_]{1,128}$/, 'expected 1-128 characters of A-Z a-z 0-9 @ - _');
const variableValue = z.string().min(1, 'expected 1-1000 characters').max(1000, 'expected 1-1000 characters');
const namespace = z.string().regex(/^[A-Za-z0-9@\-_]{1,100}$/, 'expected 1-100 characters of A-Z a-z 0-9 @ - _');

const actionSchema = z.strictObject({
  name: stageOrActionName,
  namespace: namespace.optional(),
  /** What the action publishes once it has succeeded (ListActionExecutions, #{namespace.name}). */
  outputVariables: z.record(variableName, variableValue).optional(),
});

const stageSchema = z.strictObject({
  name: stageOrActionName,
  durationSeconds: positiveInteger,
  actions: z.array(actionSchema).min(1, 'expected at least one action'),
});

const pipelineSchema = z
  .strictObject({
    name: z.string().regex(pipelineNamePattern, 'expected 1-100 characters of A-Z a-z 0-9 . @ - _'),
    /** Without `stages`: a Source stage and a Build stage that split it. With `stages`: their sum, if given. */
    durationSeconds: positiveInteger.optional(),
    outcome: oneOf(outcomes).default('Succeeded'),
    statusSummary: statusSummary.optional(),
    outcomes: z.array(oneOf(outcomes)).min(1, 'empty: leave it out, and every execution ends as outcome says').optional(),
    /**
     * Someone retries the failed stage (RetryStageExecution) of each execution the sequencer
     * started that ends Failed: `afterSeconds` after the failure the same execution is InProgress
     * again (event RESUMED, attempt 2), and `durationSeconds` later it has Succeeded, or ended as
     * `outcome` says. A list scripts retries one after another, each after the previous one failed.
     */
    // One retry, or a list (read as a list of one, so that a problem is named by its place in either).
    retry: z
      .preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(retrySchema).min(1, 'expected at least one retry').max(10, 'expected at most 10 retries'))
      .optional(),
    supersededBy: z
      .strictObject({
        durationSeconds: positiveInteger,
        outcome: oneOf(supersedingOutcomes).default('Succeeded'),
        statusSummary: statusSummary.optional(),
      })
      .optional(),
    /**
     * Someone starts the pipeline again (a push with a fix) `afterSeconds` after each execution
     * the sequencer started ends Failed: once the new execution has run the failed stage,
     * CodePipeline can no longer retry it (RetryStageExecution: NotLatestPipelineExecution).
     */
    rerun: z
      .strictObject({
        afterSeconds: positiveInteger,
        durationSeconds: positiveInteger,
        outcome: oneOf(supersedingOutcomes).default('Succeeded'),
        statusSummary: statusSummary.optional(),
      })
      .optional(),
    executionMode: oneOf(['SUPERSEDED', 'QUEUED', 'PARALLEL']).default('SUPERSEDED'),
    pipelineType: oneOf(['V1', 'V2']).default('V2'),
    /** Pipeline-level variables (V2 only): the only names StartPipelineExecution accepts. */
    variables: z
      .array(z.strictObject({ name: variableName, defaultValue: variableValue.optional(), description: z.string().max(200).optional() }))
      .max(50, 'expected at most 50 variables')
      .optional(),
    /** A real pipeline has at least two stages, the first holding its source actions. */
    stages: z.array(stageSchema).min(2, 'expected at least two stages (Source first)').optional(),
    inProgressAtStart: z.strictObject({ remainingSeconds: positiveInteger }).optional(),
    /** Durations in seconds of past successful executions, newest first. */
    history: z.array(positiveInteger).default([]),
    /** In another account: the name the stage gives it (`{ name, arn }`), when not its own. */
    sequencedAs: z.string().regex(pipelineNamePattern, 'expected 1-100 characters of A-Z a-z 0-9 . @ - _').optional(),
  })
  .superRefine((pipeline, context) => {
    const canBeSuperseded = pipeline.outcome === 'Superseded' || (pipeline.outcomes ?? []).includes('Superseded');
    const canFail = pipeline.outcome === 'Failed' || (pipeline.outcomes ?? []).includes('Failed');
    if (pipeline.retry && !canFail) {
      context.addIssue({ code: 'custom', path: ['retry'], message: 'only allowed when an outcome is Failed' });
    }
    if (pipeline.rerun && !canFail) {
      context.addIssue({ code: 'custom', path: ['rerun'], message: 'only allowed when an outcome is Failed' });
    }
    if (pipeline.rerun && pipeline.retry) {
      context.addIssue({ code: 'custom', path: ['rerun'], message: 'not with retry: CodePipeline refuses to retry a stage a later execution ran; script one or the other' });
    }
    if (canBeSuperseded && !pipeline.supersededBy) {
      context.addIssue({ code: 'custom', path: ['supersededBy'], message: 'required when an outcome is Superseded' });
    }
    if (!canBeSuperseded && pipeline.supersededBy) {
      context.addIssue({
        code: 'custom',
        path: ['supersededBy'],
        message: 'only allowed when an outcome is Superseded',
      });
    }
    // Only SUPERSEDED mode supersedes: QUEUED queues and PARALLEL runs side by side.
    if (canBeSuperseded && pipeline.executionMode !== 'SUPERSEDED') {
      context.addIssue({ code: 'custom', path: ['outcome'], message: `Superseded needs executionMode SUPERSEDED` });
    }
    // CodePipeline accepts QUEUED and PARALLEL only on V2 pipelines (PipelineDeclaration.executionMode).
    if (pipeline.executionMode !== 'SUPERSEDED' && pipeline.pipelineType !== 'V2') {
      context.addIssue({
        code: 'custom',
        path: ['executionMode'],
        message: `${pipeline.executionMode} needs pipelineType V2`,
      });
    }
    if (pipeline.variables && pipeline.pipelineType !== 'V2') {
      context.addIssue({ code: 'custom', path: ['variables'], message: 'pipeline-level variables need pipelineType V2' });
    }
    reportDuplicates(pipeline.variables?.map((variable) => variable.name) ?? [], ['variables'], 'variable', context);
    if (pipeline.stages) {
      const stageSeconds = pipeline.stages.reduce((sum, stage) => sum + stage.durationSeconds, 0);
      if (pipeline.durationSeconds !== undefined && pipeline.durationSeconds !== stageSeconds) {
        context.addIssue({
          code: 'custom',
          path: ['durationSeconds'],
          message: `must equal the stages' sum (${stageSeconds}) when both are given`,
        });
      }
      reportDuplicates(pipeline.stages.map((stage) => stage.name), ['stages'], 'stage', context);
      const namespaces = pipeline.stages.flatMap((stage) => stage.actions.flatMap((action) => action.namespace ?? []));
      reportDuplicates(namespaces, ['stages'], 'namespace', context);
      pipeline.stages.forEach((stage, index) =>
        reportDuplicates(stage.actions.map((action) => action.name), ['stages', index, 'actions'], 'action', context),
      );
    } else if (pipeline.durationSeconds === undefined) {
      context.addIssue({ code: 'custom', path: ['durationSeconds'], message: 'required unless stages are given' });
    }
  })
  // Every pipeline has a duration once parsed: the one given, or its stages' sum.
  .transform((pipeline) => ({
    ...pipeline,
    durationSeconds: pipeline.durationSeconds ?? (pipeline.stages ?? []).reduce((sum, stage) => sum + stage.durationSeconds, 0),
  }));

/** Where a duplicate is told: a schema's refinement, or the cross-checks of the file as written. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void;
}

function reportDuplicates(names: string[], path: PropertyKey[], what: string, context: IssueSink): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) context.addIssue({ code: 'custom', path, message: `duplicate ${what} name "${name}"` });
    seen.add(name);
  }
}

const httpStatusMessage = 'expected an HTTP error status between 400 and 599';
const errorNamePattern = /^[A-Za-z][A-Za-z0-9]*$/;

const operationFaultSchema = z
  .strictObject({
    operation: oneOf(faultableOperations),
    error: z.string().regex(errorNamePattern, 'expected an error name such as ThrottlingException').optional(),
    httpStatus: z
      .int(httpStatusMessage)
      .min(400, httpStatusMessage)
      .max(599, httpStatusMessage)
      .optional(),
    // A slow answer, in real milliseconds: what a function's own timeout is measured against.
    latencyMs: z.int('expected whole milliseconds').min(1, 'expected whole milliseconds').max(60_000, 'at most 60000 ms').optional(),
    count: positiveInteger,
    pipelineName: z.string().optional(),
  })
  .refine((fault) => fault.error !== undefined || fault.latencyMs !== undefined, {
    message: 'a fault needs an error (such as ThrottlingException), a latencyMs, or both',
    path: ['error'],
  });

/** What a handler fault may crash: the three handlers, and the continuation's StartExecution (local/engine.ts). */
const crashableHandlers = ['decide-order', 'start-pipeline', 'check-status', 'continue-as-new'] as const;

const handlerFaultSchema = z.strictObject({
  handler: oneOf(crashableHandlers),
  crash: oneOf(['afterCall']),
  count: positiveInteger,
});

// A fault is one of two shapes; picking the shape by its key gives messages about the
// fields the author wrote, where a plain union would report both shapes' complaints.
const faultSchema = z.unknown().transform((fault, context) => {
  const isHandlerFault = typeof fault === 'object' && fault !== null && 'handler' in fault;
  const result = (isHandlerFault ? handlerFaultSchema : operationFaultSchema).safeParse(fault, { reportInput: true });
  if (result.success) return result.data;
  // Reported issues carry their input, which is all a raw issue adds to them.
  for (const issue of result.error.issues) context.issues.push(issue as z.core.$ZodRawIssue);
  return z.NEVER;
});

/** The hub: where the sequencer's functions run, and where `pipelines` live (local/emulator/codepipeline.ts). */
export const hubAccountId = '123456789012';
export const hubRegion = 'us-east-1';

const accountIdSchema = z.string().regex(/^\d{12}$/, 'expected a 12-digit account id');
const regionPattern = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/**
 * Another account: its pipelines per region, the role the sequencer assumes there (and whom its
 * trust admits: the hub by default), and whether its EventBridge rule forwards CodePipeline
 * events to the hub. The emulator serves `forwardsEvents` to the event path (issue 15).
 */
const accountSchema = z.strictObject({
  id: accountIdSchema.refine((id) => id !== hubAccountId, `expected another account than the hub's (${hubAccountId})`),
  role: z.strictObject({
    name: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'expected an IAM role name (1-64 characters of A-Z a-z 0-9 + = , . @ _ -)'),
    /** The accounts its trust policy admits; without the hub's, AssumeRole is AccessDenied. */
    trusts: z.array(accountIdSchema).default([hubAccountId]),
  }),
  forwardsEvents: z.boolean().default(true),
  // Region names are checked in the world's refinement, which can name the key.
  regions: z.record(z.string(), z.array(pipelineSchema).min(1, 'expected at least one pipeline')),
});

const rate = z.number().min(0).max(1);

/** The API's statuses as events spell them (the API says Cancelled, events CANCELED): the emulator's and the knobs'. */
export const eventStateOf: Record<string, string> = {
  InProgress: 'STARTED',
  Stopping: 'STOPPING',
  Succeeded: 'SUCCEEDED',
  Failed: 'FAILED',
  Stopped: 'STOPPED',
  Superseded: 'SUPERSEDED',
  Cancelled: 'CANCELED',
};

/**
 * The states whose events the stage's rule forwards to the event function (deploy/completion.cjs):
 * a knob about any other state (STARTED, STOPPING) could never apply.
 */
const { forwardedStates } = completionModule;

/**
 * How CodePipeline's events reach the stage's event function (with `completion: events`):
 * delivered `delaySeconds` after the change (a number, or [min, max] drawn per event), some
 * dropped (those of some pipelines, of some states, or both; all of them or a share), some
 * delivered twice, some out of order (a random extra delay of up to `outOfOrder` seconds), or
 * none at all (`off`).
 */
const eventsSchema = z.strictObject({
  delaySeconds: z
    .union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])], { error: 'expected seconds at least 0, as a number or as [min, max]' })
    .default([0.5, 1.5]),
  drop: z
    .strictObject({ pipelines: z.array(z.string()).optional(), states: z.array(z.string()).optional(), rate: rate.optional() })
    .optional(),
  duplicate: rate.default(0),
  outOfOrder: z.number().min(0).default(0),
  /** Extra seconds on every delivery of the events of these states (FAILED: 60 brings a FAILED after the RESUMED that follows it). */
  lateSeconds: z.record(z.string(), z.number().min(0)).optional(),
  off: z.boolean().default(false),
});

/**
 * A world's time stays where AWS's clocks can be: DynamoDB's TTL and Step Functions' dates count
 * seconds from 1970, and a run's deadlines and dates, written as ISO-8601 with four-digit years,
 * can lie years past its start (100 pipelines of 60 days each).
 */
const earliestStart = Date.parse('1970-01-01T00:00:00Z');
const latestStart = Date.parse('9000-01-01T00:00:00Z');
const startTimeRange = 'expected a date-time from 1970-01-01T00:00:00Z to before 9000-01-01T00:00:00Z';

const worldSchema = z.strictObject({
  startTime: z.iso
    .datetime({ offset: true, error: 'expected an ISO-8601 date-time such as 2026-01-01T00:00:00Z' })
    .refine((time) => Date.parse(time) >= earliestStart && Date.parse(time) < latestStart, startTimeRange),
  pipelines: z.array(pipelineSchema),
  // Optional, so a world of the hub alone reads back exactly as written.
  accounts: z.array(accountSchema).optional(),
  faults: z.array(faultSchema).default([]),
  /**
   * How long CodePipeline honours a StartPipelineExecution clientRequestToken, in seconds: a start
   * that repeats a token within it gets the first execution back, and after it starts another.
   * AWS documents no lifetime (CodeBuild's own is 5 minutes); left out, the emulator honours one for ever.
   */
  clientRequestTokenSeconds: z.int('expected whole seconds').min(0, 'expected whole seconds').optional(),
  /**
   * How far Step Functions' DescribeExecution lags (AWS: "eventually consistent ... may not reflect
   * very recent updates"): an execution started less than this long ago is not found, and one
   * redriven less than this long ago is answered as it was before the redrive. Left out, it never lags.
   */
  stepFunctionsReadLagSeconds: z.number().min(0, 'expected seconds, at least 0').optional(),
  events: eventsSchema.default({ delaySeconds: [0.5, 1.5], duplicate: 0, outOfOrder: 0, off: false }),
});

type Loose = Record<string, unknown>;
const isLoose = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value);
/** The objects of an array as written, each with its index: none when it is not an array. */
const objectsOf = (value: unknown): [number, Loose][] => (Array.isArray(value) ? [...value.entries()].filter((entry): entry is [number, Loose] => isLoose(entry[1])) : []);
/** The strings of an array as written, each with its index. */
const stringsOf = (value: unknown): [number, string][] => (Array.isArray(value) ? [...value.entries()].filter((entry): entry is [number, string] => typeof entry[1] === 'string') : []);
const isFaultableOperation = (value: unknown): value is (typeof faultableOperations)[number] => (faultableOperations as readonly unknown[]).includes(value);

/**
 * The checks that look across the file (a name one part gives and another uses) or at a value a
 * field's own type cannot judge (an event state, an error for an operation). They read the file
 * as written, so they report beside the schema's own complaints in one refusal, not once those
 * are fixed (zod skips an object's refinement while any of its fields is wrong); each judges only
 * what is readable, and leaves a field of the wrong type to the schema.
 */
function crossCheckIssues(json: unknown): { path: PropertyKey[]; message: string }[] {
  const issues: { path: PropertyKey[]; message: string }[] = [];
  const addIssue = (path: PropertyKey[], message: string) => issues.push({ path, message });
  const sink: IssueSink = { addIssue: ({ path, message }) => addIssue(path, message) };
  if (!isLoose(json)) return issues;
  const hub = objectsOf(json.pipelines);
  const accounts = objectsOf(json.accounts);
  /** An account's pipelines by region, as written. */
  const regionsOf = (account: Loose): [string, [number, Loose][]][] => (isLoose(account.regions) ? Object.entries(account.regions).map(([region, pipelines]) => [region, objectsOf(pipelines)]) : []);
  const nameOf = (pipeline: Loose) => (typeof pipeline.name === 'string' ? pipeline.name : undefined);

  // The stage's names are unique across accounts and regions, and so is each account's pipeline per region.
  const sequencedAt = new Map<string, string>();
  const sequenced = (name: string, path: PropertyKey[], where: string) => {
    const first = sequencedAt.get(name);
    if (first === undefined) sequencedAt.set(name, where);
    else addIssue(path, `"${name}" already names ${first}; give this one another sequencedAs`);
  };
  for (const [index, pipeline] of hub) {
    if (pipeline.sequencedAs !== undefined) addIssue(['pipelines', index, 'sequencedAs'], 'only for a pipeline in accounts');
    // A duplicate among the hub's own is reported below, once.
    const name = nameOf(pipeline);
    if (name !== undefined && !sequencedAt.has(name)) sequencedAt.set(name, `pipelines[${index}]`);
  }
  const accountIds = new Set<unknown>();
  for (const [accountIndex, account] of accounts) {
    if (typeof account.id === 'string' && accountIds.has(account.id)) addIssue(['accounts', accountIndex, 'id'], `duplicate account "${account.id}"`);
    accountIds.add(account.id);
    for (const [region, pipelines] of regionsOf(account)) {
      if (!regionPattern.test(region)) addIssue(['accounts', accountIndex, 'regions', region], 'expected a region such as eu-west-1');
      reportDuplicates(pipelines.flatMap(([, pipeline]) => nameOf(pipeline) ?? []), ['accounts', accountIndex, 'regions', region], 'pipeline', sink);
      for (const [index, pipeline] of pipelines) {
        const name = nameOf(pipeline);
        if (name === undefined) continue;
        const sequencedAs = typeof pipeline.sequencedAs === 'string' ? pipeline.sequencedAs : name;
        sequenced(sequencedAs, ['accounts', accountIndex, 'regions', region, index], `${name} in ${String(account.id)} ${region}`);
      }
    }
  }
  const firstIndexByName = new Map<string, number>();
  for (const [index, pipeline] of hub) {
    const name = nameOf(pipeline);
    if (name === undefined) continue;
    const firstIndex = firstIndexByName.get(name);
    if (firstIndex === undefined) firstIndexByName.set(name, index);
    else addIssue(['pipelines', index, 'name'], `duplicate pipeline name "${name}" (already pipelines[${firstIndex}])`);
  }
  // Events and faults name a pipeline as CodePipeline does: an account's by its own name.
  const accountNames = accounts.flatMap(([, account]) => regionsOf(account).flatMap(([, pipelines]) => pipelines.flatMap(([, pipeline]) => nameOf(pipeline) ?? [])));
  const codePipelineNames = new Set([...firstIndexByName.keys(), ...accountNames]);

  const events = isLoose(json.events) ? json.events : {};
  const drop = isLoose(events.drop) ? events.drop : {};
  // As events spell them (FAILED, not the API's Failed), and of a state the rule forwards: any other would never match.
  const stateRule = `expected one of ${forwardedStates.join(' | ')} (the states the stage's rule forwards, spelt as events spell them)`;
  for (const [index, state] of stringsOf(drop.states)) {
    if (!forwardedStates.includes(state)) addIssue(['events', 'drop', 'states', index], stateRule);
  }
  for (const state of Object.keys(isLoose(events.lateSeconds) ? events.lateSeconds : {})) {
    if (!forwardedStates.includes(state)) addIssue(['events', 'lateSeconds', state], stateRule);
  }
  for (const field of ['pipelines', 'states'] as const) {
    const listed = stringsOf(drop[field]).map(([, name]) => name);
    reportDuplicates(listed, ['events', 'drop', field], field === 'pipelines' ? 'pipeline' : 'state', sink);
  }
  // No event is delivered at all: a knob about how they are delivered could never apply.
  if (events.off === true) {
    for (const knob of Object.keys(events).filter((key) => key !== 'off')) addIssue(['events', knob], 'off: true delivers no event, so this never applies: leave it out, or off');
  }
  const delay = events.delaySeconds;
  if (Array.isArray(delay) && typeof delay[0] === 'number' && typeof delay[1] === 'number' && delay[0] > delay[1]) {
    addIssue(['events', 'delaySeconds'], 'expected [min, max] with min at most max');
  }
  for (const [index, name] of stringsOf(drop.pipelines)) {
    if (!codePipelineNames.has(name)) addIssue(['events', 'drop', 'pipelines', index], `no pipeline named "${name}" in this world`);
  }
  // Each narrows the events the drop applies to: an empty one leaves none, so the knob never applies.
  for (const field of ['pipelines', 'states'] as const) {
    if (Array.isArray(drop[field]) && drop[field].length === 0) addIssue(['events', 'drop', field], `empty: it would choose no event to drop; leave it out to drop those of every ${field === 'pipelines' ? 'pipeline' : 'state'}`);
  }

  for (const [index, fault] of objectsOf(json.faults)) {
    // A handler fault (picked by its key, as the schema picks it) names no operation, error or pipeline.
    if ('handler' in fault) continue;
    const { operation, error, pipelineName } = fault;
    if (isFaultableOperation(operation) && typeof error === 'string' && errorNamePattern.test(error)) {
      const answerable = [...errorsOf(operation), ...commonErrors];
      if (!answerable.includes(error)) addIssue(['faults', index, 'error'], `${operation} cannot answer ${error}: expected one of ${answerable.join(', ')}`);
    }
    if (typeof operation === 'string' && aboutNoPipeline.includes(operation) && pipelineName !== undefined) {
      addIssue(['faults', index, 'pipelineName'], `${operation} is about no pipeline: leave pipelineName out`);
    } else if (typeof pipelineName === 'string' && !codePipelineNames.has(pipelineName)) {
      addIssue(['faults', index, 'pipelineName'], `no pipeline named "${pipelineName}" in this world`);
    }
  }
  return issues;
}

export type World = z.output<typeof worldSchema>;
export type WorldAccount = NonNullable<World['accounts']>[number];

/** A pipeline of the world, where it lives, and the name the stage gives it. */
export interface WorldTarget {
  sequencedAs: string;
  accountId: string;
  region: string;
  definition: WorldPipeline;
  account?: WorldAccount;
}

/** Every pipeline of the world: the hub's first, then each account's, region by region. */
export function worldTargets(world: Pick<World, 'pipelines' | 'accounts'>): WorldTarget[] {
  return [
    ...world.pipelines.map((definition) => ({ sequencedAs: definition.name, accountId: hubAccountId, region: hubRegion, definition })),
    ...(world.accounts ?? []).flatMap((account) =>
      Object.entries(account.regions).flatMap(([region, pipelines]) =>
        pipelines.map((definition) => ({ sequencedAs: definition.sequencedAs ?? definition.name, accountId: account.id, region, definition, account })),
      ),
    ),
  ];
}

/** The names a stage would give the world's pipelines. */
export const worldPipelineNames = (world: Pick<World, 'pipelines' | 'accounts'>): string[] => worldTargets(world).map((target) => target.sequencedAs);

/** The role ARN the hub assumes in an account. */
export const worldRoleArn = (account: WorldAccount): string => `arn:aws:iam::${account.id}:role/${account.role.name}`;

/** The stage params a world implies: its pipelines as entries (`{ name, arn }` elsewhere) and a role per account. */
export function worldStageTargets(world: Pick<World, 'pipelines' | 'accounts'>): {
  pipelines: (string | { name: string; arn: string })[];
  accounts?: Record<string, { roleArn: string }>;
} {
  const pipelines = worldTargets(world).map((target) =>
    target.account ? { name: target.sequencedAs, arn: `arn:aws:codepipeline:${target.region}:${target.accountId}:${target.definition.name}` } : target.sequencedAs,
  );
  if (!world.accounts?.length) return { pipelines };
  return { pipelines, accounts: Object.fromEntries(world.accounts.map((account) => [account.id, { roleArn: worldRoleArn(account) }])) };
}
export type WorldPipeline = World['pipelines'][number];
export type PipelineOutcome = WorldPipeline['outcome'];
export type WorldStage = NonNullable<WorldPipeline['stages']>[number];
export type OperationFault = z.output<typeof operationFaultSchema>;
export type HandlerFault = z.output<typeof handlerFaultSchema>;
export type EventDelivery = z.output<typeof eventsSchema>;

export function operationFaults(world: World): OperationFault[] {
  return world.faults.filter((fault): fault is OperationFault => 'operation' in fault);
}

/** Crashes the runner injects into its handlers; the emulator never acts on these. */
export function handlerFaults(world: World): HandlerFault[] {
  return world.faults.filter((fault): fault is HandlerFault => 'handler' in fault);
}

export function parseWorld(json: unknown, sourceName: string): World {
  const result = worldSchema.safeParse(json, { reportInput: true });
  const crossChecked = crossCheckIssues(json);
  if (result.success && crossChecked.length === 0) return result.data;
  const issues = [...(result.success ? [] : result.error.issues), ...crossChecked.map(({ path, message }) => ({ code: 'custom' as const, path, message, input: undefined }))];
  throw new WorldFileError(`${sourceName} is not a valid world file:\n  ${issues.flatMap(describeIssue).join('\n  ')}`, {
    cause: new z.ZodError(issues),
  });
}

/** Reads and checks a world file; `-` is stdin, as for `--input-file -`. */
export async function loadWorld(path: string): Promise<World> {
  const label = fileLabel(path);
  let text: string;
  try {
    text = readCommandLineFile(path);
  } catch (error) {
    throw new WorldFileError(`${label}: cannot read the world file (${(error as Error).message})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WorldFileError(`${label}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return parseWorld(json, label);
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const fields = fieldsAt(worldSchema, issue.path);
    return issue.keys.map((key) => {
      const meant = closestName(key, fields);
      return `${worldFieldPath([...issue.path, key])}: unknown field${meant !== undefined ? ` (did you mean "${meant}"?)` : ''}`;
    });
  }
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  return [`${worldFieldPath(issue.path)}: ${missing ? 'required' : issue.message}`];
}

/** What a schema's definition holds, as far as finding the fields of an object inside it needs. */
interface SchemaDefinition {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  items?: z.core.$ZodType[];
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
}

/** The fields the object at `path` may have (every option's, inside a union): what a typo there may have meant. */
function fieldsAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const definition = schema._zod.def as SchemaDefinition;
  const [key, ...rest] = path;
  const inner = definition.innerType ?? definition.in;
  if (inner !== undefined) return fieldsAt(inner, path);
  if (definition.options !== undefined) return [...new Set(definition.options.flatMap((option) => fieldsAt(option, path)))];
  if (key === undefined) return definition.shape !== undefined ? Object.keys(definition.shape) : [];
  const next =
    definition.shape?.[String(key)] ?? definition.element ?? definition.valueType ?? (typeof key === 'number' ? definition.items?.[key] : undefined);
  return next !== undefined ? fieldsAt(next, rest) : [];
}

/** `pipelines[1].durationSeconds`, the way a reader would point at the field (src/field-path.ts). */
const worldFieldPath = (path: PropertyKey[]): string => fieldPath(path) || '(root)';
