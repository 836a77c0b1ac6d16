import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { getExecution } from './codepipeline.js';
import { claimGraceSeconds, getWait, originOfWait, sweepable, type WatchItem } from './completion-table.js';
import { endOf, type EventOutcome } from './pipeline-event.js';
import { overtakenIfKnown, sweptState } from './retry-hold.js';
import { resendClaim, stepFunctionsClient } from './wake.js';
import { nowMs } from './clock.js';
import { logger } from './logger.js';
import { beginInvocation } from './accounts.js';
import { continuedAs } from './continuation.js';

/** CodePipeline's API statuses, spelled as the events spell them, for the one end path. */
const eventState: Record<string, string> = {
  Succeeded: 'SUCCEEDED',
  Failed: 'FAILED',
  Stopped: 'STOPPED',
  Superseded: 'SUPERSEDED',
  Cancelled: 'CANCELED',
};

/** The RoleSessionName of the sweeper's AssumeRoles: it reads for every run, so it names itself. */
export const sweeperSession = 'codepipeline-sequencer-sweeper';

/**
 * The safety net for lost events: asks GetPipelineExecution about every execution a run still
 * watches, and sends each ended one down the same path an event takes. Costs the runs no state
 * transitions while nothing ended.
 */
export async function sweep(): Promise<{
  watched: number;
  ended: number;
  /** What this sweep could not do, for the next one to try again. */
  failed: number;
  /** Unreadable watches of trains that have ended: nothing to try again, they wait to expire. */
  ofEndedTrains: number;
  outcomes: EventOutcome[];
  resent: ('completed' | 'duplicate')[];
}> {
  // A pipeline in another account is read through its account's role (getExecution, via
  // src/accounts.ts), as every CodePipeline call is: the only way to notice the ends of an account
  // that forwards no events. Credentials last this sweep only; CloudTrail there shows the sweeper.
  beginInvocation(sweeperSession);
  const now = nowMs();
  const { watches, claims } = await sweepable(now, now - claimGraceSeconds * 1000);
  const outcomes: EventOutcome[] = [];
  let failed = 0;
  let ofEndedTrains = 0;
  const unfinished: Unfinished[] = [];
  // Whether a watch's train has ended, asked once a sweep per wait: a group's members in an account whose role is gone share one.
  const endedByWait = new Map<string, Promise<string | undefined>>();
  const trainEndedOf = (watch: WatchItem) => {
    if (!endedByWait.has(watch.waitKey)) endedByWait.set(watch.waitKey, watcherEnded(watch, now));
    return endedByWait.get(watch.waitKey)!;
  };
  for (const watch of watches) {
    let step: Unfinished['step'] = 'read';
    try {
      // Marked ended by a delivery that died before recording the end: CodePipeline was asked already.
      const state = watch.ended ?? (await sweptStateOf(watch));
      if (state === undefined) continue;
      step = 'wake';
      outcomes.push(await endOf({ pipelineExecutionId: watch.pipelineExecutionId, state }, 'sweep', watch));
    } catch (error) {
      // One execution that cannot be read must not hide the others' ends.
      // A passing failure (throttling, AWS down) waits for the next sweep; any other fails this one, unless the train has ended.
      const passing = (error as Error).name === 'AwsUnavailable';
      const trainEnded = passing ? undefined : await trainEndedOf(watch);
      if (trainEnded !== undefined) {
        // Every sweep until the item expires says so: a warning each minute would be noise.
        logger.info('could not sweep a watch of a train that has ended: not a failed sweep; a redriven run parks again, and its watches count again', { watch: watch.key, trainStatus: trainEnded, error });
        ofEndedTrains += 1;
        continue;
      }
      failed += 1;
      logger.warn('could not sweep a watched execution', { watch: watch.key, error });
      if (!passing) unfinished.push({ step, error: error as Error, what: `${watch.pipelineName} execution ${watch.pipelineExecutionId} (item ${watch.key})` });
    }
  }
  // A claim whose waker died before SendTaskSuccess, with every retry of its delivery spent.
  const resent: ('completed' | 'duplicate')[] = [];
  for (const claim of claims) {
    try {
      resent.push(await resendClaim(claim));
    } catch (error) {
      failed += 1;
      logger.warn('could not send a claimed wake again', { wait: claim.key, error });
      // As a wake the sweep could not send: a passing failure waits for the next sweep, any other fails this one.
      if ((error as Error).name !== 'AwsUnavailable') unfinished.push({ step: 'wake', error: error as Error, what: `the wait ${claim.key}, whose claimed wake no delivery sent` });
    }
  }
  if (unfinished.length > 0) throw sweepIncomplete(unfinished);
  return { watched: watches.length, ended: outcomes.length, failed, ofEndedTrains, outcomes, resent };
}

/**
 * What the sweeper makes of a watched execution now. One that no longer exists (its pipeline
 * deleted, or the execution): 'GONE', which wakes the run, whose own look then fails with
 * PipelineNotFound by name within a sweep, rather than at the pipeline's deadline. One held for
 * a retry that can no longer come: 'UNRETRIABLE', which wakes the run to end the hold.
 */
async function sweptStateOf(watch: WatchItem): Promise<string | undefined> {
  try {
    const { status, executionMode } = await getExecution(watch.pipelineName, watch.pipelineExecutionId);
    const state = sweptState(watch, status, (ended) => eventState[ended] ?? ended.toUpperCase());
    // Held for a retry, and still Failed: no event comes when a later execution runs its failed
    // stage, after which no retry can; the run's look then ends the hold.
    if (state === undefined && watch.held === true && status === 'Failed' && (await overtakenIfKnown(watch.pipelineName, watch.pipelineExecutionId, executionMode))) return 'UNRETRIABLE';
    return state;
  } catch (error) {
    if ((error as Error).name === 'PipelineNotFound') return 'GONE';
    throw error;
  }
}

/** Step Functions' statuses of an execution that has ended: a PENDING_REDRIVE one is about to run again. */
const endedStatuses = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Continuations followed from the execution that parked last: every execution parks before it can
 * continue, so a sweep meets one at most. From the train's first execution (a wait that does not
 * record who parked) it meets one per continuation. Past this many it cannot tell, and the sweep fails.
 */
const maxHandovers = 3;

/**
 * How the train whose run last parked on this watch's wait ended (SUCCEEDED, FAILED, TIMED_OUT,
 * ABORTED), or undefined while it runs or when that cannot be told (more continuations than
 * followed, or Step Functions would not say). A watch an ended train left behind,
 * unreadable for good (its pipeline left the stage's config, its account's role removed), must
 * not fail every sweep until it expires, up to 15 days later: nobody waits on it, and a redriven
 * run parks again, naming a running execution. An execution that continued as new hands the
 * train to its successor, which may not have parked yet (its DecideOrder can retry for minutes):
 * the train has ended only if that one has too.
 */
async function watcherEnded(watch: WatchItem, now: number): Promise<string | undefined> {
  try {
    // A wait that does not record who parked (an earlier release wrote it, or an end came before
    // the run parked and the run never parked again), or that is gone, still names the train's
    // first execution: its continuations lead to the same answer, a few calls later.
    let executionArn = (await getWait(watch.waitKey, now))?.parkedBy ?? originOfWait(watch.waitKey);
    for (let handovers = 0; executionArn !== undefined && handovers <= maxHandovers; handovers += 1) {
      const described = await stepFunctionsClient.send(new DescribeExecutionCommand({ executionArn }));
      if (described.status === undefined || !endedStatuses.has(described.status)) return undefined;
      executionArn = continuedAs(described);
      if (executionArn === undefined) return described.status;
    }
    return undefined;
  } catch (error) {
    logger.warn('could not tell whether the run of an unreadable watch has ended', { watch: watch.key, error });
    return undefined;
  }
}

/** A watched execution the sweeper could not read, or whose end it could not wake the run with. */
interface Unfinished {
  step: 'read' | 'wake';
  error: Error;
  what: string;
}

/**
 * A sweep that could not read some watched executions, or wake the runs waiting on some that
 * ended, for a reason that does not pass (a refused role, access denied) fails, once it has done
 * the rest: Lambda then sends it to the stage's dead-letter queue, whose alarm tells someone;
 * logged only, it would leave those runs to notice their ends by events alone, or at their
 * deadline. Named as the first of the errors.
 */
function sweepIncomplete(unfinished: Unfinished[]): Error {
  const listed = (failures: Unfinished[]) => failures.map(({ error, what }) => `${what}: ${error.name}: ${error.message}`).join('; ');
  const unread = unfinished.filter(({ step }) => step === 'read');
  const unwoken = unfinished.filter(({ step }) => step === 'wake');
  const parts = [
    unread.length > 0 &&
      `could not read ${unread.length === 1 ? 'a watched execution' : `${unread.length} watched executions`} (${listed(unread)}); until it can, their runs notice these ends by their events alone, or at their deadline`,
    // The watch was opened again (endOf): the next sweep, or a retried event, wakes the run.
    unwoken.length > 0 &&
      `could not wake the run waiting on ${unwoken.length === 1 ? 'an execution that ended' : `each of ${unwoken.length} executions that ended`} (${listed(unwoken)}); every sweep tries again, and until one can, the run sleeps on, until its deadline at the latest`,
  ].filter((part) => part !== false);
  const failure = new Error(`the sweeper ${parts.join('; and it ')}`, { cause: unfinished[0]!.error });
  failure.name = unfinished[0]!.error.name;
  return failure;
}
