import * as z from 'zod/mini';
import type { ExpectedDuration } from './polling.js';

/**
 * The state the Step Functions loop carries: `plan` (decided once, never changes) and `run`
 * (where the train is, the members of the current entry, the finished pipelines, and the
 * history budget of this execution). start-pipeline and check-status each take
 * { plan, run, execution, retryCount, redriveCount } and return the next run.
 */

/** One entry of the order: a pipeline, or a group of pipelines that run at the same time. */
export type OrderEntry = string | string[];

export const membersOf = (entry: OrderEntry): string[] => (typeof entry === 'string' ? [entry] : entry);

/** Where a member stands in the plan, as every cause names it: `P2 (position 2 of 3, in a group of 2)`. */
export function memberPlace(member: { pipelineName: string; position: number }, plan: Pick<Plan, 'order' | 'count'>): string {
  const entry = plan.order[member.position]!;
  const group = typeof entry === 'string' ? '' : `, in a group of ${entry.length}`;
  return `${member.pipelineName} (position ${member.position + 1} of ${plan.count}${group})`;
}

/** The pipelines of the entry a run is on: its members, or, between entries (starting the next), that entry's names. */
export function entryPipelines(plan: Plan | undefined, run: Run | undefined): string[] {
  const members = run?.members ?? [];
  if (members.length > 0) return members.map((member) => member.pipelineName);
  const entry = run !== undefined ? plan?.order[run.index] : undefined;
  return entry !== undefined ? membersOf(entry) : [];
}

export interface Plan {
  order: OrderEntry[];
  /** How many entries the order has (a group counts once). */
  count: number;
  /** Where the order came from: `order`, `sequence:<name>` or `default:<name>`. */
  source: string;
  dryRun: boolean;
  /** `from`: the pipeline the run resumes at; entries before its entry are Skipped. */
  from?: string;
  variables: Record<string, Record<string, string>>;
  onSuperseded: 'follow' | 'fail';
  /** `wait`: a Failed member holds the entry until it is retried or its deadline; absent (plans from before it existed) is `fail`. */
  onFailure?: 'fail' | 'wait';
  pipelineTimeoutSeconds: number;
  polling: { pollSeconds: number; maxPollSeconds: number };
  /** `events` when the stage deploys the callback wait (absent: the poll loop). */
  completion?: 'events' | 'poll';
  /** Continue as new once one more step would bring the history to this many events, instead of 24,000 (src/history-budget.ts); only local runs set it (`--continue-at`, tests). */
  continueAtEvents?: number;
  decidedAt: string;
}

/** What the loop routes on after each Task: start the entry at `index`, watch its members, or continue as new. */
export type Phase = 'start' | 'watch' | 'continue';

/** One pipeline of the current entry: a lone pipeline, or one member of a group. */
export interface Member {
  /** 0-based index of the entry in the order. */
  position: number;
  /** 0-based index within the entry (0 for a lone pipeline). */
  member: number;
  pipelineName: string;
  /** 0 for the first start; n for the start made after the execution's n-th redrive. */
  attempt: number;
  /** `Pending` until started; then CodePipeline's status, or `TimedOut`. */
  status: string;
  pipelineExecutionId?: string;
  statusSummary?: string;
  /** When we started it (ISO-8601). */
  startedAt?: string;
  /** The pipeline's timeout: past this instant the run fails with PipelineTimedOut. */
  deadline?: string;
  /** When the execution being watched started: ours, or the newer one that superseded it. */
  watchedSince?: string;
  /** When this member is due for its next look. */
  nextLookAt?: string;
  finishedAt?: string;
  /** When check-status saw the terminal status: finishedAt + detection latency. */
  detectedAt?: string;
  /** What made check-status look when it saw the end: `event`, `sweep`, `poll` or `timeout`. */
  detectedBy?: string;
  polls: number;
  expected?: ExpectedDuration;
  /**
   * The executions it superseded, when onSuperseded is `follow`: ours first, then each newer one;
   * past `keptSupersededIds` (src/superseded.ts), ours and the latest, so that a pipeline
   * superseded for days cannot grow the run state past Step Functions' 256 KiB.
   */
  supersededExecutionIds: string[];
  /** How many superseded executions between ours and the latest are no longer listed. */
  supersededOmitted?: number;
  /** Executions started by earlier attempts (before a redrive restarted this member). */
  earlierExecutionIds: string[];
  /**
   * With onFailure `wait`: the execution is Failed, and the run holds the entry until it is
   * retried in CodePipeline (RetryStageExecution) or its deadline comes.
   */
  waitingForRetry?: boolean;
  /** With onFailure `wait`: how many times the run saw its failed execution retried in CodePipeline. */
  retries?: number;
  /** With onFailure `wait`: why it is held no more before its deadline (`P2 ended Stopped`: the entry cannot succeed). */
  releasedBy?: string;
  /** With onFailure `wait`: why no retry can come any more (a later execution ran its failed stage). */
  unretriable?: string;
  /** A pipeline elsewhere: where it runs, as started (the progress lines, here and on AWS, name it). Kept while it is the current entry. */
  location?: PipelineLocation;
  /**
   * The execution was started by an attempt that failed without hearing back, and a redrive
   * found it in CodePipeline instead of starting the pipeline again (src/lost-starts.ts).
   */
  startLost?: boolean;
  /** For a non-success: the error name the run fails with, and a cause naming pipeline and execution. */
  error?: string;
  cause?: string;
  /**
   * The values forwarded from earlier pipelines it was started with: only its variables whose
   * value holds a reference, as resolved (the literal ones are in the plan). Kept while it is
   * the current entry, never in the results: src/references.ts bounds them.
   */
  variables?: Record<string, string>;
}

/** Where a pipeline outside the functions' account and region runs, under its own CodePipeline name. */
export interface PipelineLocation {
  accountId: string;
  region: string;
  pipelineName: string;
}

export interface PipelineResult {
  position: number;
  member: number;
  pipelineName: string;
  /** `Succeeded`, or `Skipped` for an entry before `from`. */
  status: string;
  pipelineExecutionId?: string;
  attempt?: number;
  startedAt?: string;
  finishedAt?: string;
  detectedAt?: string;
  detectedBy?: string;
  polls?: number;
  supersededExecutionIds?: string[];
  supersededOmitted?: number;
  /** Executions of earlier attempts, when a redrive restarted this pipeline. */
  earlierExecutionIds?: string[];
  /** Its execution was started by an attempt that failed without hearing back, and found by a redrive (Member.startLost). */
  startLost?: boolean;
  /** Its execution failed and was retried in CodePipeline this many times before it succeeded (onFailure: wait). */
  retries?: number;
}

/**
 * The history budget of this execution, counted as Step Functions counts it (src/history-budget.ts):
 * `events` once the last Task has exited, `pending` the events of the states the loop passes
 * through before the next Task.
 */
export interface HistoryCount {
  events: number;
  pending: number;
}

export interface Run {
  /** The entry being run (or next to start); `plan.count` once all have succeeded. */
  index: number;
  phase: Phase;
  /** The next wait of WaitForPipelines: until the first member is due for a look. */
  waitSeconds: number;
  /** The current entry's pipelines, one per member. */
  members: Member[];
  results: PipelineResult[];
  history: HistoryCount;
  /** How many redrives this run has taken into account (Step Functions' RedriveCount). */
  redrives: number;
  /** 1 for the train's first execution, n for its (n-1)-th continuation. */
  generation: number;
  /** The train's first execution: idempotency tokens and successor names derive from it. */
  origin: { executionArn: string; executionName: string };
  /** Set with phase `continue`: the successor to start, and where it resumes. */
  successor?: { executionName: string; resume: 'start' | 'watch' };
  /**
   * With `completion: events`, the next wait on the completion table (src/completion-table.ts):
   * its item, its sequence number (one more per wait, continuations included) and the item's TTL.
   */
  wait?: { key: string; seq: number; expiresAt: number };
  /** What ended the last wait, as the callback Task's ResultPath writes it: the waker's output, or the caught error. */
  wake?: Record<string, unknown>;
}

const atLeast = (min: number) => z.int().check(z.minimum(min));
const text = z.string();
const nonEmpty = z.string().check(z.minLength(1));
const isoTime = z.iso.datetime();

const expectedSchema = z.strictObject({
  fastestSeconds: z.number(),
  slowestSeconds: z.number(),
  samples: z.number(),
});

const memberSchema = z.strictObject({
  position: atLeast(0),
  member: atLeast(0),
  pipelineName: nonEmpty,
  attempt: atLeast(0),
  status: nonEmpty,
  pipelineExecutionId: z.optional(nonEmpty),
  statusSummary: z.optional(text),
  startedAt: z.optional(isoTime),
  deadline: z.optional(isoTime),
  watchedSince: z.optional(isoTime),
  nextLookAt: z.optional(isoTime),
  finishedAt: z.optional(isoTime),
  detectedAt: z.optional(isoTime),
  detectedBy: z.optional(text),
  polls: atLeast(0),
  expected: z.optional(expectedSchema),
  supersededExecutionIds: z.array(text),
  supersededOmitted: z.optional(atLeast(1)),
  earlierExecutionIds: z.array(text),
  error: z.optional(text),
  cause: z.optional(text),
  waitingForRetry: z.optional(z.boolean()),
  retries: z.optional(atLeast(1)),
  releasedBy: z.optional(text),
  unretriable: z.optional(text),
  location: z.optional(z.strictObject({ accountId: nonEmpty, region: nonEmpty, pipelineName: nonEmpty })),
  startLost: z.optional(z.boolean()),
  variables: z.optional(z.record(text, text)),
});

const resultSchema = z.strictObject({
  position: atLeast(0),
  member: atLeast(0),
  pipelineName: nonEmpty,
  status: nonEmpty,
  pipelineExecutionId: z.optional(text),
  attempt: z.optional(atLeast(0)),
  startedAt: z.optional(text),
  finishedAt: z.optional(text),
  detectedAt: z.optional(text),
  detectedBy: z.optional(text),
  polls: z.optional(atLeast(0)),
  supersededExecutionIds: z.optional(z.array(text)),
  supersededOmitted: z.optional(atLeast(1)),
  earlierExecutionIds: z.optional(z.array(text)),
  startLost: z.optional(z.boolean()),
  retries: z.optional(atLeast(1)),
});

export const orderEntrySchema = z.union([text, z.array(text)]);

export const planSchema = z.strictObject({
  order: z.array(orderEntrySchema).check(z.minLength(1)),
  count: atLeast(1),
  source: text,
  dryRun: z.boolean(),
  from: z.optional(text),
  variables: z.record(text, z.record(text, text)),
  onSuperseded: z.enum(['follow', 'fail']),
  onFailure: z.optional(z.enum(['fail', 'wait'])),
  pipelineTimeoutSeconds: atLeast(1),
  polling: z.strictObject({ pollSeconds: atLeast(1), maxPollSeconds: atLeast(1) }),
  completion: z.optional(z.enum(['events', 'poll'])),
  continueAtEvents: z.optional(atLeast(1)),
  decidedAt: isoTime,
});

export const runSchema = z.strictObject({
  index: atLeast(0),
  phase: z.enum(['start', 'watch', 'continue']),
  waitSeconds: z.number().check(z.minimum(0)),
  members: z.array(memberSchema),
  results: z.array(resultSchema),
  history: z.strictObject({ events: atLeast(0), pending: atLeast(0) }),
  redrives: atLeast(0),
  generation: atLeast(1),
  origin: z.strictObject({ executionArn: nonEmpty, executionName: nonEmpty }),
  successor: z.optional(z.strictObject({ executionName: nonEmpty, resume: z.enum(['start', 'watch']) })),
  wait: z.optional(z.strictObject({ key: nonEmpty, seq: atLeast(1), expiresAt: atLeast(0) })),
  wake: z.optional(z.record(text, z.unknown())),
});

/**
 * What start-pipeline and check-status accept. The state machine builds it, so a mismatch is a
 * bug in the definition, reported as InvalidInput naming the field rather than a TypeError.
 */
export const stepInputSchema = z.strictObject({
  plan: planSchema,
  run: runSchema,
  execution: z.strictObject({ id: nonEmpty, name: nonEmpty, stateMachineArn: nonEmpty }),
  /** $$.State.RetryCount: failed attempts of this Task before this one (history they wrote). */
  retryCount: atLeast(0),
  /** $$.Execution.RedriveCount: a rise means the execution was redriven since the last Task. */
  redriveCount: atLeast(0),
});

export type StepInput = z.infer<typeof stepInputSchema>;

/** What the run was doing, for a failure's cause: `watching P2 execution abc (position 2 of 3)`. */
export function whatWasLeft(plan: Plan, run: Run): string {
  const members = run.members.map((member) =>
    member.pipelineExecutionId === undefined
      ? `${member.pipelineName} (not started)`
      : `${member.pipelineName} execution ${member.pipelineExecutionId} (${member.status})`,
  );
  if (members.length === 0) return `about to start position ${run.index + 1} of ${plan.count}`;
  return `at position ${run.index + 1} of ${plan.count}: ${members.join(', ')}`;
}
