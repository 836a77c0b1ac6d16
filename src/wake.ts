import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { sentMoreThanOnce, toNamedAwsError } from './aws-errors.js';
import { clientSettings } from './client-settings.js';
import { getWait, markResent, recordEnd, unclaim, type StaleClaim, type WaitItem } from './completion-table.js';
import { logger } from './logger.js';

/**
 * Created once, and only in the modules that wake runs (the event function and the sweeper):
 * AWS_ENDPOINT_URL_SFN points it at the local emulator. The sweeper's other Step Functions call
 * goes through it too: loading the SDK again with import() (src/stepfunctions.ts) would put a
 * second copy of its code in the sweeper's cold start.
 */
export const stepFunctionsClient = new SFNClient(clientSettings);

/** How an end reached the run: what progress lines and `detectedBy` report. */
export type WakeSource = 'event' | 'sweep';

/** What SendTaskSuccess hands the waiting Task; check-status reads it as `run.wake`. */
export interface WakeOutput {
  by: WakeSource;
  at: string;
  pipelineName: string;
  pipelineExecutionId: string;
  state: string;
}

/**
 * SendTaskSuccess's answers for a wait that is closed already: it timed out, was completed
 * before, or its execution ended. The one place they are treated as success, on purpose:
 * the run has moved on, and `wake` then records the end for the run's next wait instead.
 */
export const alreadyDone = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** A bound on the read-and-write rounds: each lost round means the other party moved; a few always suffice. */
const maxRounds = 10;

export type WakeResult = 'completed' | 'recorded-for-next-wait' | 'no-wait';

/**
 * Records that a watched execution ended and wakes the run, whichever side comes second:
 * - a wait is parked (its token stored, no end recorded for it): claim it (`woken = seq`) and
 *   complete its token. If the token turns out closed (it timed out meanwhile), fall through:
 * - no wait is parked: record the end for the next wait (`woken = max(seq, woken) + 1`), so that
 *   wait's conditional token write fails and the run looks at once instead of parking.
 * Every write is conditional on the item being as read, so the token writer and the waker meet.
 * `onRecorded` runs once the end is on the wait item, before its token is completed.
 * `onUnsent` runs when the claimed token could not be completed, before the claim is given back:
 * whatever it must leave for a retry or the sweeper to find (the watch opened again) is there
 * before the claim goes. If it fails, the claim stays, and the sweeper sends it again; the error
 * thrown is still the token's.
 */
export async function wake(
  waitKey: string,
  output: WakeOutput,
  nowMs: number,
  expiresAtMs: number,
  onRecorded: () => Promise<void>,
  onUnsent: () => Promise<void> = async () => {},
): Promise<WakeResult> {
  let closedToken: string | undefined;
  let recorded = false;
  // From here on the wait item holds the end (a claim the sweeper resends, or an end for the next wait).
  const record = async (wait: WaitItem | undefined, woken: number) => {
    if (!(await recordEnd(waitKey, wait, woken, output, expiresAtMs, nowMs))) return false;
    if (!recorded) await onRecorded();
    recorded = true;
    return true;
  };
  for (let round = 0; round < maxRounds; round += 1) {
    const wait = await getWait(waitKey, nowMs);
    if (parked(wait) && wait.token !== closedToken) {
      if (!(await record(wait, wait.seq))) continue;
      if (await completeToken(wait.token, output).catch(async (error: unknown) => {
        // Not woken after all: give the claim back, or a retry would find the wait claimed and the run would sleep on.
        // Not if the end could not be left for the retry: then the claim is what the sweeper sends again.
        const left = await onUnsent().then(
          () => true,
          (failure: unknown) => {
            logger.warn('could not leave the end for a retry: the claim stays, for the sweeper to send again', { wait: waitKey, error: failure });
            return false;
          },
        );
        if (left) await unclaim(wait);
        throw error;
      })) {
        return 'completed';
      }
      closedToken = wait.token;
      continue;
    }
    const next = Math.max(wait?.seq ?? 0, wait?.woken ?? 0) + 1;
    if (await record(wait, next)) return wait ? 'recorded-for-next-wait' : 'no-wait';
  }
  throw toNamedAwsError({ name: 'ThrottlingException', message: `the wait item changed ${maxRounds} times in a row` }, `wake ${waitKey}`);
}

/**
 * For an end recorded before (its watch marked ended): if the wait it would wake is claimed
 * (`woken >= seq`: claimed, and maybe an end for the next wait recorded over the claim since)
 * with its token stored, complete that token again. The delivery that claimed it may have died
 * before SendTaskSuccess (a Lambda timeout, a crash), and this retry is the only one left; if it
 * did complete it, Step Functions answers TaskTimedOut, which is harmless.
 */
export async function completeClaimed(waitKey: string, output: WakeOutput, nowMs: number): Promise<boolean> {
  const wait = await getWait(waitKey, nowMs);
  if (wait?.token === undefined || wait.woken < wait.seq) return false;
  return completeToken(wait.token, output);
}

/**
 * The sweeper's last resort for a claim no delivery completed (src/completion-table.ts
 * sweepable): sends the claim's own output with its token again, once, as the sweeper's (it is
 * what wakes the run). 'completed' when the run took it; 'duplicate' when its Task was closed
 * already, which is what a train that ended leaves.
 */
export async function resendClaim(claim: StaleClaim): Promise<'completed' | 'duplicate'> {
  const completed = await completeToken(claim.token, { ...(JSON.parse(claim.output) as WakeOutput), by: 'sweep' });
  await markResent(claim);
  return completed ? 'completed' : 'duplicate';
}

const parked = (wait: WaitItem | undefined): wait is WaitItem & { token: string } =>
  wait !== undefined && wait.token !== undefined && wait.woken < wait.seq;

/** True when the run took it; false when the wait was closed already. */
async function completeToken(taskToken: string, output: WakeOutput): Promise<boolean> {
  try {
    await stepFunctionsClient.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    return true;
  } catch (error) {
    const name = (error as { name?: string } | null)?.name ?? '';
    // Sent twice, the first attempt may have completed the token itself, its answer lost: then the
    // run took it. Taken so, nothing is recorded again for the next wait, which would cost the run
    // a look; and if another closed it (a timeout, a redrive, another waker), that run looks anyway.
    if (alreadyDone.has(name) && sentMoreThanOnce(error)) return true;
    if (alreadyDone.has(name)) {
      logger.info('the wait was closed already', { answer: name });
      return false;
    }
    throw toNamedAwsError(error, 'SendTaskSuccess');
  }
}
