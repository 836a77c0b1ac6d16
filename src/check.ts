import type { PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { getExecution, listRecentExecutions, whereIs } from './codepipeline.js';
import { entryError, noStatusSummary, outcomeErrorOf, pipelineOutcomeErrors, type PipelineOutcomeError, type RefusedStartError } from './errors.js';
import { holds, nextWaitSeconds, secondsUntilNextLook, stillRunning } from './polling.js';
import { afterTask, eventsOnTheWay, handOn, mustContinue, taskEvents, waitEndedEarlyEvents } from './history-budget.js';
import { completionMode, deadlineLook, endThatWoke, nextWait, parkedSinceRedrive, wakeSource, watchExecutions, watchOf, wokeBeforeParking, type EndThatWoke } from './event-wait.js';
import { executionArnPrefix, successorName } from './continuation.js';
import { armedFor, armWatch, disarm, heldForRetry, overtakenIfKnown, waitedForRetry } from './retry-hold.js';
import { extendDeadline, pendingMember } from './start.js';
import { nowMs } from './clock.js';
import { logger } from './logger.js';
import { supersededBy, supersededList } from './superseded.js';
import { duration, timesOf } from './duration.js';
import { checkAloneForRedrive } from './single-flight.js';
import { lastRedriveTime } from './stepfunctions.js';
import { beginInvocation } from './accounts.js';
import { handOverRunLock, releaseRunLock, takeRunLock } from './run-lock.js';
import { memberPlace, type Member, type PipelineResult, type Plan, type Run, type StepInput } from './run.js';

/** Pages of ListPipelineExecutions read to find our execution's times or its superseder. */
const listing = { maxPages: 5, pageSize: 50 };
/** A chain of supersessions longer than this is reported rather than followed forever. */
const maxFollows = 20;
/** A member whose next look falls within this of now is looked at now, not after another Wait. */
const dueToleranceMs = 1000;

/**
 * One look at the current entry: every member that is due is looked at once (a lone pipeline is
 * a group of one). Then the loop either waits again, moves to the next entry (all succeeded),
 * restarts failed members (the execution was redriven), or continues as new when this
 * execution's history nears the limit. When every member has ended and one did not succeed,
 * it throws the first failure by name, with a cause naming each member's outcome: the other
 * members are watched to their end, never stopped, and later entries are never started.
 */
export async function checkPipelines({ plan, run, execution, retryCount, redriveCount }: StepInput): Promise<Run> {
  beginInvocation(execution.name);
  const redrivesSince = Math.max(0, redriveCount - run.redrives);
  const completion = completionMode(plan);
  const lock = { stateMachineArn: execution.stateMachineArn, originArn: run.origin.executionArn, executionArn: execution.id, redriveCount };
  if (redrivesSince > 0) await (completion === 'events' ? takeRunLock(lock) : checkAloneForRedrive(execution));
  // A callback wait whose token write was refused (an end came first) wrote one event fewer.
  const events = afterTask(run.history, { retryCount, redrivesSince }) + (wokeBeforeParking(run.wake) ? waitEndedEarlyEvents : 0);
  const now = nowMs();
  // Redriven into this look, it re-enters with the failed attempt's wake: what it finds ended, the
  // redrive found. Redriven into the wait (stopped while parked), it parked again, and what woke it since says.
  const redriveFound = redrivesSince > 0 && !(completion === 'events' && (await parkedSinceRedrive(run, redriveCount, now)));
  const detectedBy = redriveFound ? 'redrive' : await wakeSource(plan, run, now);
  const woke = endThatWoke(run.wake);
  const { wake: _wake, ...unwoken } = run;
  run = unwoken;
  const looks = await Promise.all(
    run.members.map((member) => {
      const resumed = redrivesSince > 0 ? extendDeadline(member, plan, now) : member;
      // Woken by an end, the run cannot tell whose: every running member gets a look. Redriven,
      // so does every member the run saw end without success: someone may have retried its stage in
      // CodePipeline since (it runs again, or has succeeded), and then it must not be started again.
      const due = (completion === 'events' ? holds(resumed) : isDue(resumed, now)) || (redrivesSince > 0 && mayHaveBeenRetried(resumed));
      return due ? look(resumed, plan, now, { completion, detectedBy, run, ...(woke !== undefined && { woke }) }) : resumed;
    }),
  );
  // A redrive's time (DescribeExecution's redriveDate) tells what had ended before it. Polled, a
  // run redriven into its Wait looks first when that Wait ends: an end after the redrive was the poll's to find.
  const creditedToRedrive = looks.some((member, index) => member.detectedBy === 'redrive' && holds(run.members[index]!) && !holds(member));
  const redrivenAt =
    redrivesSince > 0 && (looks.some(endedBadly) || (completion === 'poll' && creditedToRedrive)) ? await lastRedriveTime(execution.id, redriveCount) : undefined;
  const seen =
    completion === 'poll' && creditedToRedrive
      ? looks.map((member) => (member.detectedBy === 'redrive' && !endedBefore(member, redrivenAt) ? { ...member, detectedBy: 'poll' } : member))
      : looks;
  // Redriven: every member that had ended without success before the redrive is restarted (or
  // watched again, if it was only past its timeout) now, whatever the others are doing. The
  // redrive re-enters with the state's input, from before the look that failed, so a member that
  // ran past its timeout may still be InProgress there: waiting for it first and restarting the
  // rest later would count the redrive as used and fail again with the old failure. A member that
  // failed after the redrive (stopped while it waited, and redriven at once) fails the entry as it
  // would have without the stop, and then nothing is restarted: that would only delay the failure.
  const failedSinceRedrive = seen.some((member) => endedBadly(member) && !endedBefore(member, redrivenAt));
  // A member held for a retry beside one that ended for good was released by the look that failed
  // the entry; the redrive re-enters from before that look, where it is held again: restart it too.
  const restarting = redrivesSince > 0 && !failedSinceRedrive && seen.some(endedBadly);
  const looked = restarting
    ? seen.map((member) => (endedBadly(member) || member.waitingForRetry === true ? restart(member, nextAttempt(member, redriveCount), plan, now) : member))
    : seen;
  // Redriven, every running member is watched afresh: one watched again past its timeout has a
  // new deadline (its watch item must live as long), and one retried in CodePipeline since the run
  // saw it fail has a watch its FAILED marked ended, which would ignore its next end: either way
  // only the deadline would notice. A member held for a retry keeps the held watch armWatch wrote.
  if (completion === 'events' && redrivesSince > 0) {
    const rewatched = looked.filter((member, index) => {
      const before = run.members[index]!;
      return holds(member) && member.waitingForRetry !== true && member.pipelineExecutionId !== undefined && member.pipelineExecutionId === before.pipelineExecutionId;
    });
    await watchExecutions(run, rewatched.map((member) => watchOf(member)));
  }

  // onFailure wait holds a Failed member for a retry that could still let its entry succeed. Once
  // another member has ended for good without success (Stopped, Cancelled, a failure not held, a
  // timeout), none can: the held ones are looked at again as ended, and the entry fails once its
  // running members have ended, as with onFailure fail (it held the train until the deadline).
  const givenUp = looked.find(endedBadly);
  const settled =
    givenUp === undefined || !looked.some((member) => member.waitingForRetry === true)
      ? looked
      : await Promise.all(
          looked.map((member) =>
            member.waitingForRetry === true
              ? look(member, plan, now, { completion, detectedBy, run, released: `${givenUp.pipelineName} ended ${givenUp.status}` })
              : member,
          ),
        );

  let next: Run;
  if (settled.some((member) => member.status === 'Pending')) {
    // Not started yet (a redriven start that failed): StartPipelines starts it, with its token.
    next = { ...run, phase: 'start', members: settled, waitSeconds: 0 };
  } else if (settled.some(holds)) {
    next =
      completion === 'events'
        ? { ...run, phase: 'watch', members: settled, ...nextWait(run, settled, now) }
        : { ...run, phase: 'watch', members: settled, waitSeconds: secondsUntilNextLook(settled, now) };
  } else if (settled.every((member) => member.status === 'Succeeded')) {
    next = { ...run, phase: 'start', index: run.index + 1, members: [], waitSeconds: 0, results: [...run.results, ...settled.map(toResult)] };
  } else {
    // The train ends here (a redrive takes the lock again).
    if (completion === 'events') await releaseRunLock(lock);
    throw Object.defineProperty(entryFailure(settled, plan), 'run', {
      // What the look saw, for a caller in the same process (the local engine's progress lines); Lambda sends only name and message.
      value: { ...run, members: settled },
      enumerable: false,
    });
  }
  if (completion === 'events' && next.phase === 'start' && next.index >= plan.count) await releaseRunLock(lock);
  const handed = withHistory({ ...next, redrives: Math.max(run.redrives, redriveCount) }, plan, events, completion);
  if (completion === 'events' && handed.phase === 'continue' && handed.successor !== undefined) {
    await handOverRunLock({ ...lock, successorArn: `${executionArnPrefix(execution.stateMachineArn)}${handed.successor.executionName}` });
  }
  return handed;
}

/** Hands the count on, and turns the next step into a continuation when it would not fit. */
function withHistory(next: Run, plan: Plan, events: number, completion: 'events' | 'poll'): Run {
  const finished = next.phase === 'start' && next.index >= plan.count;
  // The next point that can hand over is a look: before a start, that is the start, its wait and the look after it.
  const throughStart = next.phase === 'start' ? handOn(0, 'started', 'watch', completion).pending + taskEvents(0) : 0;
  const nextStep = handOn(events, 'checked', next.phase, completion).pending + taskEvents(0) + throughStart;
  if (finished || !mustContinue(events + nextStep, plan.continueAtEvents)) return { ...next, history: handOn(events, 'checked', next.phase, completion) };
  const { successor: _previous, ...rest } = next;
  return {
    ...rest,
    phase: 'continue',
    history: { events, pending: eventsOnTheWay.checkedToContinue },
    successor: {
      executionName: successorName(next.origin.executionName, next.generation + 1),
      resume: next.phase === 'watch' ? 'watch' : 'start',
    },
  };
}

/** A member without what its last end told (its error, cause, end and how it was noticed): the next look tells them anew. */
function reopened(member: Member): Member {
  const { error: _error, cause: _cause, finishedAt: _finishedAt, detectedAt: _detectedAt, detectedBy: _detectedBy, releasedBy: _releasedBy, unretriable: _unretriable, statusSummary: _summary, ...rest } = member;
  return rest;
}

/** Ended Failed or Stopped, as the run last saw it: a stage CodePipeline lets someone retry. */
const mayHaveBeenRetried = (member: Member): boolean => (member.status === 'Failed' || member.status === 'Stopped') && member.pipelineExecutionId !== undefined;

const endedBadly = (member: Member): boolean => member.status !== 'Succeeded' && member.status !== 'Pending' && !holds(member);

/**
 * Whether a member had ended before the redrive. Its end is CodePipeline's time for it; a look
 * that could not list it (finishedAt is then the look's own time) counts as before, as does a
 * member that came in timed out: the redrive restarts those, as it always did.
 */
const endedBefore = (member: Member, redrivenAt: number | undefined): boolean =>
  redrivenAt === undefined ||
  member.status === 'TimedOut' ||
  member.finishedAt === undefined ||
  member.finishedAt === member.detectedAt ||
  Date.parse(member.finishedAt) <= redrivenAt;

const isDue = (member: Member, now: number): boolean =>
  holds(member) && (member.nextLookAt === undefined || Date.parse(member.nextLookAt) <= now + dueToleranceMs);

/**
 * The attempt a redrive restarts a member as, which names its start's clientRequestToken: the
 * execution's redrive count, as the progress line tells it, but always past the member's own last
 * attempt. A continuation's redrive count starts again at 0, while the member carries the attempt
 * an earlier execution's redrive gave it: the same count again would send that start's token, and
 * CodePipeline would answer with that failed execution instead of running the pipeline again.
 */
const nextAttempt = (member: Member, redriveCount: number) => Math.max(redriveCount, member.attempt + 1);

function restart(member: Member, attempt: number, plan: Plan, now: number): Member {
  const earlier = [...member.earlierExecutionIds, ...member.supersededExecutionIds, ...(member.pipelineExecutionId ? [member.pipelineExecutionId] : [])];
  if (member.status === 'TimedOut') {
    // Left running past its timeout: watch it again from now rather than start a second one.
    const { error: _error, cause: _cause, detectedAt: _detectedAt, ...rest } = member;
    return {
      ...rest,
      status: 'InProgress',
      deadline: new Date(now + plan.pipelineTimeoutSeconds * 1000).toISOString(),
      nextLookAt: new Date(now).toISOString(),
    };
  }
  return { ...pendingMember(member.position, member.member, member.pipelineName, attempt), earlierExecutionIds: earlier };
}

interface LookContext {
  completion: 'events' | 'poll';
  /** What made this look happen, recorded on a member found ended. */
  detectedBy: string;
  /** The end a waker sent the run, if one did (src/retry-hold.ts: which watches a look writes). */
  woke?: EndThatWoke;
  run: Run;
  /** Why a held member is held no more (`P2 ended Stopped`: its entry can no longer succeed): looked at as ended. */
  released?: string;
}

/** Looks at one member's execution once: follows a superseder, notices the end, or decides the next look. */
async function look(start: Member, plan: Plan, now: number, context: LookContext): Promise<Member> {
  // Held for a retry (onFailure: wait), or running after one: its watch may be marked ended already.
  const armed = await armWatch(context.run, start, plan, context.completion);
  // A held member's statusSummary told its failure: GetPipelineExecution tells it again if it still holds.
  const { waitingForRetry: _held, ...unheld } = start;
  if (start.waitingForRetry === true) delete unheld.statusSummary;
  // Seen ended before and looked at again (a redrive): what it ended with is the look's to say again.
  let member: Member = { ...(start.waitingForRetry !== true && mayHaveBeenRetried(start) ? reopened(unheld) : unheld), polls: start.polls + 1 };
  // One listing serves the whole look: finding superseders and reading the end time.
  let listed: Promise<PipelineExecutionSummary[]> | undefined;
  // Newest first: the page that shows the execution watched also shows every newer one (a superseder).
  const recent = () => (listed ??= listRecentExecutions(member.pipelineName, { ...listing, until: start.pipelineExecutionId! }));
  let executionMode: string | undefined;
  for (let follows = 0; ; follows += 1) {
    const read = await getExecution(member.pipelineName, member.pipelineExecutionId!);
    const { status, statusSummary } = read;
    executionMode = read.executionMode;
    member = { ...member, status, ...(statusSummary ? { statusSummary } : {}) };
    if (status !== 'Superseded' || plan.onSuperseded !== 'follow' || follows >= maxFollows) break;
    const newer = findSuperseder(member, await recent());
    if (!newer) break;
    member = {
      ...member,
      pipelineExecutionId: newer.pipelineExecutionId!,
      watchedSince: newer.startTime!.toISOString(),
      ...supersededBy(member),
    };
    delete member.statusSummary;
  }
  if (context.completion === 'events' && member.pipelineExecutionId !== start.pipelineExecutionId) {
    // Following a superseder: its end is the one that must wake the run now, and the superseded
    // one's, late (or the sweeper's finding it), must wake no later wait.
    await watchExecutions(context.run, [watchOf(member, false)]);
    await disarm(context.run, { ...start, status: 'Superseded' }, undefined, context);
  }

  // Held only while CodePipeline could still retry it: once a later execution ran its failed stage, no retry can come.
  const wouldHold = context.released === undefined && heldForRetry(member, plan, now);
  const overtaken = wouldHold ? await overtakenIfKnown(member.pipelineName, member.pipelineExecutionId!, executionMode) : undefined;
  const hold = wouldHold && overtaken === undefined;
  if (stillRunning.has(member.status) || hold) {
    const deadline = Date.parse(member.deadline!);
    if (now >= deadline) return timedOut(member, plan, now);
    // Held again: the failure read may be a later one than the hold's (a retry that ran and failed between two looks, unseen).
    // A listing that fails only leaves that unknown: the hold's first detection stands, and the hold goes on.
    const listedEnd =
      hold && start.waitingForRetry === true
        ? await endListedFor(member, recent).catch((error: unknown) => {
            logger.warn('could not read when a held failure ended: its first detection stands', { pipelineName: member.pipelineName, error });
            return undefined;
          })
        : undefined;
    const held: Member = hold ? { ...member, waitingForRetry: true, ...heldFailure(start, listedEnd, now, context) } : withoutDetection(retried(member, start), start);
    await armedFor(context.run, held, armed, context);
    if (context.completion === 'events') return deadlineLook(held);
    const waitSeconds = nextWaitSeconds({
      elapsedSeconds: (now - Date.parse(member.watchedSince!)) / 1000,
      settings: plan.polling,
      remainingSeconds: (deadline - now) / 1000,
      ...(member.expected ? { expected: member.expected } : {}),
    });
    return { ...held, nextLookAt: new Date(now + waitSeconds * 1000).toISOString() };
  }

  // Armed for the execution it started from, the look may have followed a superseder since: that one's watch is the one to mark.
  await disarm(context.run, member, armed?.pipelineExecutionId === member.pipelineExecutionId ? armed : undefined, context);
  // Held and now Succeeded, the retry and its end came between two looks.
  // CodePipeline's own end time, so finishedAt is when the pipeline ended, not when we looked; the look's time when the listing does not show it.
  const listedEnd = await endListedFor(member, recent);
  const finished = { ...withCodePipelineTimes(member.status === 'Succeeded' ? retried(member, start) : member, listedEnd, now), detectedBy: context.detectedBy };
  // Held until its deadline (or released), the failure was noticed when it was held, not by this look.
  const held = start.waitingForRetry === true && member.status === 'Failed' ? heldFailure(start, listedEnd, now, context) : {};
  if (finished.status === 'Succeeded') return finished;
  const unretriable = overtaken && `execution ${overtaken.laterExecutionId} has since run its failed stage ${overtaken.stageName}, so CodePipeline can no longer retry it`;
  return failed({ ...finished, ...held, ...(context.released !== undefined && { releasedBy: context.released }), ...(unretriable && { unretriable }) }, plan);
}

/** CodePipeline's own time of the execution's last change (its end, once it has ended), from the look's one listing. */
const endListedFor = async (member: Member, recent: () => Promise<PipelineExecutionSummary[]>): Promise<Date | undefined> =>
  (await recent()).find((summary) => summary.pipelineExecutionId === member.pipelineExecutionId)?.lastUpdateTime;

/**
 * When and how a held failure, read Failed again, was noticed: when it was first held; unless a
 * retry ran and failed again since that look, unseen (its RESUMED lost or late), and the failure
 * read now is that later one: this look noticed it, and the retry counts. Told by CodePipeline's
 * end time only (`listedEnd`): an execution the listing does not show keeps its first detection.
 */
function heldFailure(start: Member, listedEnd: Date | undefined, now: number, context: LookContext): Pick<Member, 'detectedAt' | 'detectedBy' | 'retries'> {
  const seen = start.waitingForRetry === true && start.detectedAt !== undefined && start.detectedBy !== undefined ? { detectedAt: start.detectedAt, detectedBy: start.detectedBy } : undefined;
  if (seen !== undefined && (listedEnd === undefined || Date.parse(seen.detectedAt) >= listedEnd.getTime())) return seen;
  const retries = seen === undefined ? {} : { retries: (start.retries ?? 0) + 1 };
  return { detectedAt: new Date(now).toISOString(), detectedBy: context.detectedBy, ...retries };
}

/** Held, and now not Failed: someone retried its failed stage in CodePipeline, once more. */
const retried = (member: Member, start: Member): Member => (start.waitingForRetry === true && member.status !== 'Failed' ? { ...member, retries: (start.retries ?? 0) + 1 } : member);

/** Retried out of its hold, a member runs again: the hold's detection no longer says anything. */
function withoutDetection(member: Member, start: Member): Member {
  if (start.waitingForRetry !== true) return member;
  const { detectedAt: _detectedAt, detectedBy: _detectedBy, ...running } = member;
  return running;
}


function errorFor(status: string): { error: PipelineOutcomeError; known: boolean } {
  return { error: outcomeErrorOf(status), known: Object.hasOwn(pipelineOutcomeErrors, status) };
}

/**
 * A statusSummary as a failure's cause quotes it. A group of 10 with long summaries would make a
 * message whose Lambda error document (the message twice, and a stack) passes the 32,768
 * characters Step Functions keeps of a cause; the CodePipeline console keeps the whole of each.
 */
export const maxSummaryInCause = 1_000;

const summaryInCause = (summary: string) =>
  summary.length <= maxSummaryInCause ? summary : `${summary.slice(0, maxSummaryInCause)}… (${(summary.length - maxSummaryInCause).toLocaleString('en-US')} more characters in CodePipeline)`;

function failed(member: Member, plan: Plan): Member {
  const { error, known } = errorFor(member.status);
  const summary = summaryInCause(member.statusSummary ?? noStatusSummary);
  const superseded = member.supersededExecutionIds.length > 0 ? `; it had superseded ${supersededList(member.supersededExecutionIds, member.supersededOmitted)}` : '';
  const unexpected = known ? '' : ' (an unexpected status, treated as a failure)';
  return { ...member, error, cause: `${memberPlace(member, plan)} execution ${member.pipelineExecutionId}${whereIs(member)} ended ${member.status}${unexpected}: ${summary}${superseded}${waitedForRetry(member, plan)}` };
}

function timedOut(member: Member, plan: Plan, now: number): Member {
  const elapsed = Math.round((now - Date.parse(member.startedAt!)) / 1000);
  // Held for a retry (onFailure: wait) and retried, it was the retry that ran past the deadline.
  const retry = member.retries === undefined ? '' : ` (its failed stage retried ${timesOf(member.retries)}, the last retry still running)`;
  return {
    ...member,
    status: 'TimedOut',
    detectedAt: new Date(now).toISOString(),
    error: pipelineOutcomeErrors.TimedOut,
    cause: `${memberPlace(member, plan)} execution ${member.pipelineExecutionId}${whereIs(member)} is still ${member.status} after ${duration(elapsed)}, past pipelineTimeoutSeconds ${plan.pipelineTimeoutSeconds} (${duration(plan.pipelineTimeoutSeconds)}). The pipeline was left running${retry}`,
  };
}

/** The first member to fail names the error; the cause tells every member's outcome. */
function entryFailure(members: Member[], plan: Plan): Error {
  const failures = members
    .filter((member) => member.error !== undefined)
    .sort((a, b) => Date.parse(a.detectedAt ?? '') - Date.parse(b.detectedAt ?? '') || a.member - b.member);
  const first = failures[0]!;
  const others = members
    .filter((member) => member !== first)
    .map((member) => member.cause ?? `${memberPlace(member, plan)} execution ${member.pipelineExecutionId}${whereIs(member)} ${member.status}`);
  const position = first.position;
  const later = plan.count - position - 1;
  const laterText = later > 0 ? ' Later pipelines were not started.' : '';
  const othersText = others.length > 0 ? ` Other members of the group: ${others.join('; ')}.` : '';
  const message = `${first.cause!}.${othersText}${laterText}`;
  return entryError(first.error as PipelineOutcomeError | RefusedStartError, message);
}

function toResult(member: Member): PipelineResult {
  return {
    position: member.position,
    member: member.member,
    pipelineName: member.pipelineName,
    status: member.status,
    pipelineExecutionId: member.pipelineExecutionId!,
    attempt: member.attempt,
    startedAt: member.startedAt!,
    finishedAt: member.finishedAt!,
    detectedAt: member.detectedAt!,
    ...(member.detectedBy !== undefined && { detectedBy: member.detectedBy }),
    polls: member.polls,
    supersededExecutionIds: member.supersededExecutionIds,
    ...(member.supersededOmitted !== undefined && { supersededOmitted: member.supersededOmitted }),
    ...(member.earlierExecutionIds.length > 0 ? { earlierExecutionIds: member.earlierExecutionIds } : {}),
    ...(member.startLost === true && { startLost: true }),
    ...(member.retries !== undefined && { retries: member.retries }),
  };
}

/**
 * The newer execution that superseded ours: the first one CodePipeline started after it that had
 * not ended by the time ours was superseded. CodePipeline does not say which execution superseded
 * which; one started after ours that failed or was stopped in an earlier stage before that moment
 * (a push, a manual start) never reached ours, and the next one did: executions cannot overtake
 * one another within a stage.
 */
function findSuperseder(member: Member, summaries: PipelineExecutionSummary[]): PipelineExecutionSummary | undefined {
  const ours = summaries.find((summary) => summary.pipelineExecutionId === member.pipelineExecutionId);
  const oursStarted = ours?.startTime?.getTime() ?? Date.parse(member.watchedSince!);
  const supersededAt = ours?.lastUpdateTime?.getTime();
  const endedBeforeThat = (summary: PipelineExecutionSummary) =>
    supersededAt !== undefined && !stillRunning.has(summary.status ?? '') && summary.lastUpdateTime !== undefined && summary.lastUpdateTime.getTime() < supersededAt;
  return summaries
    .filter((summary) => summary.pipelineExecutionId !== member.pipelineExecutionId && summary.startTime)
    .filter((summary) => summary.startTime!.getTime() >= oursStarted && !endedBeforeThat(summary))
    .sort((a, b) => a.startTime!.getTime() - b.startTime!.getTime())[0];
}

/** The member ended at `endedAt` (CodePipeline's time, if it gave one) and seen so `now`. */
function withCodePipelineTimes(member: Member, endedAt: Date | undefined, now: number): Member {
  const detectedAt = new Date(now).toISOString();
  return { ...member, finishedAt: endedAt?.toISOString() ?? detectedAt, detectedAt };
}
