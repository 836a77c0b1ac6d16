import type { PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { getExecution, listRecentExecutions } from './codepipeline.js';
import { pipelineOutcomeErrors } from './errors.js';
import { nextWaitSeconds } from './polling.js';
import { nowMs } from './clock.js';
import type { Plan, Run, StepInput, TrackedExecution } from './run.js';

const stillRunning = new Set(['InProgress', 'Stopping']);
/** Pages of ListPipelineExecutions read to find our execution's times or its superseder. */
const listing = { maxPages: 5, pageSize: 50 };
/** A chain of supersessions longer than this is reported rather than followed forever. */
const maxFollows = 20;

/**
 * Looks at the watched execution once and returns the next run: still going (with the next
 * wait), finished (appended to results), or ended badly (with the error name and cause the
 * Fail state raises). Superseded executions are followed to their newer execution when the
 * plan says so; a pipeline past its timeout is reported, and left running.
 */
export async function checkStatus({ plan, run }: StepInput): Promise<Run> {
  let current: TrackedExecution = { ...run.current!, polls: run.current!.polls + 1 };
  // One listing serves the whole look: finding superseders and reading the end time.
  let listed: Promise<PipelineExecutionSummary[]> | undefined;
  const recent = () => (listed ??= listRecentExecutions(current.pipelineName, listing));
  for (let follows = 0; ; follows += 1) {
    const { status, statusSummary } = await getExecution(current.pipelineName, current.pipelineExecutionId);
    current = { ...current, status, ...(statusSummary ? { statusSummary } : {}) };
    if (status !== 'Superseded' || plan.onSuperseded !== 'follow' || follows >= maxFollows) break;
    const newer = findSuperseder(current, await recent());
    if (!newer) break;
    current = {
      ...current,
      pipelineExecutionId: newer.pipelineExecutionId!,
      watchedSince: newer.startTime!.toISOString(),
      supersededExecutionIds: [...current.supersededExecutionIds, current.pipelineExecutionId],
    };
    delete current.statusSummary;
  }

  const now = nowMs();
  if (stillRunning.has(current.status)) {
    const timeoutAt = Date.parse(current.startedAt) + plan.pipelineTimeoutSeconds * 1000;
    if (now >= timeoutAt) return { ...run, current: timedOut(current, plan, now) };
    const waitSeconds = nextWaitSeconds({
      elapsedSeconds: (now - Date.parse(current.watchedSince)) / 1000,
      settings: plan.polling,
      remainingSeconds: (timeoutAt - now) / 1000,
      ...(current.expected ? { expected: current.expected } : {}),
    });
    return { ...run, current: { ...current, waitSeconds } };
  }

  const finished = withCodePipelineTimes(current, await recent(), now);
  if (finished.status === 'Succeeded') {
    return {
      index: run.index,
      current: finished,
      results: [
        ...run.results,
        {
          position: finished.position,
          pipelineName: finished.pipelineName,
          pipelineExecutionId: finished.pipelineExecutionId,
          status: finished.status,
          startedAt: finished.startedAt,
          finishedAt: finished.finishedAt!,
          detectedAt: finished.detectedAt!,
          polls: finished.polls,
          supersededExecutionIds: finished.supersededExecutionIds,
        },
      ],
    };
  }
  return { ...run, current: failed(finished, plan) };
}

function describe(current: TrackedExecution, plan: Plan): string {
  return `${current.pipelineName} (position ${current.position + 1} of ${plan.count}) execution ${current.pipelineExecutionId}`;
}

function failed(current: TrackedExecution, plan: Plan): TrackedExecution {
  const known = Object.hasOwn(pipelineOutcomeErrors, current.status);
  const error = known ? pipelineOutcomeErrors[current.status as keyof typeof pipelineOutcomeErrors] : pipelineOutcomeErrors.Failed;
  const summary = current.statusSummary ?? 'CodePipeline gave no statusSummary';
  const superseded =
    current.supersededExecutionIds.length > 0 ? `; it had superseded ${current.supersededExecutionIds.join(', ')}` : '';
  const unexpected = known ? '' : ` (an unexpected status, treated as a failure)`;
  return {
    ...current,
    error,
    cause: `${describe(current, plan)} ended ${current.status}${unexpected}: ${summary}${superseded}. Later pipelines were not started.`,
  };
}

function timedOut(current: TrackedExecution, plan: Plan, now: number): TrackedExecution {
  const elapsed = Math.round((now - Date.parse(current.startedAt)) / 1000);
  return {
    ...current,
    status: 'TimedOut',
    detectedAt: new Date(now).toISOString(),
    error: pipelineOutcomeErrors.TimedOut,
    cause: `${describe(current, plan)} is still ${current.status} after ${elapsed} s, past pipelineTimeoutSeconds ${plan.pipelineTimeoutSeconds}. The pipeline was left running; later pipelines were not started.`,
  };
}

/** The newer execution that superseded ours: the first one CodePipeline started after it. */
function findSuperseder(current: TrackedExecution, summaries: PipelineExecutionSummary[]): PipelineExecutionSummary | undefined {
  const ours = summaries.find((summary) => summary.pipelineExecutionId === current.pipelineExecutionId);
  const oursStarted = ours?.startTime?.getTime() ?? Date.parse(current.watchedSince);
  return summaries
    .filter((summary) => summary.pipelineExecutionId !== current.pipelineExecutionId && summary.startTime)
    .filter((summary) => summary.startTime!.getTime() >= oursStarted)
    .sort((a, b) => a.startTime!.getTime() - b.startTime!.getTime())[0];
}

/** CodePipeline's own end time, so finishedAt is when the pipeline ended, not when we looked. */
function withCodePipelineTimes(current: TrackedExecution, summaries: PipelineExecutionSummary[], now: number): TrackedExecution {
  const ours = summaries.find((summary) => summary.pipelineExecutionId === current.pipelineExecutionId);
  const detectedAt = new Date(now).toISOString();
  return { ...current, finishedAt: ours?.lastUpdateTime?.toISOString() ?? detectedAt, detectedAt };
}
