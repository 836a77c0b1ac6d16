import type { PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { listExecutionsSince } from './codepipeline.js';
import { isRefusedStart, StartAmbiguous } from './errors.js';
import { historyBackwards } from './stepfunctions.js';
import { memberPlace, type Member, type Plan, type Run } from './run.js';

/**
 * A start whose answer was lost. When StartPipelines fails after CodePipeline took a start (the
 * answer lost on the way, the function killed after its call: on every retry), nothing in the
 * run knows the execution. A redrive sends the start again with the same clientRequestToken, and
 * CodePipeline answers with the same execution only while it remembers the token: AWS documents
 * no lifetime for it, so a redrive a day later may start the pipeline a second time.
 *
 * So a redrive into StartPipelines first asks Step Functions when each failed attempt ran there
 * (its history) and CodePipeline which executions of each pending member a StartPipelineExecution
 * call started then. While an attempt ran, the run held the stage (the run lock, or polling's
 * single flight), so such an execution is the one that attempt started: the member takes it
 * instead of starting again. Between attempts, while the execution stood failed, the stage was
 * free, and an attempt refused for another run in flight (AlreadyRunning) held nothing: neither
 * counts.
 */

/** The Task whose failed attempts may have started pipelines without hearing back. */
const startState = 'StartPipelines';

/** How an attempt ends that a redrive can take on from. */
const attemptEnds = new Set(['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

/**
 * After an attempt's end: a start its last try sent just before the function died may reach
 * CodePipeline a moment after Step Functions failed the execution. The function died before the
 * Task failed (the Task's timeout is the function's plus a margin), so its last request was on
 * its way by then: seconds. Kept short, because once the execution failed the stage is free, and
 * another run's start of the same pipeline must not be taken for this one's.
 */
const lateStartMs = 20_000;

/** Before an attempt's entry: the two services' clocks, which stamp the attempts and the executions. */
const clockSkewMs = 5_000;

/** A failed StartPipelines is a handful of events an attempt (Task, Lambda, retries); five pages hold many redrives of it. */
const maxHistoryPages = 5;

/** Pages of 100 executions of one pipeline, newest first, read back to the first attempt: past them, the redrive cannot tell. */
const maxExecutionPages = 10;

/** When one failed attempt ran StartPipelines, in epoch ms. */
export interface AttemptWindow {
  from: number;
  to: number;
}

/**
 * The attempts that failed in StartPipelines, newest first, each from its entry (or its redrive)
 * to its end. Read back from now: past this attempt's own events to the end of the attempt before,
 * back through its StartPipelines events to the redrive or entry that began it, and on through the
 * attempts before it that failed there too, stopping at any other state. None when the last
 * attempt failed elsewhere.
 */
export async function failedStartAttempts(executionArn: string): Promise<AttemptWindow[]> {
  const attempts: AttemptWindow[] = [];
  let attempt: { to: number; from?: number; heldTheStage: boolean } | undefined;
  let seeking = true;
  const close = (from = attempt?.from) => {
    if (attempt?.heldTheStage && from !== undefined) attempts.push({ from, to: attempt.to });
    attempt = undefined;
  };
  for await (const event of historyBackwards(executionArn, maxHistoryPages)) {
    if (seeking) {
      if (attemptEnds.has(event.type)) {
        attempt = { to: event.at, heldTheStage: event.error !== 'AlreadyRunning' };
        seeking = false;
      }
      continue;
    }
    if (event.type === 'ExecutionRedriven') {
      // This attempt began with a redrive: the attempt before it ended just before.
      close(attempt?.from ?? event.at);
      seeking = true;
      continue;
    }
    if (event.type === 'ExecutionStarted' || (event.stateName !== undefined && event.stateName !== startState)) break;
    if (event.type === 'TaskStateEntered' && attempt) attempt.from = event.at;
  }
  close();
  return attempts;
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
 * The executions the failed attempts started for the pending members, by member index. A member
 * with none is started as usual; one with several, or whose executions could not be read back to
 * the first attempt, fails the Task with StartAmbiguous before any start. A member CodePipeline
 * refuses to list (gone, access denied) has none here: its start meets the same refusal, in its place.
 */
export async function lostStarts(executionArn: string, plan: Plan, run: Run, members: Member[]): Promise<Map<number, PipelineExecutionSummary>> {
  const found = new Map<number, PipelineExecutionSummary>();
  const pending = members.flatMap((member, index) => (member.status === 'Pending' ? [{ member, index }] : []));
  if (pending.length === 0) return found;
  const attempts = await failedStartAttempts(executionArn);
  if (attempts.length === 0) return found;
  const since = Math.min(...attempts.map((attempt) => attempt.from)) - clockSkewMs;
  const during = (startedAt: number) => attempts.some((attempt) => startedAt >= attempt.from - clockSkewMs && startedAt <= attempt.to + lateStartMs);
  const known = knownExecutionIds(run);
  const listings = await Promise.allSettled(pending.map(({ member }) => listExecutionsSince(member.pipelineName, since, maxExecutionPages)));
  const unreadable = listings.find((listing): listing is PromiseRejectedResult => listing.status === 'rejected' && !isRefusedStart(listing.reason));
  if (unreadable) throw unreadable.reason;
  const when = attempts.map((attempt) => `${new Date(attempt.from).toISOString()} to ${new Date(attempt.to).toISOString()}`).join(', ');
  pending.forEach(({ member, index }, at) => {
    const listing = listings[at]!;
    if (listing.status === 'rejected') return;
    const place = memberPlace(member, plan);
    if (!listing.value.complete) {
      throw new StartAmbiguous(
        `${place}: the redrive read ${maxExecutionPages * 100} of its executions, newest first, without reaching back to the failed attempt (${when}); ` +
          'it cannot tell whether that attempt started one, so it started nothing',
      );
    }
    const candidates = listing.value.summaries.filter(
      (summary) =>
        summary.trigger?.triggerType === 'StartPipelineExecution' &&
        summary.pipelineExecutionId !== undefined &&
        !known.has(summary.pipelineExecutionId) &&
        during(summary.startTime!.getTime()),
    );
    if (candidates.length > 1) {
      // Who started each, as CodePipeline tells it (the functions' role, or a person's): what tells them apart.
      const ids = candidates.map(
        (summary) => `${summary.pipelineExecutionId} (started ${summary.startTime!.toISOString()}${summary.trigger?.triggerDetail ? ` by ${summary.trigger.triggerDetail}` : ''})`,
      );
      throw new StartAmbiguous(
        `${place}: the redrive found ${ids.length} executions started by a StartPipelineExecution call while the failed attempt was starting it (${when}): ${ids.join(', ')}. ` +
          'It cannot tell which one the run started, so it started nothing',
      );
    }
    if (candidates.length === 1) found.set(index, candidates[0]!);
  });
  return found;
}
