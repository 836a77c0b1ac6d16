import * as z from 'zod/mini';
import { claimGraceSeconds, finishWaking, getWait, getWatch, lookNowStates, markWatchEnded, keepAfterDeadlineSeconds, reopenWatch, takeOverWaking, wakesWatch, type WatchItem } from './completion-table.js';
import { completeClaimed, wake, type WakeResult, type WakeSource } from './wake.js';
import { nowMs } from './clock.js';
import { logger } from './logger.js';
import { parseOrThrow } from './parse.js';
import { pipelineKey } from './targets.js';

/** The CodePipeline execution states an event may carry that end an execution. */
export const endStates = ['SUCCEEDED', 'FAILED', 'STOPPED', 'SUPERSEDED', 'CANCELED'] as const;

/**
 * "CodePipeline Pipeline Execution State Change", as EventBridge delivers it. Only what we read
 * is checked; `version` is a number in current examples and a string in older ones.
 */
const pipelineEventSchema = z.object({
  source: z.literal('aws.codepipeline'),
  'detail-type': z.literal('CodePipeline Pipeline Execution State Change'),
  // Where the pipeline is: its own account and region, also when its account forwarded the event to ours.
  account: z.string().check(z.minLength(1)),
  region: z.string().check(z.minLength(1)),
  time: z.optional(z.string()),
  detail: z.object({
    pipeline: z.string().check(z.minLength(1)),
    'execution-id': z.string().check(z.minLength(1)),
    state: z.string().check(z.minLength(1)),
    version: z.optional(z.union([z.number(), z.string()])),
    'pipeline-execution-attempt': z.optional(z.union([z.number(), z.string()])),
  }),
});

export type PipelineEvent = z.infer<typeof pipelineEventSchema>;

export type EventOutcome = 'not-an-end' | 'not-ours' | 'duplicate' | WakeResult;

/**
 * The event is a hint: it wakes the run, and check-status asks GetPipelineExecution what
 * happened. Idempotent in every case the bus can produce: a state that ends nothing is ignored
 * (STARTED after SUCCEEDED included), an execution no run watches is not ours, a second end
 * for the same execution is a duplicate, and `wake` meets the waiting run on its wait item.
 */
export async function onPipelineEvent(raw: unknown): Promise<EventOutcome> {
  const event = parseOrThrow(pipelineEventSchema, raw, 'event');
  const { pipeline, 'execution-id': executionId, state } = event.detail;
  // RESUMED: a Failed execution was retried; it wakes only a run holding it (src/retry-hold.ts).
  if (!(endStates as readonly string[]).includes(state) && state !== 'RESUMED') return 'not-an-end';
  // The watch is found by where the pipeline is, never by its name alone: a namesake in another
  // account or region (forwarded to the same bus) finds no watch, and wakes nobody.
  return endOf({ location: pipelineKey(event.account, event.region, pipeline), pipelineExecutionId: executionId, state }, 'event');
}

/**
 * The one path every noticed end takes (event or sweep): find the watch, mark it once, wake the
 * run. `location` is the pipeline's pipelineKey; the sweeper passes the watch it read instead.
 */
export async function endOf(end: { location?: string; pipelineExecutionId: string; state: string }, by: WakeSource, watch?: WatchItem): Promise<EventOutcome> {
  const now = nowMs();
  const watched = watch ?? (end.location === undefined ? undefined : await getWatch(end.location, end.pipelineExecutionId, now));
  if (!watched) {
    logger.info('an execution no run watches', end);
    return 'not-ours';
  }
  if (!wakesWatch(watched, end.state)) {
    // Marked by a delivery that died, and held since (onFailure: wait): that end wakes nobody now.
    // Judged by the end it marked, not by this event's state: an end that still wakes the run
    // (a RESUMED coming after a FAILED whose delivery died) stays marked, for the sweeper to take over.
    if (diedBeforeRecording(watched, now) && !wakesWatch(watched, watched.ended ?? end.state)) await clearWaking(watched, watched.waking * 1000);
    return 'not-an-end';
  }
  const ended = { pipelineName: watched.pipelineName, pipelineExecutionId: end.pipelineExecutionId, state: end.state };
  const output = { by, at: new Date(now).toISOString(), ...ended };
  // The sweeper asks the run to look, and nothing has ended: the watch stays open, for the end to come if the look finds it running.
  if (lookNowStates.has(end.state)) return wake(watched.waitKey, output, now, now + keepAfterDeadlineSeconds * 1000, async () => {});
  // Marked with another end whose mark is still on (its delivery at work, or its clearing failed):
  // this end came after it, a retry having run since, and the run's look could not open the watch
  // again while that mark was on. It wakes the run too: a stale one costs a look at most.
  const afterAnotherEnd = watched.waking !== undefined && watched.ended !== undefined && watched.ended !== end.state && !diedBeforeRecording(watched, now);
  if (!afterAnotherEnd && !(await markWatchEnded(watched, end.state, now))) {
    if (!diedBeforeRecording(watched, now)) return (await completeClaimed(watched.waitKey, output, now)) ? 'completed' : 'duplicate';
    // The delivery that marked it died before it cleared the mark: this one takes over, unless
    // another retry or sweep did first. If that delivery got as far as recording the end on the
    // wait item, only its claim (if it claimed) is completed again; otherwise the end is recorded now.
    if (!(await takeOverWaking(watched, now))) return 'duplicate';
    const { lastEnd } = (await getWait(watched.waitKey, now)) ?? {};
    // That delivery's own record: the same end, made when it marked the watch (its output's `at`
    // is the mark's `waking`). An earlier end of the same execution and state (failed twice,
    // onFailure: wait) is not it.
    const recordedByIt = lastEnd?.at !== undefined && Math.floor(Date.parse(lastEnd.at) / 1000) === watched.waking;
    if (lastEnd?.pipelineExecutionId === end.pipelineExecutionId && lastEnd.state === end.state && recordedByIt) {
      const completed = await completeClaimed(watched.waitKey, output, now);
      await clearWaking(watched, now);
      return completed ? 'completed' : 'duplicate';
    }
  }
  // The end woke nobody: open the watch again, so that Lambda's retry of this invocation is no
  // duplicate, and the sweeper sees it. Before a claim is given back: the end then stays where a
  // retry or a sweep finds it (an open watch, or the claim), whichever of the two writes fails.
  // Once per delivery: a second reopen, after the claim was given back, could remove the mark of
  // another delivery of this end that claimed and woke the run in between.
  let reopened = false;
  const reopen = async () => {
    // The watch is the other end's: its delivery, or the sweeper's takeover of it, wakes the run.
    if (reopened || afterAnotherEnd) return;
    reopened = true;
    await reopenWatch(watched, watched.ended ?? end.state);
  };
  const result = await wake(watched.waitKey, output, now, now + keepAfterDeadlineSeconds * 1000, () => clearWaking(watched, now), reopen).catch(async (error: unknown) => {
    // Failed before it claimed (the end not recorded, its mark on): a watch left marked is taken over by the sweeper.
    await reopen().catch((failure: unknown) => logger.warn('could not open the watch again', { watch: watched.key, error: failure }));
    throw error;
  });
  logger.info('end recorded', { ...ended, by, result });
  return result;
}

/** Marked ended by a delivery that has not recorded the end on the wait item for longer than any function runs. */
const diedBeforeRecording = (watch: WatchItem, nowMs: number): watch is WatchItem & { waking: number } =>
  watch.waking !== undefined && watch.waking <= Math.floor(nowMs / 1000) - claimGraceSeconds;

/**
 * Clears the mark once the end is on the wait item, as far as it can: a failure here must not undo
 * the end recorded (the claim stands, and its token is sent next). A mark left behind costs a
 * takeover a minute on, which finds the end recorded; meanwhile the run's look cannot open the
 * watch again, so a later end of the execution (a retry's) wakes the run past it (endOf).
 */
async function clearWaking(watch: WatchItem, wakingAtMs: number): Promise<void> {
  await finishWaking(watch, wakingAtMs).catch((error: unknown) => logger.warn('could not clear the waking mark of a recorded end', { watch: watch.key, error }));
}
