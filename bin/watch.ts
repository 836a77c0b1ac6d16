import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import type { RunEvent } from '../local/engine.js';
import { isTransient } from './aws.js';
import { continuedAs, foldTrain, readExecution, readTrain, type ExecutionRead, type Retriers, type StatusReport } from './status.js';

/**
 * `status --watch` and `start --wait`: a train followed live through Step Functions' API.
 *
 * The train as it stands is read once (each execution's whole history, as `status` reads it);
 * after that only what is new: each tick asks GetExecutionHistory for the running execution's
 * newest events (newest first, one page of 100 in all but the busiest ticks) down to the last
 * one already read. One call per tick, a tick every `intervalSeconds` (5 s by default, never
 * under 1 s): at most one call a second, a small share of the token bucket Step Functions
 * refills several times a second for GetExecutionHistory (per account and region), so a watch
 * never starves the functions' own calls. A throttled tick doubles the interval, up to a minute.
 * So does one that cannot reach Step Functions, or gets a server error, for up to
 * `unreachableSeconds` in a row: the train goes on through a network blip, and so must a
 * days-long `start --wait` in CI; past that the watch gives up, as a first call would at once.
 * An execution that ends is described once more (for its status, output and error); one that
 * continued as new is followed into its successor; a redrive, which goes on in the same
 * history, is seen there.
 */

export const defaultWatchIntervalSeconds = 5;
export const minimumWatchIntervalSeconds = 1;
/**
 * An hour: a look an hour still notices a long pipeline's end in time. Node's timers overflow past
 * 24.8 days and then fire at once, which would turn a huge interval into a call every millisecond.
 */
export const maximumWatchIntervalSeconds = 3600;
const maximumBackoffSeconds = 60;
/** How long a watch goes on asking while Step Functions is out of reach (or failing with 5xx), before it gives up. */
export const unreachableSeconds = 300;
const pageSize = 100;

const ended = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

export interface WatchOptions {
  stateMachineArn: string;
  retriers: Retriers;
  intervalSeconds: number;
  /** Aborting it stops the watching, never the train. */
  signal: AbortSignal;
  /** Just redriven: the redriven execution's (`executionArn`'s) redrive count to wait for, should DescribeExecution not show the redrive yet. */
  redriveCount?: number;
  /** Once, when the train's first execution is known. */
  onStart?: (first: ExecutionRead) => void;
  /** Each progress event, in order, as soon as it is read. */
  onEvent: (event: RunEvent) => void;
  /** Each time a look failed for a transient reason (`isTransient`) and will be made again, in `retryInSeconds`, until `givingUpAt` (ms). */
  onRetry?: (error: unknown, retryInSeconds: number, givingUpAt: number) => void;
}

/** Follows the train `executionArn` belongs to until it ends; undefined if the watching was interrupted. */
export async function followTrain(client: SFNClient, executionArn: string, options: WatchOptions): Promise<StatusReport | undefined> {
  try {
    return await follow(client, executionArn, options);
  } catch (error) {
    if (error instanceof WatchStopped) return undefined;
    throw error;
  }
}

/** The watching was stopped (Ctrl-C) while it waited. */
class WatchStopped extends Error {}

async function follow(client: SFNClient, executionArn: string, options: WatchOptions): Promise<StatusReport> {
  const baseSeconds = Math.max(minimumWatchIntervalSeconds, options.intervalSeconds);
  let intervalSeconds = baseSeconds;
  const wait = async (seconds = intervalSeconds) => {
    await pause(seconds * 1000, options.signal);
    if (options.signal.aborted) throw new WatchStopped();
  };
  let unreachableSince: number | undefined;
  // Every call of the watch: throttled (past the SDK's own retries), it waits twice as long and
  // asks again; out of reach, the same, until it has been so for unreachableSeconds in a row.
  const politely = async <T>(call: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        const answer = await call();
        intervalSeconds = baseSeconds;
        unreachableSince = undefined;
        return answer;
      } catch (error) {
        // Ctrl-C ends the call in flight too (bin/aws.ts sfnClient): that is the watch stopped, not a failure.
        if (options.signal.aborted) throw new WatchStopped();
        intervalSeconds = Math.min(maximumBackoffSeconds, intervalSeconds * 2);
        if (isThrottling(error)) {
          // Throttled is an answer: Step Functions is in reach again.
          unreachableSince = undefined;
          await wait();
          continue;
        }
        if (!isTransient(error)) throw error;
        unreachableSince ??= Date.now();
        const givingUpAt = unreachableSince + unreachableSeconds * 1000;
        const retryInSeconds = Math.min(intervalSeconds, Math.ceil((givingUpAt - Date.now()) / 1000));
        if (retryInSeconds <= 0) throw error;
        options.onRetry?.(error, retryInSeconds, givingUpAt);
        await wait(retryInSeconds);
      }
    }
  };
  const describe = (arn: string) => politely(() => client.send(new DescribeExecutionCommand({ executionArn: arn })));

  const train = await politely(() => readTrain(client, executionArn));
  options.onStart?.(train[0]!);
  let shown = 0;
  const showNew = () => {
    const { events } = foldTrain(train, options.stateMachineArn, options.retriers);
    for (const event of events.slice(shown)) options.onEvent(event);
    shown = events.length;
  };
  showNew();
  for (;;) {
    const last = train.at(-1)!;
    // Described a moment before its history was read, it may have ended in between.
    if (last.described.status === 'RUNNING' && ended.has(last.history.at(-1)?.type ?? '')) last.described = await describe(last.arn);
    // The redrive count waited for is the redriven execution's: a successor it continued as counts from 0.
    const redriveSeen = last.arn !== executionArn || (last.described.redriveCount ?? 0) >= (options.redriveCount ?? 0);
    if (last.described.status !== 'RUNNING' && !redriveSeen) {
      await wait();
      last.described = await describe(last.arn);
      continue;
    }
    if (last.described.status !== 'RUNNING') {
      const successor = continuedAs(last);
      if (successor === undefined) return foldTrain(train, options.stateMachineArn, options.retriers);
      train.push(await politely(() => readExecution(client, successor)));
      showNew();
      continue;
    }
    await wait();
    const fresh = await politely(() => newEvents(client, last.arn, last.history.at(-1)?.id ?? 0));
    if (fresh.length === 0) continue;
    last.history.push(...fresh);
    if (ended.has(last.history.at(-1)!.type ?? '')) last.described = await describe(last.arn);
    showNew();
  }
}

/** The execution's events after `afterId`, oldest first: read newest first, down to the first one already seen. */
export async function newEvents(client: SFNClient, executionArn: string, afterId: number): Promise<HistoryEvent[]> {
  const fresh: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: pageSize, nextToken, includeExecutionData: true }));
    for (const event of page.events ?? []) {
      if ((event.id ?? 0) <= afterId) return fresh.reverse();
      fresh.push(event);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return fresh.reverse();
}

/**
 * A call a watch makes before it follows anything (finding the stage's train): throttled past
 * the SDK's own retries, it waits, twice as long each time, and asks again, as the watch does.
 * Undefined if the watching was stopped (Ctrl-C), the call in flight included, as followTrain.
 */
export async function patiently<T>(call: () => Promise<T>, signal: AbortSignal, firstWaitSeconds: number): Promise<T | undefined> {
  for (let waitSeconds = firstWaitSeconds; ; waitSeconds = Math.min(maximumBackoffSeconds, waitSeconds * 2)) {
    try {
      return await call();
    } catch (error) {
      if (signal.aborted) return undefined;
      if (!isThrottling(error)) throw error;
      await pause(waitSeconds * 1000, signal);
    }
  }
}

export const isThrottling = (error: unknown) => ['ThrottlingException', 'TooManyRequestsException', 'Throttling'].includes((error as { name?: string }).name ?? '');

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
