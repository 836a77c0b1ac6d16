/**
 * When to look at a pipeline again.
 *
 * A Standard execution fails at 25,000 history events and each look costs 9 of them (Wait,
 * Task, Choice), so a fixed 30-second poll dies after about 23 hours. Two ideas keep a
 * seven-day manual approval well inside the budget while noticing the end quickly:
 *
 * - Expected duration: when the pipeline's recent successful runs are known, sleep until a
 *   little before the fastest of them would have ended (a run can beat its history), poll
 *   closely until a little after the slowest, then back off. Close means every `pollSeconds`,
 *   unless the window is so wide (approvals that took a day once and a week another time)
 *   that this would cost more than `lookBudgetPerWindow` looks: then the window's looks are
 *   spread evenly, still never further apart than `maxPollSeconds`.
 * - Adaptive back-off (also the fallback without history): the wait grows with the time
 *   already spent (a tenth of it), never below `pollSeconds` nor above `maxPollSeconds`.
 *
 * No single wait is longer than `maxPollSeconds`, so a pipeline that fails early is noticed
 * within that bound, and no wait runs past the pipeline's timeout.
 */

export interface PollingSettings {
  pollSeconds: number;
  maxPollSeconds: number;
}

/** From the pipeline's recent successful executions (seconds). */
export interface ExpectedDuration {
  fastestSeconds: number;
  slowestSeconds: number;
  samples: number;
}

export interface PollingRequest {
  elapsedSeconds: number;
  settings: PollingSettings;
  expected?: ExpectedDuration;
  /** Seconds left before the pipeline's timeout. */
  remainingSeconds: number;
}

const backOffFraction = 0.1;
/** How much earlier than the fastest past run, and later than the slowest, the window reaches. */
const windowMargin = 0.1;
/** 120 looks are about 1,100 history events: the window can never exhaust the 25,000. */
export const lookBudgetPerWindow = 120;

export function nextWaitSeconds({ elapsedSeconds, settings, expected, remainingSeconds }: PollingRequest): number {
  const { pollSeconds, maxPollSeconds } = settings;
  const clamp = (seconds: number) => Math.min(maxPollSeconds, Math.max(pollSeconds, Math.round(seconds)));
  let wait: number;
  if (!expected) {
    wait = clamp(elapsedSeconds * backOffFraction);
  } else {
    const windowOpens = expected.fastestSeconds * (1 - windowMargin) - pollSeconds;
    const windowCloses = expected.slowestSeconds * (1 + windowMargin) + pollSeconds;
    if (elapsedSeconds < windowOpens) wait = Math.min(maxPollSeconds, Math.max(1, Math.round(windowOpens - elapsedSeconds)));
    else if (elapsedSeconds <= windowCloses) wait = clamp((windowCloses - windowOpens) / lookBudgetPerWindow);
    else wait = clamp((elapsedSeconds - windowCloses) * backOffFraction);
  }
  return Math.max(1, Math.min(wait, Math.ceil(remainingSeconds)));
}

/** Fastest and slowest of the recent successful durations; undefined without any. */
export function expectedDurationFrom(durationsSeconds: readonly number[]): ExpectedDuration | undefined {
  const usable = durationsSeconds.filter((seconds) => Number.isFinite(seconds) && seconds > 0);
  if (usable.length === 0) return undefined;
  return { fastestSeconds: Math.min(...usable), slowestSeconds: Math.max(...usable), samples: usable.length };
}

/** Statuses in which a pipeline execution may still change: keep watching. */
export const stillRunning: ReadonlySet<string> = new Set(['InProgress', 'Stopping']);

/** A member the entry still waits for: running, or Failed and held for a retry (onFailure `wait`). */
export const holds = (member: { status: string; waitingForRetry?: boolean }): boolean => stillRunning.has(member.status) || member.waitingForRetry === true;

/**
 * A group waits once for all its members: until the first one still running is due for a look.
 * Members share the Wait and the look, so a group costs the history of one pipeline per look.
 */
export function secondsUntilNextLook(members: ReadonlyArray<{ status: string; nextLookAt?: string; waitingForRetry?: boolean }>, now: number): number {
  const due = members
    .filter((member) => holds(member) && member.nextLookAt !== undefined)
    .map((member) => Date.parse(member.nextLookAt!));
  if (due.length === 0) return 0;
  return Math.max(1, Math.ceil((Math.min(...due) - now) / 1000));
}
