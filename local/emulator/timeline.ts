import type { ExecutionMode, PipelineExecutionStatus } from '@aws-sdk/client-codepipeline';
import type { PipelineOutcome } from '../world.js';

/** Where an execution came from: the sequencer's own start, or something the world file scripts. */
export type ExecutionOrigin = 'sequencer' | 'history' | 'inProgressAtStart' | 'superseding';

export interface StopRequest {
  requestedAt: number;
  abandon: boolean;
  reason?: string;
  stoppedAt: number;
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
  variables: { name: string; value: string }[];
  clientRequestToken?: string;
  stopRequest?: StopRequest;
}

type TerminalStatus = Exclude<PipelineExecutionStatus, 'InProgress' | 'Stopping'>;

/** One execution's whole life, settled from the executions around it. */
export interface ResolvedExecution {
  execution: Execution;
  /** Later than startedAt only while a QUEUED execution waits for the one before it. */
  runsFrom: number;
  stoppingFrom?: number;
  endsAt: number;
  endStatus: TerminalStatus;
  endedBy: 'outcome' | 'newerExecution' | 'stopRequest';
  statusSummary?: string;
}

export interface ExecutionState {
  status: PipelineExecutionStatus;
  statusSummary?: string;
  lastUpdateTime: number;
  finishedAt: number | null;
}

/**
 * Settles every execution of one pipeline, in start order, for its execution mode:
 * - SUPERSEDED: a newer execution supersedes an older one still InProgress the moment it starts;
 * - QUEUED: each execution runs only once the one before it has ended;
 * - PARALLEL: each runs on its own.
 * A stop request ends an execution whatever its scripted outcome.
 */
export function resolveTimeline(executions: readonly Execution[], mode: ExecutionMode): ResolvedExecution[] {
  const inStartOrder = [...executions].sort((a, b) => a.startedAt - b.startedAt || a.sequence - b.sequence);
  let previousEndsAt = -Infinity;
  return inStartOrder.map((execution, index) => {
    const runsFrom = mode === 'QUEUED' ? Math.max(execution.startedAt, previousEndsAt) : execution.startedAt;
    const naturalEnd = runsFrom + execution.durationMs;
    const newer = mode === 'SUPERSEDED' ? inStartOrder[index + 1] : undefined;
    const supersededAt = newer && newer.startedAt < naturalEnd ? newer.startedAt : Infinity;
    const stop = execution.stopRequest;
    let resolved: ResolvedExecution;
    if (stop && stop.requestedAt < Math.min(naturalEnd, supersededAt)) {
      resolved = {
        execution,
        runsFrom,
        stoppingFrom: stop.requestedAt,
        endsAt: stop.stoppedAt,
        endStatus: 'Stopped',
        endedBy: 'stopRequest',
      };
    } else if (supersededAt < naturalEnd) {
      resolved = { execution, runsFrom, endsAt: supersededAt, endStatus: 'Superseded', endedBy: 'newerExecution' };
    } else {
      resolved = {
        execution,
        runsFrom,
        endsAt: naturalEnd,
        endStatus: execution.outcome,
        endedBy: 'outcome',
        ...(execution.statusSummary !== undefined && { statusSummary: execution.statusSummary }),
      };
    }
    previousEndsAt = resolved.endsAt;
    return resolved;
  });
}

export function stateAt(resolved: ResolvedExecution, now: number): ExecutionState {
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
  // A QUEUED execution waiting its turn reports InProgress: PipelineExecutionStatus has no waiting value.
  const running = now >= resolved.runsFrom;
  return {
    status: 'InProgress',
    lastUpdateTime: running ? resolved.runsFrom : resolved.execution.startedAt,
    finishedAt: null,
  };
}
