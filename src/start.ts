import { startExecution, listRecentExecutions } from './codepipeline.js';
import { clientRequestToken } from './client-token.js';
import { expectedDurationFrom, nextWaitSeconds } from './polling.js';
import { nowIso } from './clock.js';
import type { Run, StepInput } from './run.js';

/** How many recent executions teach us a pipeline's typical duration: one cheap page. */
const historyPageSize = 20;

/**
 * Starts the pipeline at `run.index`, at most once per position: the clientRequestToken is
 * derived from the execution and the position, so any retry gets the same execution id back.
 */
export async function startPipeline({ plan, run, execution }: StepInput): Promise<Run> {
  const position = run.index;
  const pipelineName = plan.order[position]!;
  const expected = expectedDurationFrom(
    (await listRecentExecutions(pipelineName, { maxPages: 1, pageSize: historyPageSize }))
      .filter((summary) => summary.status === 'Succeeded' && summary.startTime && summary.lastUpdateTime)
      .map((summary) => (summary.lastUpdateTime!.getTime() - summary.startTime!.getTime()) / 1000),
  );
  const pipelineExecutionId = await startExecution({
    pipelineName,
    variables: Object.hasOwn(plan.variables, pipelineName) ? plan.variables[pipelineName]! : {},
    clientRequestToken: clientRequestToken(execution.id, position),
  });
  const startedAt = nowIso();
  return {
    index: run.index,
    results: run.results,
    current: {
      position,
      pipelineName,
      pipelineExecutionId,
      status: 'InProgress',
      startedAt,
      watchedSince: startedAt,
      waitSeconds: nextWaitSeconds({
        elapsedSeconds: 0,
        settings: plan.polling,
        remainingSeconds: plan.pipelineTimeoutSeconds,
        ...(expected ? { expected } : {}),
      }),
      polls: 0,
      ...(expected ? { expected } : {}),
      supersededExecutionIds: [],
    },
  };
}
