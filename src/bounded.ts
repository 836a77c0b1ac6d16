/**
 * Maps items through an async function with at most `limit` calls in flight, keeping the
 * items' order. The first failure rejects the whole map and no further call is made: the
 * caller fails by that error's name, and calls already in flight are left to end on their own.
 */
export async function mapBounded<Item, Result>(items: readonly Item[], limit: number, work: (item: Item) => Promise<Result>): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Runs the work again when it fails with AwsUnavailable (throttling, 5xx, network, after the
 * SDK's own attempts), at most `attempts` times in all, with full-jitter backoff from `baseMs`.
 * Many calls at once meet throttling in bursts, and one unlucky call can draw several throttled
 * answers in a row: retrying it here keeps the whole decision in one invocation, and the
 * handler's deadline still ends it by name before the function's timeout.
 */
export async function retryUnavailable<Result>(work: () => Promise<Result>, options: { attempts: number; baseMs: number }): Promise<Result> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= options.attempts || (error as { name?: unknown } | null)?.name !== 'AwsUnavailable') throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * options.baseMs * 2 ** (attempt - 1)));
    }
  }
}
