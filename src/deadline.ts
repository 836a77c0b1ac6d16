import { AwsUnavailable } from './errors.js';

/** What a handler keeps back from its timeout to fail by name rather than be killed. */
const deadlineMarginMs = 2000;

/**
 * Runs the work, but fails with a named error a little before the function would time out: a
 * Lambda killed at its timeout reaches Step Functions as a bare `Lambda.Unknown`, whose cause
 * cannot say which pipelines the run was watching; this error goes through the handler's own
 * error path, which names them, and the state machine retries it like any AWS outage.
 */
export async function beforeTheDeadline<T>(work: Promise<T>, context: { getRemainingTimeInMillis?: () => number } | undefined, what: string): Promise<T> {
  const remainingMs = context?.getRemainingTimeInMillis?.();
  if (remainingMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AwsUnavailable(`${what} got no answer from AWS within the function's ${Math.round(remainingMs / 1000)} s`)),
      Math.max(0, remainingMs - deadlineMarginMs),
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
