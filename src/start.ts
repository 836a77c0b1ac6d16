import type { PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { startExecution, listRecentExecutions } from './codepipeline.js';
import { clientRequestToken } from './client-token.js';
import { beginInvocation } from './accounts.js';
import { stageConfig } from './config.js';
import { locationOf, targetOf } from './targets.js';
import { expectedDurationFrom, nextWaitSeconds, secondsUntilNextLook, stillRunning } from './polling.js';
import { completionMode, deadlineLook, nextWait, watchExecutions } from './event-wait.js';
import { afterTask, handOn } from './history-budget.js';
import { nowMs } from './clock.js';
import { checkAloneForRedrive } from './single-flight.js';
import { takeRunLock } from './run-lock.js';
import { newOutputReader, resolveMemberVariables } from './references.js';
import { memberPlace, membersOf, type Member, type Plan, type Run, type StepInput } from './run.js';
import { isRefusedStart } from './errors.js';
import { lostStarts } from './lost-starts.js';
import { logger } from './logger.js';

/** How many recent executions teach us a pipeline's typical duration: one cheap page. */
const historyPageSize = 20;

/** A member of the entry at `position`, not started yet. */
export const pendingMember = (position: number, member: number, pipelineName: string, attempt: number): Member => ({
  position,
  member,
  pipelineName,
  attempt,
  status: 'Pending',
  polls: 0,
  supersededExecutionIds: [],
  earlierExecutionIds: [],
});

/**
 * Starts every pending member of the entry at `run.index`: the lone pipeline, or each member of
 * a group at once. Each start is made at most once: its clientRequestToken derives from the
 * train's first execution, the position, the member and the attempt, so any retry of this Task
 * (or a redrive of a failed start) gets the same execution back.
 */
export async function startPipelines({ plan, run, execution, retryCount, redriveCount }: StepInput): Promise<Run> {
  beginInvocation(execution.name);
  const redrivesSince = Math.max(0, redriveCount - run.redrives);
  if (redrivesSince > 0) {
    await (plan.completion === 'events'
      ? takeRunLock({ stateMachineArn: execution.stateMachineArn, originArn: run.origin.executionArn, executionArn: execution.id, redriveCount })
      : checkAloneForRedrive(execution));
  }
  const events = afterTask(run.history, { retryCount, redrivesSince });
  const entryMembers =
    run.members.length > 0
      ? run.members
      : membersOf(plan.order[run.index]!).map((name, member) => pendingMember(run.index, member, name, 0));
  // A redrive takes what the failed attempt started without hearing back, instead of starting it again.
  const lost = redrivesSince > 0 ? await lostStarts(execution.id, plan, run, entryMembers) : new Map<number, PipelineExecutionSummary>();
  const members = entryMembers.map((member, index) => (lost.has(index) ? takeLostStart(plan, member, lost.get(index)!, nowMs()) : member));
  // Every forwarded value of the entry is resolved before any member starts: one missing fails the entry unstarted.
  const reader = newOutputReader();
  const forwarded = await Promise.all(
    members.map((member) => (member.status === 'Pending' ? resolveMemberVariables(plan, run, member, reader) : undefined)),
  );
  const attempts = await Promise.allSettled(
    members.map((member, index) => (member.status === 'Pending' ? startMember(plan, run, member, forwarded[index]!, retryCount > 0) : member)),
  );
  const now = nowMs();
  const started = keepWhatStarted(plan, members, attempts, now);
  const completion = completionMode(plan);
  if (completion === 'poll') {
    return {
      ...run,
      phase: 'watch',
      members: started,
      waitSeconds: secondsUntilNextLook(started, now),
      history: handOn(events, 'started', 'watch'),
      redrives: Math.max(run.redrives, redriveCount),
    };
  }
  // Watched before the run parks: an end that comes before the token is stored still finds its run.
  await watchExecutions(
    run,
    started
      .filter((member, index) => entryMembers[index]!.status === 'Pending' && member.pipelineExecutionId !== undefined)
      .map((member) => ({ pipelineName: member.pipelineName, pipelineExecutionId: member.pipelineExecutionId!, deadline: member.deadline! })),
  );
  // A lost start is looked at once: its end may have come (and its event gone) while the run stood failed.
  const watched = started.map((member, index) => (stillRunning.has(member.status) && !lost.has(index) ? deadlineLook(member) : member));
  const { wake: _wake, ...rest } = run;
  return {
    ...rest,
    phase: 'watch',
    members: watched,
    ...nextWait(run, watched, now),
    history: handOn(events, 'started', 'watch', completion),
    redrives: Math.max(run.redrives, redriveCount),
  };
}

/**
 * The members after their starts. A start that failed fails the Task, as it always did, unless
 * another member of the entry is running and the failure is a refusal no retry mends: then the
 * Task's failure would lose that member's execution id, the summary would call it Not started,
 * nobody would watch it, and a redrive days later would send its start again with a token
 * CodePipeline may have forgotten (AWS documents no lifetime for it). So the refused member ends
 * here, with its error and cause, and the entry goes on as with a member that failed: the others
 * are watched to their end, then the run fails with the refusal by name; a redrive starts the
 * refused member only. A retryable failure still fails the Task: its retries come within minutes
 * and send the same tokens.
 */
function keepWhatStarted(plan: Plan, members: Member[], attempts: PromiseSettledResult<Member>[], now: number): Member[] {
  const failures = attempts.filter((attempt): attempt is PromiseRejectedResult => attempt.status === 'rejected');
  if (failures.length === 0) return attempts.map((attempt) => (attempt as PromiseFulfilledResult<Member>).value);
  const running = attempts.some((attempt) => attempt.status === 'fulfilled' && stillRunning.has(attempt.value.status));
  if (!running || !failures.every((attempt) => isRefusedStart(attempt.reason))) throw failures[0]!.reason;
  const detectedAt = new Date(now).toISOString();
  return attempts.map((attempt, index) => {
    if (attempt.status === 'fulfilled') return attempt.value;
    const member = members[index]!;
    const error = attempt.reason as Error;
    const { message } = error;
    return {
      ...member,
      status: 'NotStarted',
      error: error.name,
      cause: `${memberPlace(member, plan)} was not started: ${message}`,
      statusSummary: message,
      detectedAt,
    };
  });
}

/** A redrive gives a member that outlived its timeout a fresh one: it was left running, not failed. */
export function extendDeadline(member: Member, plan: Plan, now: number): Member {
  if (!stillRunning.has(member.status) || member.deadline === undefined || Date.parse(member.deadline) > now) return member;
  return { ...member, deadline: new Date(now + plan.pipelineTimeoutSeconds * 1000).toISOString(), nextLookAt: new Date(now).toISOString() };
}

/**
 * The member as the failed attempt left it in CodePipeline (src/lost-starts.ts): its execution,
 * watched from now and looked at now. Its deadline counts from when it started, unless that has
 * passed: then, as for any member a redrive finds past its timeout, a fresh one.
 */
function takeLostStart(plan: Plan, member: Member, summary: PipelineExecutionSummary, now: number): Member {
  const startedAtMs = summary.startTime!.getTime();
  const taken: Member = {
    ...member,
    status: 'InProgress',
    pipelineExecutionId: summary.pipelineExecutionId!,
    startedAt: new Date(startedAtMs).toISOString(),
    deadline: new Date(startedAtMs + plan.pipelineTimeoutSeconds * 1000).toISOString(),
    watchedSince: new Date(now).toISOString(),
    nextLookAt: new Date(now).toISOString(),
    startLost: true,
    ...located(member.pipelineName),
  };
  return extendDeadline(taken, plan, now);
}

async function startMember(plan: Plan, run: Run, member: Member, forwarded: Record<string, string>, retried: boolean): Promise<Member> {
  const { pipelineName } = member;
  // Only polling paces its looks by the pipeline's typical duration; an event-woken run looks at
  // the end or the deadline, so it spares CodePipeline the ListPipelineExecutions per start. A
  // retried Task reads the page too, for the start time of an execution an earlier attempt started.
  const polling = completionMode(plan) === 'poll';
  const recent = polling ? await recentExecutions(pipelineName) : retried ? await recentExecutionsIfKnown(pipelineName) : [];
  const expected = polling ? expectedDurationOf(recent) : undefined;
  const pipelineExecutionId = await startExecution({
    pipelineName,
    variables: { ...(Object.hasOwn(plan.variables, pipelineName) ? plan.variables[pipelineName]! : {}), ...forwarded },
    clientRequestToken: clientRequestToken(run.origin.executionArn, member.position, member.member, member.attempt, remoteIdentity(pipelineName)),
  });
  const now = nowMs();
  // A retry of this Task gets back (by its token) the execution an earlier attempt started, if one
  // did, listed before this call: it has run since then, and its timeout counts from then. One not
  // listed was started now.
  const startedAtMs = recent.find((summary) => summary.pipelineExecutionId === pipelineExecutionId)?.startTime?.getTime() ?? now;
  const deadlineMs = startedAtMs + plan.pipelineTimeoutSeconds * 1000;
  const waitSeconds = nextWaitSeconds({
    elapsedSeconds: (now - startedAtMs) / 1000,
    settings: plan.polling,
    remainingSeconds: Math.max(0, (deadlineMs - now) / 1000),
    ...(expected ? { expected } : {}),
  });
  return {
    ...member,
    status: 'InProgress',
    pipelineExecutionId,
    startedAt: new Date(startedAtMs).toISOString(),
    deadline: new Date(deadlineMs).toISOString(),
    watchedSince: new Date(now).toISOString(),
    nextLookAt: new Date(now + waitSeconds * 1000).toISOString(),
    ...(expected ? { expected } : {}),
    ...(Object.keys(forwarded).length > 0 ? { variables: forwarded } : {}),
    ...located(pipelineName),
  };
}

/** The pipeline's newest executions: one cheap page. */
const recentExecutions = (pipelineName: string) => listRecentExecutions(pipelineName, { maxPages: 1, pageSize: historyPageSize });

/** The same, for a retried start only: unread (CodePipeline does not say), the start stands, its deadline counting from now. */
async function recentExecutionsIfKnown(pipelineName: string): Promise<PipelineExecutionSummary[]> {
  try {
    return await recentExecutions(pipelineName);
  } catch (error) {
    logger.warn('could not read when a retried start began; its deadline counts from now', { pipelineName, error });
    return [];
  }
}

function expectedDurationOf(recent: PipelineExecutionSummary[]) {
  return expectedDurationFrom(
    recent
      .filter((summary) => summary.status === 'Succeeded' && summary.startTime && summary.lastUpdateTime)
      .map((summary) => (summary.lastUpdateTime!.getTime() - summary.startTime!.getTime()) / 1000),
  );
}

/**
 * A pipeline elsewhere adds where it is to its token, so a token can never be taken for a
 * namesake's in another account or region; a local pipeline's token is unchanged, so runs in
 * flight across a deploy keep theirs.
 */
function remoteIdentity(name: string): string | undefined {
  const { remote, pipelineName } = targetOf(stageConfig(), name);
  return remote ? `${remote.partition}:${remote.accountId}:${remote.region}:${pipelineName}` : undefined;
}

/** Where a pipeline elsewhere runs, for the member that starts it; nothing for a local one. */
function located(name: string): Pick<Member, 'location'> {
  const location = locationOf(targetOf(stageConfig(), name));
  return location ? { location } : {};
}
