import { getExecution } from './codepipeline.js';
import { openWatches } from './completion-table.js';
import { endOf, type EventOutcome } from './pipeline-event.js';
import { sweptState } from './retry-hold.js';
import { nowMs } from './clock.js';
import { logger } from './logger.js';

/** CodePipeline's API statuses, spelled as the events spell them, for the one end path. */
const eventState: Record<string, string> = {
  Succeeded: 'SUCCEEDED',
  Failed: 'FAILED',
  Stopped: 'STOPPED',
  Superseded: 'SUPERSEDED',
  Cancelled: 'CANCELED',
};

/**
 * The safety net for lost events: asks GetPipelineExecution about every execution a run still
 * watches, and sends each ended one down the same path an event takes. Costs the runs no state
 * transitions while nothing ended.
 */
export async function sweep(): Promise<{ watched: number; ended: number; failed: number; outcomes: EventOutcome[] }> {
  const watches = await openWatches(nowMs());
  const outcomes: EventOutcome[] = [];
  let failed = 0;
  for (const watch of watches) {
    try {
      const { status } = await getExecution(watch.pipelineName, watch.pipelineExecutionId);
      const state = sweptState(watch, status, (ended) => eventState[ended] ?? ended.toUpperCase());
      if (state === undefined) continue;
      outcomes.push(await endOf({ pipelineName: watch.pipelineName, pipelineExecutionId: watch.pipelineExecutionId, state }, 'sweep', watch));
    } catch (error) {
      // One execution that cannot be read (its pipeline deleted, say) must not hide the others' ends.
      failed += 1;
      logger.warn('could not sweep a watched execution', { watch: watch.key, error });
    }
  }
  return { watched: watches.length, ended: outcomes.length, failed, outcomes };
}
