import {
  DescribeExecutionCommand,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { SimulatedClock } from '../../local/clock.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { parseWorld } from '../../local/world.js';
import { newEvents } from '../../bin/watch.js';
import { rejectionOf } from '../support/rejection.js';

const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const startMs = Date.parse('2026-01-01T00:00:00Z');

/**
 * StopExecution, RedriveExecution and GetExecutionHistory's newest-first pages, as the emulator
 * answers them through the real SDK, with a stand-in for the engine behind StartExecution.
 */
describe('the emulator’s StopExecution and RedriveExecution', () => {
  let emulator: Emulator;
  let client: SFNClient;
  let clock: SimulatedClock;
  let stopped: string[];
  let redriven: string[];

  beforeEach(async () => {
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [] }, 'control test world');
    clock = new SimulatedClock(startMs);
    emulator = await startEmulator({ world, clock });
    client = new SFNClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    stopped = [];
    redriven = [];
    emulator.stepFunctions.serveStateMachine(stateMachineArn, (execution) => emulator.stepFunctions.appendHistory(execution.executionArn, { timestamp: execution.startDate / 1000, type: 'ExecutionStarted' }));
    emulator.stepFunctions.controlExecutions({
      stop: (executionArn) => (stopped.push(executionArn), true),
      redrive: (executionArn) => (redriven.push(executionArn), true),
    });
  });

  afterEach(async () => {
    client.destroy();
    await emulator.close();
  });

  const fail = (executionArn: string, atMs: number) => {
    const execution = emulator.stepFunctions.execution(executionArn)!;
    emulator.stepFunctions.putExecution({ ...execution, status: 'FAILED', stopDate: atMs, error: 'PipelineFailed', cause: 'P1 failed' });
    emulator.stepFunctions.appendHistory(executionArn, { timestamp: atMs / 1000, type: 'ExecutionFailed' });
  };

  it('stops a running execution: ABORTED at once with the cause, its history closed by ExecutionAborted; later reports are not history', async () => {
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: '{}' }));

    await client.send(new StopExecutionCommand({ executionArn, cause: 'called off' }));
    emulator.stepFunctions.appendHistory(executionArn!, { timestamp: startMs / 1000, type: 'TaskStateEntered' });

    expect(stopped).toEqual([executionArn]);
    expect(await client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', cause: 'called off', redriveStatus: 'REDRIVABLE' });
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events!.map((event) => event.type)).toEqual(['ExecutionStarted', 'ExecutionAborted']);
    expect(events![1]!.executionAbortedEventDetails).toEqual({ cause: 'called off' });
  });

  it('redrives a failed execution within 14 days: RUNNING again, one redrive more, no end or error; its history reopened', async () => {
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-2', input: '{}' }));
    fail(executionArn!, startMs + 60_000);

    await client.send(new RedriveExecutionCommand({ executionArn }));
    emulator.stepFunctions.appendHistory(executionArn!, { timestamp: startMs / 1000 + 61, type: 'ExecutionRedriven' });

    expect(redriven).toEqual([executionArn]);
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'RUNNING', redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution is RUNNING and cannot be redriven.' });
    expect(described).not.toHaveProperty('stopDate');
    expect(described).not.toHaveProperty('error');
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events!.map((event) => event.type)).toEqual(['ExecutionStarted', 'ExecutionFailed', 'ExecutionRedriven']);
  });

  it('refuses to redrive a running or a succeeded execution, as ExecutionNotRedrivable with DescribeExecution\'s reason', async () => {
    const { executionArn: live } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'live', input: '{}' }));
    const { executionArn: done } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'done', input: '{}' }));
    emulator.stepFunctions.putExecution({ ...emulator.stepFunctions.execution(done!)!, status: 'SUCCEEDED', stopDate: startMs });

    const running = await rejectionOf(client.send(new RedriveExecutionCommand({ executionArn: live })));
    const succeeded = await rejectionOf(client.send(new RedriveExecutionCommand({ executionArn: done })));

    expect(running).toBeInstanceOf(ExecutionNotRedrivable);
    expect((running as Error).message).toBe('Execution is RUNNING and cannot be redriven.');
    expect((succeeded as Error).message).toBe('Execution is SUCCEEDED and cannot be redriven.');
    expect(redriven).toEqual([]);
  });
});

describe('the 14 days', () => {
  it('DescribeExecution says NOT_REDRIVABLE with the period exceeded, and RedriveExecution refuses, once 14 days have passed', async () => {
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [] }, 'control test world');
    const clock = new SimulatedClock(startMs);
    const emulator = await startEmulator({ world, clock });
    const client = new SFNClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    emulator.stepFunctions.serveStateMachine(stateMachineArn, () => undefined);
    emulator.stepFunctions.controlExecutions({ stop: () => true, redrive: () => true });
    try {
      const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'old', input: '{}' }));
      emulator.stepFunctions.putExecution({ ...emulator.stepFunctions.execution(executionArn!)!, status: 'FAILED', stopDate: startMs });
      // Nobody else holds the clock: it jumps the 14 days and a second at once.
      await clock.sleep(14 * 86_400 + 1);

      expect(await client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution redrivable period exceeded.' });
      const refused = await rejectionOf(client.send(new RedriveExecutionCommand({ executionArn })));
      expect(refused).toBeInstanceOf(ExecutionNotRedrivable);
      expect((refused as Error).message).toBe('Execution redrivable period exceeded.');
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});

describe('reading a history incrementally (status --watch)', () => {
  it('asks for the newest page only, down to the last event already read; the whole history only the first time', async () => {
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [] }, 'history test world');
    const emulator = await startEmulator({ world, clock: new SimulatedClock(startMs) });
    const client = new SFNClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:long`;
    emulator.stepFunctions.putExecution({ executionArn, stateMachineArn, name: 'long', status: 'RUNNING', startDate: startMs });
    for (let index = 0; index < 250; index += 1) emulator.stepFunctions.appendHistory(executionArn, { timestamp: startMs / 1000 + index, type: `Event${index + 1}` });
    const calls = () => emulator.callCounts().GetExecutionHistory ?? 0;
    try {
      const all = await newEvents(client, executionArn, 0);
      const afterAll = calls();
      for (let index = 250; index < 255; index += 1) emulator.stepFunctions.appendHistory(executionArn, { timestamp: startMs / 1000 + index, type: `Event${index + 1}` });
      const fresh = await newEvents(client, executionArn, 250);
      const none = await newEvents(client, executionArn, 255);

      expect(all.map((event) => event.id)).toEqual(Array.from({ length: 250 }, (_, index) => index + 1));
      expect(afterAll).toBe(3);
      expect(fresh.map((event) => event.type)).toEqual(['Event251', 'Event252', 'Event253', 'Event254', 'Event255']);
      expect(none).toEqual([]);
      expect(calls()).toBe(afterAll + 2);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});
