import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
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

describe('regions, as AWS keeps them apart', () => {
  let emulator: Emulator;
  const clientIn = (region: string) => new SFNClient({ endpoint: emulator.endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });

  beforeEach(async () => {
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [] }, 'regions test world');
    emulator = await startEmulator({ world, clock: new SimulatedClock(startMs) });
    emulator.stepFunctions.serveStateMachine(stateMachineArn, () => undefined);
    emulator.stepFunctions.controlExecutions({ stop: () => true, redrive: () => true });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('a call signed for another region than the state machine’s sees neither it nor its executions', async () => {
    // Prepare: one execution in us-east-1, where the state machine was deployed.
    const home = clientIn('us-east-1');
    const away = clientIn('eu-west-1');
    const { executionArn } = await home.send(new StartExecutionCommand({ stateMachineArn, name: 'home', input: '{}' }));
    try {
      // Act
      const listed = await away.send(new ListStateMachinesCommand({}));
      const started = await rejectionOf(away.send(new StartExecutionCommand({ stateMachineArn, name: 'away', input: '{}' })));
      const executions = await rejectionOf(away.send(new ListExecutionsCommand({ stateMachineArn })));
      const refusals = await Promise.all([
        rejectionOf(away.send(new DescribeExecutionCommand({ executionArn }))),
        rejectionOf(away.send(new GetExecutionHistoryCommand({ executionArn }))),
        rejectionOf(away.send(new StopExecutionCommand({ executionArn }))),
        rejectionOf(away.send(new RedriveExecutionCommand({ executionArn }))),
      ]);

      // Assess: nothing there, nothing started or stopped; at home all is as it was.
      expect(listed.stateMachines).toEqual([]);
      expect(started).toBeInstanceOf(StateMachineDoesNotExist);
      expect(executions).toBeInstanceOf(StateMachineDoesNotExist);
      for (const refused of refusals) expect(refused).toBeInstanceOf(ExecutionDoesNotExist);
      expect((await home.send(new ListStateMachinesCommand({}))).stateMachines?.map((stateMachine) => stateMachine.stateMachineArn)).toEqual([stateMachineArn]);
      expect((await home.send(new ListExecutionsCommand({ stateMachineArn }))).executions?.map((execution) => [execution.name, execution.status])).toEqual([['home', 'RUNNING']]);
    } finally {
      home.destroy();
      away.destroy();
    }
  });

  it('an unsigned call (the AWS CLI’s --no-sign-request) names no region, and is taken as the state machine’s, us-east-1', async () => {
    // Act: the wire request the AWS CLI sends unsigned, without an Authorization header.
    const response = await fetch(emulator.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
      body: '{}',
    });

    // Assess
    expect(((await response.json()) as { stateMachines: { stateMachineArn: string }[] }).stateMachines.map((stateMachine) => stateMachine.stateMachineArn)).toEqual([stateMachineArn]);
  });
});
