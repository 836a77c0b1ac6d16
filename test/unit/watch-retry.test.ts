import { jest } from '@jest/globals';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, type GetExecutionHistoryCommandInput } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { followTrain, unreachableSeconds } from '../../bin/watch.js';

/**
 * A watch (`status --watch`, `start --wait`) lasts as long as the train, days perhaps: a lost
 * connection or a server error on the way must not end it while the train goes on. It asks
 * again, backing off, for up to `unreachableSeconds` in a row, and only then gives up.
 */

const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:train-1';
const stepFunctions = mockClient(SFNClient);
const client = new SFNClient({ region: 'us-east-1' });
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { code: 'ECONNREFUSED' });
const serverError = () => Object.assign(new Error('We encountered an internal error'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });

/** A running train whose later looks answer with `later`, one call each, in order (the last one repeated). */
function trainAnswering(later: (() => unknown)[]) {
  const startDate = new Date(Date.UTC(2026, 0, 1));
  let described = { name: 'train-1', status: 'RUNNING', startDate, input: '{}' };
  stepFunctions.on(DescribeExecutionCommand).callsFake(() => described);
  let looks = 0;
  stepFunctions.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    if (!input.reverseOrder) return { events: [{ id: 1, type: 'ExecutionStarted', timestamp: startDate }] };
    const answer = later[Math.min(looks, later.length - 1)]!();
    looks += 1;
    if (answer instanceof Error) throw answer;
    described = { ...described, status: 'SUCCEEDED', output: '{}' } as typeof described;
    return answer;
  });
}

const ended = () => ({ events: [{ id: 2, type: 'ExecutionSucceeded', timestamp: new Date(Date.UTC(2026, 0, 1, 1)) }] });

beforeEach(() => {
  stepFunctions.reset();
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

/** Follows the train with the watch's usual options, a given interval, and what each retry says. */
const follow = (intervalSeconds: number, onRetry: (error: unknown, retryInSeconds: number) => void) =>
  followTrain(client, executionArn, { stateMachineArn, retriers: {}, intervalSeconds, signal: new AbortController().signal, onEvent: () => undefined, onRetry });

describe('a watch that loses Step Functions for a while', () => {
  it('asks again, backing off and saying so each time, and follows the train to its end once it is back', async () => {
    // Prepare: the connection is refused twice, then a server error, then the train's end is read.
    trainAnswering([refused, refused, serverError, ended]);
    const retries: [string, number][] = [];

    // Act
    const watching = follow(1, (error, retryInSeconds) => retries.push([(error as Error).message, retryInSeconds]));
    await jest.advanceTimersByTimeAsync(60_000);
    const report = await watching;

    // Assess
    expect(report?.status).toBe('SUCCEEDED');
    expect(retries).toEqual([
      ['connect ECONNREFUSED 127.0.0.1:4599', 2],
      ['connect ECONNREFUSED 127.0.0.1:4599', 4],
      ['We encountered an internal error', 8],
    ]);
  });

  it(`gives up with the last error once it has been out of reach for ${unreachableSeconds} s in a row`, async () => {
    // Prepare
    trainAnswering([refused]);
    let lastRetry = 0;
    const startedAt = Date.now();

    // Act
    const watching = follow(5, () => (lastRetry = Date.now()));
    const outcome = expect(watching).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await jest.advanceTimersByTimeAsync(2 * unreachableSeconds * 1000);
    await outcome;

    // Assess: its first failed look came one interval after the start; the last retry waits no later than the limit.
    expect(lastRetry - startedAt).toBeLessThan((5 + unreachableSeconds) * 1000);
    expect(lastRetry - startedAt).toBeGreaterThan(unreachableSeconds * 1000 - 60_000);
  });

  it('counts the time out of reach afresh after a throttled answer, which came from Step Functions', async () => {
    // Prepare: about 4 min out of reach, then throttled (so reached), then 3 min out of reach again, then the end.
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const outOfReach = (looks: number) => Array.from({ length: looks }, () => refused);
    trainAnswering([...outOfReach(6), throttled, ...outOfReach(3), ended]);
    const retries: number[] = [];

    // Act
    const watching = follow(5, (_error, retryInSeconds) => retries.push(retryInSeconds));
    await jest.advanceTimersByTimeAsync(20 * 60_000);
    const report = await watching;

    // Assess: the two spells together were out of reach longer than the limit, each on its own less.
    expect(report?.status).toBe('SUCCEEDED');
    expect(retries.reduce((sum, seconds) => sum + seconds, 0)).toBeGreaterThan(unreachableSeconds);
  });

  it('does not retry what asking again cannot mend', async () => {
    // Prepare
    trainAnswering([() => Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } })]);
    const retries: number[] = [];

    // Act
    const watching = follow(1, (_error, retryInSeconds) => retries.push(retryInSeconds));
    const outcome = expect(watching).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await jest.advanceTimersByTimeAsync(10_000);
    await outcome;

    // Assess
    expect(retries).toEqual([]);
  });
});

describe('a watch stopped by Ctrl-C', () => {
  it('while a call is in flight (the command’s client ends it, bin/aws.ts sfnClient) stops the watching, as during its pause', async () => {
    // Prepare: the first look never answers until the signal ends it, as the SDK ends an aborted call.
    const controller = new AbortController();
    stepFunctions.on(DescribeExecutionCommand).callsFake(
      () => new Promise((_, reject) => controller.signal.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })))),
    );

    // Act
    const watching = followTrain(client, executionArn, { stateMachineArn, retriers: {}, intervalSeconds: 5, signal: controller.signal, onEvent: () => {} });
    await jest.advanceTimersByTimeAsync(0);
    controller.abort('SIGINT');

    // Assess: undefined is "stopped watching; the train goes on" (bin/control.ts watch), not a failure of the command.
    await expect(watching).resolves.toBeUndefined();
  });
});

describe('a watch of a train just redriven (redrive --wait)', () => {
  it('follows it into the execution it continued as, whose own redrive count starts at 0, to its end', async () => {
    // Prepare: train-1 was redriven (its redrive 1), went on and continued as train-1-g2, which failed.
    const successorArn = `${executionArn}-g2`;
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
    const descriptions: Record<string, object> = {
      [executionArn]: { name: 'train-1', status: 'SUCCEEDED', startDate: at(0), input: '{}', redriveCount: 1, output: JSON.stringify({ continuedAs: successorArn }) },
      [successorArn]: { name: 'train-1-g2', status: 'FAILED', startDate: at(30), input: '{}', error: 'PipelineFailed', cause: 'P2 failed' },
    };
    const histories: Record<string, object[]> = {
      [executionArn]: [
        { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
        { id: 2, type: 'ExecutionFailed', timestamp: at(10) },
        { id: 3, type: 'ExecutionRedriven', timestamp: at(20), executionRedrivenEventDetails: { redriveCount: 1 } },
        { id: 4, type: 'ExecutionSucceeded', timestamp: at(30) },
      ],
      [successorArn]: [
        { id: 1, type: 'ExecutionStarted', timestamp: at(30) },
        { id: 2, type: 'ExecutionFailed', timestamp: at(40), executionFailedEventDetails: { error: 'PipelineFailed', cause: 'P2 failed' } },
      ],
    };
    stepFunctions.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => descriptions[input.executionArn]);
    stepFunctions.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
      const events = histories[input.executionArn!]!;
      return { events: input.reverseOrder ? [...events].reverse() : events };
    });

    // Act: as redrive --wait follows it, waiting for redrive 1 of train-1.
    const outcome = { settled: false, status: undefined as string | undefined };
    const watching = followTrain(client, executionArn, { stateMachineArn, retriers: {}, intervalSeconds: 1, signal: new AbortController().signal, onEvent: () => undefined, redriveCount: 1 }).then(
      (report) => Object.assign(outcome, { settled: true, status: report?.status }),
    );
    await jest.advanceTimersByTimeAsync(60_000);

    // Assess: it ended, with the train's end, rather than waiting for a redrive count train-1-g2 will never show.
    expect(outcome).toEqual({ settled: true, status: 'FAILED' });
    await watching;
  });
});
