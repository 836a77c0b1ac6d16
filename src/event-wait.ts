import { getWait, keepAfterDeadlineSeconds, lookNowStates, putWatch, waitKey } from './completion-table.js';
import { secondsUntilNextLook } from './polling.js';
import type { Member, Plan, Run } from './run.js';
import { stageConfig } from './config.js';
import { targetKey, targetOf } from './targets.js';

/**
 * The parts of start-pipeline and check-status that differ with `completion: events`: the run
 * parks on a callback Task until an end wakes it, so a running member's only scheduled look is
 * its deadline (the callback Task's timeout), and every wake looks at every running member.
 */
export const completionMode = (plan: Plan): 'events' | 'poll' => plan.completion ?? 'poll';

/** In events mode a member is looked at only when something woke the run, or at its deadline. */
export const deadlineLook = (member: Member): Member => ({ ...member, nextLookAt: member.deadline! });

/**
 * The functions' own account and region, read from the train's execution ARN
 * (`arn:<partition>:states:<region>:<account>:execution:...`): where a stage's local pipelines
 * live, and so the account and region their events carry.
 */
export function homeOf(executionArn: string): { accountId: string; region: string } {
  const [, , , region, accountId] = executionArn.split(':');
  return { accountId: accountId!, region: region! };
}

/** Where the stage's pipeline of this name is (account/region/CodePipeline name): what its watch items are keyed by. */
export const watchLocation = (run: Run, pipelineName: string): string => targetKey(targetOf(stageConfig(), pipelineName), homeOf(run.origin.executionArn));

/**
 * Tells the event function and the sweeper which run watches each newly watched execution. The
 * item is keyed by where the pipeline is (account, region, CodePipeline name), which is all an
 * event says about it: two pipelines of one CodePipeline name in two accounts never share a watch.
 */
export async function watchExecutions(
  run: Run,
  executions: ReadonlyArray<{ pipelineName: string; pipelineExecutionId: string; deadline: string; held?: boolean }>,
): Promise<void> {
  await Promise.all(
    executions.map((execution) =>
      putWatch({
        location: watchLocation(run, execution.pipelineName),
        pipelineName: execution.pipelineName,
        pipelineExecutionId: execution.pipelineExecutionId,
        waitKey: waitKey(run.origin.executionArn),
        expiresAtMs: Date.parse(execution.deadline) + keepAfterDeadlineSeconds * 1000,
        ...(execution.held === true && { held: true }),
      }),
    ),
  );
}

/** A started member's watch, as watchExecutions writes it: its execution, until its deadline; `held` with onFailure: wait. */
export const watchOf = (member: Member, held = member.waitingForRetry === true) => ({
  pipelineName: member.pipelineName,
  pipelineExecutionId: member.pipelineExecutionId!,
  deadline: member.deadline!,
  held,
});

/** The next wait: one more than the last, timing out at the first member's deadline. */
export function nextWait(run: Run, members: Member[], now: number): Pick<Run, 'wait' | 'waitSeconds'> {
  const waitSeconds = secondsUntilNextLook(members, now);
  const latestDeadline = Math.max(now, ...members.filter((member) => member.deadline).map((member) => Date.parse(member.deadline!)));
  return {
    waitSeconds,
    wait: {
      key: waitKey(run.origin.executionArn),
      seq: (run.wait?.seq ?? 0) + 1,
      expiresAt: Math.floor(latestDeadline / 1000) + keepAfterDeadlineSeconds,
    },
  };
}

/** The callback Task's own error names for a token write refused because an end came first. */
const endCameFirst = new Set(['DynamoDb.ConditionalCheckFailedException', 'DynamoDB.ConditionalCheckFailedException']);

export const wokeBeforeParking = (wake: Run['wake']): boolean => typeof wake?.Error === 'string' && endCameFirst.has(wake.Error);

/**
 * What ended the run's last wait: the execution whose end a waker (an event's delivery, a sweep)
 * sent, and whether that end marked its watch ended (every end does, a sweeper's look-now state
 * does not); no execution when none was sent (its deadline, or an end that came before it parked,
 * recorded and not sent).
 */
export interface EndThatWoke {
  pipelineExecutionId?: string;
  marked: boolean;
}

/** What ended the run's last wait; undefined before its first, when no end can have been recorded for it. */
export function endThatWoke(wake: Run['wake']): EndThatWoke | undefined {
  if (wake === undefined) return undefined;
  if (typeof wake.pipelineExecutionId !== 'string') return { marked: false };
  return { pipelineExecutionId: wake.pipelineExecutionId, marked: typeof wake.state === 'string' && !lookNowStates.has(wake.state) };
}

/**
 * Whether the run, redriven, parked again before this look: its token write (after the redrive)
 * went through, so what woke it came after the redrive, not while it stood failed or stopped.
 */
export async function parkedSinceRedrive(run: Run, redriveCount: number, now: number): Promise<boolean> {
  if (run.wait === undefined || run.wake === undefined || wokeBeforeParking(run.wake)) return false;
  return (await getWait(run.wait.key, now))?.parkedAtRedrive === redriveCount;
}

/** What made check-status look: the waker's name, the deadline, or (an end came before the token) whoever recorded it. */
export async function wakeSource(plan: Plan, run: Run, now: number): Promise<string> {
  const { wake } = run;
  if (wake === undefined) return completionMode(plan) === 'events' ? 'start' : 'poll';
  if (typeof wake.by === 'string') return wake.by;
  if (wake.Error === 'States.Timeout') return 'timeout';
  if (wokeBeforeParking(wake) && run.wait) return (await getWait(run.wait.key, now))?.wokenBy ?? 'event';
  return 'event';
}
