/** One Retry entry of a Task, as the definition writes it. */
export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

/**
 * The backoff Step Functions computes before a retrier's retry number `retryNumber` (1 for the
 * first): IntervalSeconds × BackoffRate^(retryNumber − 1), capped by MaxDelaySeconds. Defaults per
 * the States Language: 1 s, rate 2. With FULL jitter it waits a random time up to it.
 */
export function retryBackoffSeconds(retrier: Retrier, retryNumber: number): number {
  const uncapped = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (retryNumber - 1);
  return retrier.MaxDelaySeconds === undefined ? uncapped : Math.min(uncapped, retrier.MaxDelaySeconds);
}
