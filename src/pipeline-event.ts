import * as z from 'zod/mini';
import { getWatch, markWatchEnded, keepAfterDeadlineSeconds, type WatchItem } from './completion-table.js';
import { wake, type WakeResult, type WakeSource } from './wake.js';
import { nowMs } from './clock.js';
import { logger } from './logger.js';
import { parseOrThrow } from './input.js';
import { wakesWatch } from './retry-hold.js';

/** The CodePipeline execution states an event may carry that end an execution. */
export const endStates = ['SUCCEEDED', 'FAILED', 'STOPPED', 'SUPERSEDED', 'CANCELED'] as const;

/**
 * "CodePipeline Pipeline Execution State Change", as EventBridge delivers it. Only what we read
 * is checked; `version` is a number in current examples and a string in older ones.
 */
const pipelineEventSchema = z.object({
  source: z.literal('aws.codepipeline'),
  'detail-type': z.literal('CodePipeline Pipeline Execution State Change'),
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
  return endOf({ pipelineName: pipeline, pipelineExecutionId: executionId, state }, 'event');
}

/** The one path every noticed end takes (event or sweep): find the watch, mark it once, wake the run. */
export async function endOf(end: { pipelineName: string; pipelineExecutionId: string; state: string }, by: WakeSource, watch?: WatchItem): Promise<EventOutcome> {
  const now = nowMs();
  const watched = watch ?? (await getWatch(end.pipelineName, end.pipelineExecutionId, now));
  if (!watched) {
    logger.info('an execution no run watches', end);
    return 'not-ours';
  }
  if (!wakesWatch(watched, end.state)) return 'not-an-end';
  if (!(await markWatchEnded(watched, end.state))) return 'duplicate';
  const result = await wake(
    watched.waitKey,
    { by, at: new Date(now).toISOString(), ...end },
    now,
    now + keepAfterDeadlineSeconds * 1000,
  );
  logger.info('end recorded', { ...end, by, result });
  return result;
}
