import { timesOf } from './duration.js';
import { stillRunning } from './polling.js';
import { watchExecutions, watchLocation, watchOf, type EndThatWoke } from './event-wait.js';
import { markWatchEnded, reopenRunningWatch, watchKey } from './completion-table.js';
import { retryOvertaken } from './codepipeline.js';
import { logger } from './logger.js';
import type { Member, Plan, Run } from './run.js';

/**
 * onFailure `wait`: a Failed pipeline execution holds the train instead of failing it. Someone
 * may retry the failed stage in CodePipeline (RetryStageExecution): the same execution goes back
 * to InProgress (its event is RESUMED, with a higher `pipeline-execution-attempt`) and may then
 * succeed, and the train goes on by itself. Without a retry the run fails at the member's deadline.
 *
 * With completion: events the watch item says which states wake the run: a normal watch wakes on
 * an end, a held one (the run saw the execution Failed) on anything but FAILED, so a late or
 * duplicate FAILED costs nothing and RESUMED, SUCCEEDED and the rest wake it. Every wake is
 * confirmed with GetPipelineExecution, so an out-of-order FAILED after RESUMED never ends a wait.
 */

/** Held for a retry: Failed, onFailure `wait`, and its deadline not yet come. */
export const heldForRetry = (member: Member, plan: Plan, now: number): boolean =>
  plan.onFailure === 'wait' && member.status === 'Failed' && member.deadline !== undefined && now < Date.parse(member.deadline);

/**
 * retryOvertaken, but a question CodePipeline does not answer (throttled, or a role in another
 * account deployed before it was granted GetPipelineState) leaves the hold as it is: the next look
 * or sweep asks again, and the deadline ends the hold as it always did.
 */
export async function overtakenIfKnown(pipelineName: string, pipelineExecutionId: string, executionMode: string | undefined): Promise<Awaited<ReturnType<typeof retryOvertaken>>> {
  // PARALLEL: executions do not queue through the stages, and another one passing through the
  // failed stage need not make ours the stage's old news; what AWS does then is not documented.
  if (executionMode === 'PARALLEL') return undefined;
  try {
    return await retryOvertaken(pipelineName, pipelineExecutionId);
  } catch (error) {
    logger.warn('could not tell whether a failure held for a retry can still be retried', { pipelineName, pipelineExecutionId, error });
    return undefined;
  }
}

/** What a failure's cause adds when the run waited in vain. */
export const waitedForRetry = (member: Member, plan: Plan): string => {
  if (plan.onFailure !== 'wait' || member.status !== 'Failed') return '';
  const retried = member.retries === undefined ? '' : `; it was retried in CodePipeline ${timesOf(member.retries)} and failed again`;
  if (member.releasedBy !== undefined) return `${retried}; not held for a retry: ${member.releasedBy}, so no retry can let the entry succeed`;
  if (member.unretriable !== undefined) return `${retried}; not held for a retry: ${member.unretriable}`;
  // A retry that ran and failed between two looks is not seen (a poll's interval, an event's delay): say what was seen.
  const deadline = `until its deadline (pipelineTimeoutSeconds ${plan.pipelineTimeoutSeconds})`;
  return member.retries === undefined ? `; it waited for a retry ${deadline} and saw none` : `${retried}, then waited for another retry ${deadline} and saw none`;
};

export interface Armed {
  pipelineExecutionId: string;
  held: boolean;
}

/**
 * Before a look, with onFailure `wait` and completion: events: writes the member's watch again,
 * open (not marked ended) and held as the run last saw it. A wake marks the watch ended, and
 * with a retry that end may not be the last: any change after this write wakes the run through
 * it, and any change before it is what the look's GetPipelineExecution sees. Undefined when
 * there is nothing to arm (fail, poll, or not started).
 */
export async function armWatch(run: Run, member: Member, plan: Plan, completion: 'events' | 'poll'): Promise<Armed | undefined> {
  if (completion !== 'events' || plan.onFailure !== 'wait' || member.pipelineExecutionId === undefined || member.deadline === undefined) return undefined;
  const held = member.waitingForRetry === true;
  await watchExecutions(run, [watchOf(member, held)]);
  return { pipelineExecutionId: member.pipelineExecutionId, held };
}

/** What a look knows of how the run was woken, for the watches it writes after it. */
interface LookedAfter {
  completion: 'events' | 'poll';
  woke?: EndThatWoke;
}

/**
 * After a look that found the member running or held: the watch again, when the member's hold
 * changed (it failed, or a retry resumed it) or it follows a newer execution. Not armed (onFailure
 * `fail`), a watch an end marked is opened again: a FAILED event can come after someone retried
 * the failed stage, or the retry can come between the end that woke the run and its look, and
 * left marked, the watch would turn the retry's own end away, leaving the run to its deadline.
 * Only when the run's wait was ended by this execution's end, or by no end it was sent (its
 * deadline, an end recorded before it parked): a watch marked by an end that did not complete this
 * wait recorded that end for the next one, whose park then fails and whose look comes here without
 * a sent end. So a group's look writes nothing for the members it finds running, and neither does
 * a look before any wait (no end can have been recorded yet). (An end between this look and that
 * write finds the watch marked, and the next sweep finds it open.)
 */
export async function armedFor(run: Run, member: Member, armed: Armed | undefined, { completion, woke }: LookedAfter): Promise<void> {
  if (completion !== 'events') return;
  if (armed === undefined) {
    const markedByItsEnd = woke !== undefined && (woke.pipelineExecutionId === undefined || woke.pipelineExecutionId === member.pipelineExecutionId);
    if (member.pipelineExecutionId !== undefined && markedByItsEnd) await reopenRunningWatch(watchKey(watchLocation(run, member.pipelineName), member.pipelineExecutionId));
    return;
  }
  const held = member.waitingForRetry === true;
  if (armed.pipelineExecutionId === member.pipelineExecutionId && armed.held === held) return;
  // A followed superseder has its (open, normal) watch already.
  if (armed.pipelineExecutionId !== member.pipelineExecutionId && !held) return;
  await watchExecutions(run, [watchOf(member, held)]);
}

/**
 * After a look that found the member ended: marks its watch ended, as the end's event would have,
 * since armWatch reopened it; left open, its event, late, or the sweeper would find the end and
 * wake the run's next wait for nothing, and take the credit for noticing whatever ended by then.
 * Not armed, only when the run was not woken by this execution's own end, which marked the watch
 * already (a group's member found ended while another's end was handled, or a sweeper's look-now
 * state, which marks nothing).
 */
export async function disarm(run: Run, member: Member, armed: Armed | undefined, { completion, woke }: LookedAfter): Promise<void> {
  if (completion !== 'events') return;
  const pipelineExecutionId = armed?.pipelineExecutionId ?? member.pipelineExecutionId;
  if (pipelineExecutionId === undefined || (armed === undefined && woke?.marked === true && woke.pipelineExecutionId === pipelineExecutionId)) return;
  const key = watchKey(watchLocation(run, member.pipelineName), pipelineExecutionId);
  await markWatchEnded({ key, pipelineName: member.pipelineName, pipelineExecutionId, waitKey: '' }, member.status.toUpperCase());
}

/**
 * What the sweeper makes of an execution's status: the state to report, or undefined when it
 * must not wake the run (still running; or, for a held watch, still Failed). A held execution
 * found running again was retried and its RESUMED event was lost.
 */
export function sweptState(watch: { held?: boolean }, status: string, eventState: (status: string) => string): string | undefined {
  if (watch.held === true) {
    if (status === 'Failed') return undefined;
    return stillRunning.has(status) ? 'RESUMED' : eventState(status);
  }
  return stillRunning.has(status) ? undefined : eventState(status);
}
