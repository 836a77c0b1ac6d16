import type { ExecutionMode, PipelineExecutionStatus } from '@aws-sdk/client-codepipeline';
import type { PipelineOutcome } from '../world.js';

/** Where an execution came from: the sequencer's own start, or something the world file scripts. */
export type ExecutionOrigin = 'sequencer' | 'history' | 'inProgressAtStart' | 'superseding' | 'rerun';

export interface StopRequest {
  requestedAt: number;
  abandon: boolean;
  reason?: string;
  stoppedAt: number;
}

/** A StartPipelineExecution sourceRevisions entry, as given. */
export interface SourceRevision {
  actionName: string;
  revisionType: string;
  revisionValue: string;
}

/** What was decided when an execution started; its status is derived from this and the clock. */
export interface Execution {
  pipelineExecutionId: string;
  /** Creation order across the whole emulator: breaks ties between executions started at the same instant. */
  sequence: number;
  origin: ExecutionOrigin;
  startedAt: number;
  durationMs: number;
  outcome: PipelineOutcome;
  statusSummary?: string;
  /** The variables given at start (the declared defaults fill in the rest). */
  variables: { name: string; value: string }[];
  sourceRevisions: SourceRevision[];
  clientRequestToken?: string;
  /** Who called StartPipelineExecution (trigger.triggerDetail): the caller's role session ARN. */
  startedBy?: string;
  stopRequest?: StopRequest;
  /** Ending Failed by its outcome: retried (RetryStageExecution) afterMs after each failure, ending as `outcome` durationMs later; the next retry follows a failed one. */
  retry?: ScriptedRetry[];
}

type TerminalStatus = Exclude<PipelineExecutionStatus, 'InProgress' | 'Stopping'>;

export interface ScriptedRetry {
  afterMs: number;
  durationMs: number;
  outcome: 'Succeeded' | 'Failed';
  statusSummary?: string;
}

/** One retry of the failed stage: InProgress again from `at` (attempt `attempt`), ended as `status` at `endsAt`. */
export interface Retried {
  at: number;
  endsAt: number;
  attempt: number;
  status: 'Succeeded' | 'Failed';
  statusSummary?: string;
}
export type StageEndStatus = 'Succeeded' | 'Failed' | 'Stopped' | 'Cancelled';

/** An execution's time inside one stage. */
export interface StageVisit {
  stageIndex: number;
  enteredAt: number;
  /** Infinity while the execution is still inside and its way out is not yet known. */
  leftAt: number;
  endStatus: StageEndStatus;
}

/** An execution's time in front of a locked stage (or a held transition). */
export interface StageWait {
  stageIndex: number;
  from: number;
  until: number;
  /** Waiting at a transition the world holds disabled, not merely at a busy stage. */
  held: boolean;
}

/** One execution's whole life, settled from the executions around it. */
export interface ResolvedExecution {
  execution: Execution;
  visits: StageVisit[];
  waits: StageWait[];
  stoppingFrom?: number;
  /** Infinity while the end depends on something that has not happened yet (a newer execution). */
  endsAt: number;
  endStatus: TerminalStatus;
  endedBy: 'outcome' | 'newerExecution' | 'stopRequest';
  supersededBy?: string;
  /** A scripted supersession: the instant it reached the held transition, when the newer execution starts. */
  heldAt?: number;
  statusSummary?: string;
  /**
   * Its failed stage retried, once or more: each InProgress again from `at` (attempt 2, 3, ...),
   * ended at `endsAt`, the next after a failed one. Retries run outside the stage locks: no other
   * execution is made to wait for them.
   */
  retried?: Retried[];
}

export interface ExecutionState {
  status: PipelineExecutionStatus;
  statusSummary?: string;
  lastUpdateTime: number;
  finishedAt: number | null;
}

/** One execution's stage times: its duration split in the pipeline's proportions, summing exactly. */
export function stageDurations(durationMs: number, stageSeconds: readonly number[]): number[] {
  const total = stageSeconds.reduce((sum, seconds) => sum + seconds, 0);
  let elapsed = 0;
  let boundary = 0;
  return stageSeconds.map((seconds) => {
    elapsed += seconds;
    const next = Math.round((durationMs * elapsed) / total);
    const duration = next - boundary;
    boundary = next;
    return duration;
  });
}

interface Runtime {
  resolved: ResolvedExecution;
  durations: number[];
  phase: 'arriving' | 'waiting' | 'inStage' | 'ended';
  stage: number;
  stopping: boolean;
  /** Bumped when a stop overtakes the stage's own end, so that end is ignored. */
  generation: number;
}

type EventKind = 'stageDone' | 'stopped' | 'stop' | 'arrive';
// At one instant, stages are released before anyone asks to enter them.
const kindRank: Record<EventKind, number> = { stageDone: 0, stopped: 0, stop: 1, arrive: 2 };

interface TimelineEvent {
  at: number;
  kind: EventKind;
  runtime: Runtime;
  generation: number;
}

/**
 * Settles every execution of one pipeline by AWS's rules for its execution mode ("How pipeline
 * executions work", CodePipeline User Guide):
 * - SUPERSEDED: a stage holds one execution at a time; an execution that finished a stage waits in
 *   front of the next one while it is locked; a newer execution arriving where an older one waits
 *   supersedes it. No execution is ever superseded inside a stage.
 * - QUEUED: stages are locked the same way, and waiting executions queue in arrival order.
 * - PARALLEL: nothing is locked; each execution runs on its own.
 * A stop request ends an execution whatever its scripted outcome; a stopping one keeps its stage.
 */
export function resolveTimeline(
  executions: readonly Execution[],
  mode: ExecutionMode,
  stageSeconds: readonly number[],
): ResolvedExecution[] {
  const lastStage = stageSeconds.length - 1;
  const holders: (Runtime | undefined)[] = stageSeconds.map(() => undefined);
  const waiting: Runtime[][] = stageSeconds.map(() => []);
  const events: TimelineEvent[] = [];
  const schedule = (at: number, kind: EventKind, runtime: Runtime) =>
    events.push({ at, kind, runtime, generation: runtime.generation });

  const runtimes = [...executions]
    .sort((a, b) => a.startedAt - b.startedAt || a.sequence - b.sequence)
    .map((execution): Runtime => {
      const runtime: Runtime = {
        resolved: { execution, visits: [], waits: [], endsAt: Infinity, endStatus: 'Succeeded', endedBy: 'outcome' },
        durations: stageDurations(execution.durationMs, stageSeconds),
        phase: 'arriving',
        stage: 0,
        stopping: false,
        generation: 0,
      };
      schedule(execution.startedAt, 'arrive', runtime);
      if (execution.stopRequest) schedule(execution.stopRequest.requestedAt, 'stop', runtime);
      return runtime;
    });

  const finish = (runtime: Runtime, at: number, status: TerminalStatus, endedBy: ResolvedExecution['endedBy']) => {
    runtime.phase = 'ended';
    Object.assign(runtime.resolved, { endsAt: at, endStatus: status, endedBy });
    const { statusSummary } = runtime.resolved.execution;
    if (endedBy === 'outcome' && statusSummary !== undefined) runtime.resolved.statusSummary = statusSummary;
    const { retry } = runtime.resolved.execution;
    if (endedBy === 'outcome' && status === 'Failed' && retry) runtime.resolved.retried = retriesFrom(at, retry, statusSummary);
  };
  const stopWaiting = (runtime: Runtime, at: number) => {
    const queue = waiting[runtime.stage]!;
    queue.splice(queue.indexOf(runtime), 1);
    runtime.resolved.waits.at(-1)!.until = at;
  };
  const enter = (runtime: Runtime, stageIndex: number, at: number) => {
    const wait = runtime.resolved.waits.at(-1);
    if (wait && wait.stageIndex === stageIndex && wait.until === Infinity) wait.until = at;
    if (mode !== 'PARALLEL') holders[stageIndex] = runtime;
    runtime.phase = 'inStage';
    runtime.stage = stageIndex;
    runtime.resolved.visits.push({ stageIndex, enteredAt: at, leftAt: Infinity, endStatus: 'Succeeded' });
    schedule(at + runtime.durations[stageIndex]!, 'stageDone', runtime);
  };
  const admit = (stageIndex: number, at: number) => {
    const next = waiting[stageIndex]![0];
    if (mode === 'PARALLEL' || holders[stageIndex] !== undefined || !next || next.resolved.waits.at(-1)!.held) return;
    waiting[stageIndex]!.shift();
    enter(next, stageIndex, at);
  };
  const release = (runtime: Runtime, stageIndex: number, at: number) => {
    if (holders[stageIndex] === runtime) holders[stageIndex] = undefined;
    admit(stageIndex, at);
  };
  const wantStage = (runtime: Runtime, stageIndex: number, at: number) => {
    runtime.stage = stageIndex;
    if (mode === 'SUPERSEDED') {
      // Rule 3: whoever waits here is older than this execution, and is superseded by it.
      for (const older of waiting[stageIndex]!.splice(0)) {
        older.resolved.waits.at(-1)!.until = at;
        older.resolved.supersededBy = runtime.resolved.execution.pipelineExecutionId;
        finish(older, at, 'Superseded', 'newerExecution');
      }
    }
    const held = runtime.resolved.execution.outcome === 'Superseded' && stageIndex === lastStage;
    const free = mode === 'PARALLEL' || (holders[stageIndex] === undefined && waiting[stageIndex]!.length === 0);
    if (!held && free) {
      enter(runtime, stageIndex, at);
      return;
    }
    if (held) runtime.resolved.heldAt = at;
    runtime.phase = 'waiting';
    waiting[stageIndex]!.push(runtime);
    runtime.resolved.waits.push({ stageIndex, from: at, until: Infinity, held });
  };

  const handlers: Record<EventKind, (runtime: Runtime, at: number) => void> = {
    arrive: (runtime, at) => wantStage(runtime, 0, at),
    stageDone: (runtime, at) => {
      const stageIndex = runtime.stage;
      const visit = runtime.resolved.visits.at(-1)!;
      visit.leftAt = at;
      if (stageIndex === lastStage) {
        const outcome = runtime.resolved.execution.outcome;
        visit.endStatus = outcome === 'Superseded' ? 'Succeeded' : outcome;
        finish(runtime, at, outcome, 'outcome');
        release(runtime, stageIndex, at);
        return;
      }
      release(runtime, stageIndex, at);
      wantStage(runtime, stageIndex + 1, at);
    },
    stop: (runtime, at) => {
      if (runtime.phase === 'ended' || runtime.stopping) return;
      runtime.stopping = true;
      runtime.resolved.stoppingFrom = at;
      runtime.generation += 1;
      if (runtime.phase === 'waiting') {
        stopWaiting(runtime, at);
        admit(runtime.stage, at);
      }
      schedule(runtime.resolved.execution.stopRequest!.stoppedAt, 'stopped', runtime);
    },
    stopped: (runtime, at) => {
      if (runtime.phase === 'inStage') {
        Object.assign(runtime.resolved.visits.at(-1)!, { leftAt: at, endStatus: 'Stopped' });
        finish(runtime, at, 'Stopped', 'stopRequest');
        release(runtime, runtime.stage, at);
        return;
      }
      finish(runtime, at, 'Stopped', 'stopRequest');
    },
  };

  for (;;) {
    events.sort((a, b) => a.at - b.at || kindRank[a.kind] - kindRank[b.kind] || a.runtime.resolved.execution.sequence - b.runtime.resolved.execution.sequence);
    const event = events.shift();
    if (!event) break;
    const { runtime } = event;
    const stale = event.kind !== 'arrive' && event.kind !== 'stop' && event.generation !== runtime.generation;
    if (runtime.phase === 'ended' || stale) continue;
    handlers[event.kind](runtime, event.at);
  }
  return runtimes.map((runtime) => runtime.resolved);
}

/** The retries a failure at `failedAt` sets off, one after another until one succeeds or the script ends. */
function retriesFrom(failedAt: number, script: ScriptedRetry[], statusSummary: string | undefined): Retried[] {
  const retried: Retried[] = [];
  let end = failedAt;
  for (const [index, { afterMs, durationMs, outcome, statusSummary: told }] of script.entries()) {
    const at = end + afterMs;
    end = at + durationMs;
    const summary = told ?? statusSummary;
    retried.push({ at, endsAt: end, attempt: index + 2, status: outcome, ...(outcome === 'Failed' && summary !== undefined && { statusSummary: summary }) });
    if (outcome === 'Succeeded') break;
  }
  return retried;
}

export function stateAt(resolved: ResolvedExecution, now: number): ExecutionState {
  const retry = resolved.retried?.findLast((candidate) => now >= candidate.at);
  if (retry !== undefined) {
    // The same execution, retried: InProgress again, then ended as the retry did.
    if (now < retry.endsAt) return { status: 'InProgress', lastUpdateTime: retry.at, finishedAt: null };
    return { status: retry.status, ...(retry.statusSummary !== undefined && { statusSummary: retry.statusSummary }), lastUpdateTime: retry.endsAt, finishedAt: retry.endsAt };
  }
  if (now >= resolved.endsAt) {
    return {
      status: resolved.endStatus,
      ...(resolved.statusSummary !== undefined && { statusSummary: resolved.statusSummary }),
      lastUpdateTime: resolved.endsAt,
      finishedAt: resolved.endsAt,
    };
  }
  if (resolved.stoppingFrom !== undefined && now >= resolved.stoppingFrom) {
    return { status: 'Stopping', lastUpdateTime: resolved.stoppingFrom, finishedAt: null };
  }
  // A waiting execution reports InProgress: PipelineExecutionStatus has no waiting value.
  const changes = [
    resolved.execution.startedAt,
    ...resolved.visits.flatMap((visit) => [visit.enteredAt, visit.leftAt]),
    ...resolved.waits.map((wait) => wait.from),
  ].filter((instant) => instant <= now);
  return { status: 'InProgress', lastUpdateTime: Math.max(...changes), finishedAt: null };
}
