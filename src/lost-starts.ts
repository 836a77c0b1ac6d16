import type { PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { listRecentExecutions } from './codepipeline.js';
import { StartAmbiguous } from './errors.js';
import { historyBackwards } from './stepfunctions.js';
import { memberPlace, type Member, type Plan, type Run } from './run.js';

/**
 * A start whose answer was lost. When StartPipelines fails after CodePipeline took a start (the
 * answer lost on the way, the function killed after its call: on every retry), nothing in the
 * run knows the execution. A redrive sends the start again with the same clientRequestToken, and
 * CodePipeline answers with the same execution only while it remembers the token: AWS documents
 * no lifetime for it, so a redrive a day later may start the pipeline a second time.
 *
 * So a redrive into StartPipelines first asks Step Functions when the failed attempt ran (its
 * history: from StartPipelines' first entry to the execution's failure) and CodePipeline which
 * executions of each pending member started then by a StartPipelineExecution call. The run held
 * the stage all that time (the run lock, or polling's single flight), so such an execution is the
 * one the failed attempt started: the member takes it instead of starting again.
 */

/** The Task whose failed attempts may have started pipelines without hearing back. */
const startState = 'StartPipelines';

/** How an attempt ends that a redrive can take on from. */
const attemptEnds = new Set(['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

/**
 * After the failure: a start the last attempt sent just before its function was killed may
 * reach CodePipeline after Step Functions has failed the execution (the start function's
 * timeout is 20 s).
 */
const lateStartMs = 60_000;

/** Before the first entry: the two services' clocks, which stamp the window and the executions. */
const clockSkewMs = 5_000;

/** A failed StartPipelines is a handful of events an attempt (Task, Lambda, retries); five pages hold many redrives of it. */
const maxHistoryPages = 5;

/** Executions of one pipeline since the window opened: more than a thousand means a busy pipeline's history is not where to look. */
const maxExecutionPages = 10;

/** When the attempts that failed in StartPipelines ran, in epoch ms; undefined when the last attempt failed elsewhere. */
export interface AttemptWindow {
  from: number;
  to: number;
}

/**
 * Reads the history back from now: past this attempt's own events to the end of the attempt
 * before (failed, timed out or stopped), then back through StartPipelines' events (its retries,
 * and earlier redrives that failed there too) to its first entry, stopping at any other state.
 */
export async function failedStartWindow(executionArn: string): Promise<AttemptWindow | undefined> {
  let to: number | undefined;
  let from: number | undefined;
  for await (const event of historyBackwards(executionArn, maxHistoryPages)) {
    if (to === undefined) {
      if (attemptEnds.has(event.type)) to = event.at;
      continue;
    }
    if (event.type === 'ExecutionStarted' || (event.stateName !== undefined && event.stateName !== startState)) break;
    if (event.type === 'TaskStateEntered') from = event.at;
  }
  return to !== undefined && from !== undefined ? { from, to } : undefined;
}

/** Every execution id the run already knows: a known one is never taken for a lost start. */
function knownExecutionIds(run: Run): Set<string> {
  const known = new Set<string>();
  for (const entry of [...run.results, ...run.members]) {
    if (entry.pipelineExecutionId !== undefined) known.add(entry.pipelineExecutionId);
    for (const id of [...(entry.supersededExecutionIds ?? []), ...(entry.earlierExecutionIds ?? [])]) known.add(id);
  }
  return known;
}

/**
 * The executions the failed attempt started for the pending members, by member index. A member
 * with none is started as usual; one with several fails the Task with StartAmbiguous before any
 * start, naming them.
 */
export async function lostStarts(executionArn: string, plan: Plan, run: Run, members: Member[]): Promise<Map<number, PipelineExecutionSummary>> {
  const found = new Map<number, PipelineExecutionSummary>();
  const pending = members.flatMap((member, index) => (member.status === 'Pending' ? [{ member, index }] : []));
  if (pending.length === 0) return found;
  const window = await failedStartWindow(executionArn);
  if (window === undefined) return found;
  const since = window.from - clockSkewMs;
  const until = window.to + lateStartMs;
  const known = knownExecutionIds(run);
  const candidates = await Promise.all(
    pending.map(async ({ member }) =>
      (await listRecentExecutions(member.pipelineName, { maxPages: maxExecutionPages, pageSize: 100, since })).filter((summary) => {
        const startedAt = summary.startTime?.getTime();
        return (
          summary.trigger?.triggerType === 'StartPipelineExecution' &&
          startedAt !== undefined &&
          startedAt >= since &&
          startedAt <= until &&
          !known.has(summary.pipelineExecutionId ?? '')
        );
      }),
    ),
  );
  const ambiguous = pending.filter((_, at) => candidates[at]!.length > 1);
  if (ambiguous.length > 0) {
    const [first] = ambiguous;
    const ids = candidates[pending.indexOf(first!)]!.map((summary) => `${summary.pipelineExecutionId} (started ${summary.startTime!.toISOString()})`);
    throw new StartAmbiguous(
      `${memberPlace(first!.member, plan)}: the redrive found ${ids.length} executions started by a StartPipelineExecution call ` +
        `while the failed attempt was starting it (${new Date(window.from).toISOString()} to ${new Date(window.to).toISOString()}): ${ids.join(', ')}. ` +
        'It cannot tell which one the run started, so it started nothing',
    );
  }
  pending.forEach(({ index }, at) => {
    const [summary] = candidates[at]!;
    if (summary !== undefined) found.set(index, summary);
  });
  return found;
}
