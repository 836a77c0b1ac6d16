import { getExecution } from './codepipeline.js';
import { claimGraceSeconds, sweepable } from './completion-table.js';
import { endOf, type EventOutcome } from './pipeline-event.js';
import { sweptState } from './retry-hold.js';
import { resendClaim } from './wake.js';
import { nowMs } from './clock.js';
import { logger } from './logger.js';
import { beginInvocation } from './accounts.js';

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
export async function sweep(): Promise<{ watched: number; ended: number; failed: number; outcomes: EventOutcome[]; resent: ('completed' | 'duplicate')[] }> {
  // A pipeline in another account is read through its account's role (getExecution, via
  // src/accounts.ts), as every CodePipeline call is: the only way to notice the ends of an account
  // that forwards no events. Credentials last this sweep only; CloudTrail there shows the sweeper.
  beginInvocation(sweeperSession);
  const now = nowMs();
  const { watches, claims } = await sweepable(now, now - claimGraceSeconds * 1000);
  const outcomes: EventOutcome[] = [];
  let failed = 0;
  for (const watch of watches) {
    try {
      // Marked ended by a delivery that died before recording the end: CodePipeline was asked already.
      if (watch.ended !== undefined) {
        outcomes.push(await endOf({ pipelineExecutionId: watch.pipelineExecutionId, state: watch.ended }, 'sweep', watch));
        continue;
      }
      const { status } = await getExecution(watch.pipelineName, watch.pipelineExecutionId);
      const state = sweptState(watch, status, (ended) => eventState[ended] ?? ended.toUpperCase());
      if (state === undefined) continue;
      outcomes.push(await endOf({ pipelineExecutionId: watch.pipelineExecutionId, state }, 'sweep', watch));
    } catch (error) {
      // One execution that cannot be read (its pipeline deleted, say) must not hide the others' ends.
      failed += 1;
      logger.warn('could not sweep a watched execution', { watch: watch.key, error });
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
    }
  }
  return { watched: watches.length, ended: outcomes.length, failed, outcomes, resent };
}
