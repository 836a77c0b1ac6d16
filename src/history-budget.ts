import type { HistoryCount, Phase } from './run.js';

/**
 * The one history budget of an execution. Step Functions fails a Standard execution whose
 * history reaches 25,000 events, counting the whole execution, not one pipeline; so the
 * handlers count the events as Step Functions writes them and the loop continues as new before
 * the limit (test/e2e/train.test.ts proves the count equals the local engine's own counter).
 *
 * Per AWS's history: ExecutionStarted opens it; a state writes Entered and Exited; a Lambda or
 * service Task also writes Scheduled, Started and Succeeded, and Scheduled, Started and Failed
 * for every attempt that failed and was retried ($$.State.RetryCount says how many).
 */
export const historyEventLimit = 25_000;

/**
 * Continue as new once one more step would bring an execution's history to this many events
 * (the hand-over's own events then end it a few past). The margin (1,000 events) is far
 * more than the costliest step can add: one look that exhausts every retrier (14 retries,
 * 42 events), the continuation itself (about 60 with its own retries), and a redrive (48).
 */
export const continueAtEvents = 24_000;

/**
 * The least a stage config may set instead (`continueAtEvents`, which only the local engine sets:
 * deploy/stage-config.cjs never writes it). Each execution of a train must still make progress:
 * its opening, a continuation's own events and a look that exhausts every retrier fit many times over.
 */
export const minContinueAtEvents = 500;

/** A Task that took `retryCount` failed attempts before this one. */
export const taskEvents = (retryCount: number): number => 5 + 3 * retryCount;

/** What one redrive adds before the redriven Task: the failed Task's attempts (at most 15), ExecutionFailed and ExecutionRedriven. */
export const redriveEvents = 1 + 3 * 15 + 1 + 1;

/** ExecutionStarted. */
export const openingEvents = 1;

/**
 * The states between a Task and the next one, by where the Task routes the loop (two events
 * each: Entered, Exited). See statemachines/sequencer.asl.yml.
 */
export const eventsOnTheWay = {
  /** DecideOrder → DryRun? → MorePipelines? → StartPipelines. */
  decidedToStart: 4,
  /** A continued run: DecideOrder → DryRun? → MorePipelines? → WaitForPipelines → CheckPipelines. */
  decidedToWatch: 6,
  /** StartPipelines → WaitForPipelines → CheckPipelines. */
  startedToWatch: 2,
  /** CheckPipelines → PipelinesDone? → WaitForPipelines → CheckPipelines. */
  checkedToWatch: 4,
  /** CheckPipelines → PipelinesDone? → MorePipelines? → StartPipelines (or SummariseRun). */
  checkedToStart: 4,
  /** CheckPipelines → PipelinesDone? → ContinueAsNew. */
  checkedToContinue: 2,
} as const;

/**
 * The count once the current Task exits: what the previous Task left, the states since, this
 * Task's attempts, and what each redrive since the last Task added.
 */
export function afterTask(
  previous: HistoryCount,
  { retryCount, redrivesSince }: { retryCount: number; redrivesSince: number },
): number {
  return previous.events + previous.pending + redrivesSince * redriveEvents + taskEvents(retryCount);
}

/** Whether the loop must hand over to a new execution rather than take one more step. */
export const mustContinue = (eventsAfterNextStep: number, at: number = continueAtEvents): boolean => eventsAfterNextStep >= at;

/**
 * With `completion: events` the wait is a callback Task, not a Wait state: besides Entered and
 * Exited it writes TaskScheduled, TaskStarted, TaskSubmitted and TaskSucceeded (or TaskTimedOut).
 * When its token write fails its condition (an end came first) there is no TaskSubmitted and
 * TaskFailed closes it: one event fewer, which check-status takes off (`waitEndedEarly`).
 */
export const callbackWaitExtraEvents = 4;
export const waitEndedEarlyEvents = -1;

export const waitExtraEvents = (completion: 'events' | 'poll'): number => (completion === 'events' ? callbackWaitExtraEvents : 0);

/** The count a check-status or start-pipeline hands on, given where it routes the loop. */
export function handOn(events: number, from: 'started' | 'checked', phase: Phase, completion: 'events' | 'poll' = 'poll'): HistoryCount {
  if (from === 'started') return { events, pending: eventsOnTheWay.startedToWatch + waitExtraEvents(completion) };
  const pending =
    phase === 'watch'
      ? eventsOnTheWay.checkedToWatch + waitExtraEvents(completion)
      : phase === 'start'
        ? eventsOnTheWay.checkedToStart
        : eventsOnTheWay.checkedToContinue;
  return { events, pending };
}
