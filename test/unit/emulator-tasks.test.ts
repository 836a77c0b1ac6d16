import {
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { SimulatedClock } from '../../local/clock.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import type { TaskEnd } from '../../local/emulator/tasks.js';
import { parseWorld } from '../../local/world.js';
import { rejectionOf } from '../support/rejection.js';

/*
 * Step Functions' callback API as the emulator serves it, through the real SDK client. A token is
 * opened the way the local engine opens one for a `.waitForTaskToken` Task (`tasks().issue`) and
 * closed the way its timeout closes it (`tasks().close`); each answer is the one the Step
 * Functions API reference gives for SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
 */

const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:run-1';
const startMs = Date.parse('2026-01-01T00:00:00Z');
/** Shaped like the tokens the emulator issues, but never issued. */
const unknownToken = `AQ${'A'.repeat(64)}`;

describe('Step Functions task tokens, through the real SDK client', () => {
  let emulator: Emulator;
  let stepFunctions: SFNClient;
  let ends: TaskEnd[];

  /** A callback Task waiting on a fresh token, as the engine opens one; `ends` hears how it ended. */
  const waitingTask = () => emulator.tasks().issue(executionArn, (end) => ends.push(end));

  const success = (taskToken: string, output = '{}') => stepFunctions.send(new SendTaskSuccessCommand({ taskToken, output }));
  const failure = (taskToken: string, error?: string, cause?: string) => stepFunctions.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  const heartbeat = (taskToken: string) => stepFunctions.send(new SendTaskHeartbeatCommand({ taskToken }));
  /** The three calls a token answers, each as a worker would make it. */
  const everyCall = [
    ['SendTaskSuccess', (token: string) => success(token)],
    ['SendTaskFailure', (token: string) => failure(token, 'Late', 'too late')],
    ['SendTaskHeartbeat', (token: string) => heartbeat(token)],
  ] as const;

  beforeEach(async () => {
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [] }, 'tasks test world');
    emulator = await startEmulator({ world, clock: new SimulatedClock(startMs) });
    stepFunctions = new SFNClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    ends = [];
  });

  afterEach(async () => {
    stepFunctions.destroy();
    await emulator.close();
  });

  it('SendTaskSuccess wakes the waiting Task with the parsed output, once', async () => {
    // Prepare
    const token = waitingTask();

    // Act
    const answer = await success(token, '{"by":"event","pipelineName":"P1","state":"SUCCEEDED"}');

    // Assess
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(ends).toEqual([{ kind: 'succeeded', output: { by: 'event', pipelineName: 'P1', state: 'SUCCEEDED' } }]);
  });

  it('SendTaskFailure fails the waiting Task with the given error and cause', async () => {
    // Prepare
    const token = waitingTask();

    // Act
    const answer = await failure(token, 'PipelineFailed', 'P2 failed: unit tests failed');

    // Assess
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(ends).toEqual([{ kind: 'failed', error: 'PipelineFailed', cause: 'P2 failed: unit tests failed' }]);
  });

  it('SendTaskHeartbeat on an open token answers OK and leaves the Task waiting for its end', async () => {
    // Prepare
    const token = waitingTask();

    // Act
    const beat = await heartbeat(token);
    const secondBeat = await heartbeat(token);
    const afterBeats = [...ends];
    await success(token, '{"done":true}');

    // Assess
    expect(beat.$metadata.httpStatusCode).toBe(200);
    expect(secondBeat.$metadata.httpStatusCode).toBe(200);
    expect(afterBeats).toEqual([]);
    expect(ends).toEqual([{ kind: 'succeeded', output: { done: true } }]);
  });

  it.each(everyCall)('%s on a token whose Task already completed is TaskTimedOut, and changes nothing', async (_operation, call) => {
    // Prepare
    const token = waitingTask();
    await success(token, '{"first":true}');

    // Act
    const error = await rejectionOf(call(token));

    // Assess
    expect(error).toBeInstanceOf(TaskTimedOut);
    expect(ends).toEqual([{ kind: 'succeeded', output: { first: true } }]);
  });

  it.each(everyCall)('%s on a token whose Task timed out is TaskTimedOut, and wakes nothing', async (_operation, call) => {
    // Prepare
    const token = waitingTask();
    emulator.tasks().close(token);

    // Act
    const error = await rejectionOf(call(token));

    // Assess
    expect(error).toBeInstanceOf(TaskTimedOut);
    expect(ends).toEqual([]);
  });

  it('a failed Task’s token is closed too: a late success is TaskTimedOut', async () => {
    // Prepare
    const token = waitingTask();
    await failure(token, 'PipelineFailed', 'first');

    // Act
    const error = await rejectionOf(success(token));

    // Assess
    expect(error).toBeInstanceOf(TaskTimedOut);
    expect(ends).toEqual([{ kind: 'failed', error: 'PipelineFailed', cause: 'first' }]);
  });

  it.each(everyCall)('%s with a malformed token is InvalidToken', async (_operation, call) => {
    // Prepare
    waitingTask();

    // Act
    const error = await rejectionOf(call('not-a-task-token'));

    // Assess
    expect(error).toBeInstanceOf(InvalidToken);
    expect(ends).toEqual([]);
  });

  it.each(everyCall)('%s with a well-formed token that was never issued is TaskDoesNotExist', async (_operation, call) => {
    // Prepare
    waitingTask();

    // Act
    const error = await rejectionOf(call(unknownToken));

    // Assess
    expect(error).toBeInstanceOf(TaskDoesNotExist);
    expect(ends).toEqual([]);
  });

  it('SendTaskSuccess with output that is not JSON is InvalidOutput, and the Task keeps waiting for a valid one', async () => {
    // Prepare
    const token = waitingTask();

    // Act
    const error = await rejectionOf(success(token, '{"by":"event"'));
    const afterRefusal = [...ends];
    await success(token, '"ok"');

    // Assess
    expect(error).toBeInstanceOf(InvalidOutput);
    expect(afterRefusal).toEqual([]);
    expect(ends).toEqual([{ kind: 'succeeded', output: 'ok' }]);
  });

  it('holds each member to its documented length with a ValidationException, and accepts each at its limit', async () => {
    // Prepare
    const token = waitingTask();
    const otherToken = waitingTask();
    const outputAtLimit = JSON.stringify('x'.repeat(262_142));

    // Act
    const refusals = await Promise.all([
      rejectionOf(success('')),
      rejectionOf(success(`AQ${'A'.repeat(2047)}`)),
      rejectionOf(success(token, JSON.stringify('x'.repeat(262_143)))),
      // 131,074 characters, 262,146 bytes: the limit counts bytes.
      rejectionOf(success(token, JSON.stringify('é'.repeat(131_072)))),
      rejectionOf(failure(token, 'E'.repeat(257))),
      rejectionOf(failure(token, 'E', 'c'.repeat(32_769))),
      rejectionOf(heartbeat(`AQ${'A'.repeat(2047)}`)),
    ]);
    const atLimits = await Promise.all([
      rejectionOf(success(`AQ${'A'.repeat(2046)}`)),
      rejectionOf(heartbeat(`AQ${'A'.repeat(2046)}`)),
    ]);
    const afterRefusals = [...ends];
    await success(otherToken, outputAtLimit);
    await failure(token, 'E'.repeat(256), 'c'.repeat(32_768));

    // Assess
    expect(refusals.map((error) => error.name)).toEqual(Array(refusals.length).fill('ValidationException'));
    expect(refusals[2]!.message).toContain("at 'output' failed to satisfy constraint: Member must have length less than or equal to 262144");
    // Sensitive members (the token, the output, the error and cause) are told without their value, as AWS tells them.
    expect(refusals[6]!.message).toBe("1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length less than or equal to 2048");
    expect(refusals.map((error) => error.message).filter((message) => /Value '/.test(message))).toEqual([]);
    expect(atLimits.map((error) => error.name)).toEqual(['TaskDoesNotExist', 'TaskDoesNotExist']);
    expect(afterRefusals).toEqual([]);
    expect(outputAtLimit).toHaveLength(262_144);
    expect(ends).toEqual([
      { kind: 'succeeded', output: 'x'.repeat(262_142) },
      { kind: 'failed', error: 'E'.repeat(256), cause: 'c'.repeat(32_768) },
    ]);
  });
});
