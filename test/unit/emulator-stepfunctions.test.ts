import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidArn,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { SimulatedClock } from '../../local/clock.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { parseWorld } from '../../local/world.js';
import { rejectionOf } from '../support/rejection.js';

const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const otherStateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:something-else';
const startMs = Date.parse('2026-01-01T00:00:00Z');

function execution(name: string, startOffsetSeconds: number, stateMachine = stateMachineArn) {
  return {
    executionArn: `${stateMachine.replace(':stateMachine:', ':execution:')}:${name}`,
    stateMachineArn: stateMachine,
    name,
    status: 'RUNNING' as const,
    startDate: startMs + startOffsetSeconds * 1000,
  };
}

/** An emulator with no pipelines, and the real SDK client pointed at it. */
async function emulatorWithClient(): Promise<{ emulator: Emulator; stepFunctions: SFNClient }> {
  const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [] }, 'sfn test world');
  const emulator = await startEmulator({ world, clock: new SimulatedClock(startMs) });
  const stepFunctions = new SFNClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return { emulator, stepFunctions };
}

async function closeBoth(emulator: Emulator, stepFunctions: SFNClient): Promise<void> {
  stepFunctions.destroy();
  await emulator.close();
}

describe('Step Functions ListExecutions, through the real SDK client', () => {
  let emulator: Emulator;
  let stepFunctions: SFNClient;

  beforeEach(async () => {
    ({ emulator, stepFunctions } = await emulatorWithClient());
  });

  afterEach(() => closeBoth(emulator, stepFunctions));

  it('lists the state machine’s executions newest first, with dates, after the runner reports them', async () => {
    // Prepare
    emulator.stepFunctions.putExecution(execution('first', 0));
    emulator.stepFunctions.putExecution(execution('elsewhere', 30, otherStateMachineArn));
    emulator.stepFunctions.putExecution(execution('second', 60));
    emulator.stepFunctions.putExecution({ ...execution('first', 0), status: 'SUCCEEDED', stopDate: startMs + 50_000 });

    // Act
    const { executions } = await stepFunctions.send(new ListExecutionsCommand({ stateMachineArn }));

    // Assess
    expect(executions).toEqual([
      {
        executionArn: execution('second', 60).executionArn,
        stateMachineArn,
        name: 'second',
        status: 'RUNNING',
        startDate: new Date(startMs + 60_000),
      },
      {
        executionArn: execution('first', 0).executionArn,
        stateMachineArn,
        name: 'first',
        status: 'SUCCEEDED',
        startDate: new Date(startMs),
        stopDate: new Date(startMs + 50_000),
      },
    ]);
  });

  it('filters on status and pages with nextToken', async () => {
    // Prepare
    for (let index = 0; index < 3; index += 1) emulator.stepFunctions.putExecution(execution(`run-${index}`, index));
    emulator.stepFunctions.putExecution({ ...execution('done', 10), status: 'SUCCEEDED' });

    // Act
    const firstPage = await stepFunctions.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 2 }),
    );
    const secondPage = await stepFunctions.send(
      new ListExecutionsCommand({
        stateMachineArn,
        statusFilter: 'RUNNING',
        maxResults: 2,
        nextToken: firstPage.nextToken,
      }),
    );

    // Assess
    expect(firstPage.executions?.map((listed) => listed.name)).toEqual(['run-2', 'run-1']);
    expect(secondPage.executions?.map((listed) => listed.name)).toEqual(['run-0']);
    expect(secondPage.nextToken).toBeUndefined();
  });

  it('answers a state machine it has never heard of with StateMachineDoesNotExist', async () => {
    // Prepare
    emulator.stepFunctions.putExecution(execution('first', 0));

    // Act
    const error = await rejectionOf(
      stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: otherStateMachineArn })),
    );

    // Assess
    expect(error).toBeInstanceOf(StateMachineDoesNotExist);
  });

  it('answers something that is not a state machine ARN with InvalidArn', async () => {
    // Act
    const error = await rejectionOf(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: 'sequencer' })));

    // Assess
    expect(error).toBeInstanceOf(InvalidArn);
    expect(emulator.callCounts()).toEqual({ ListExecutions: 1 });
  });

  it('refuses the PENDING_REDRIVE status filter beside a stateMachineArn, as AWS does, and filters on whether executions were redriven', async () => {
    // Prepare
    emulator.stepFunctions.putExecution({ ...execution('failed', 0), status: 'FAILED', stopDate: startMs + 5000 });
    emulator.stepFunctions.putExecution({ ...execution('redriving', 10), status: 'PENDING_REDRIVE', redriveCount: 1, redriveDate: startMs + 60_000 });
    emulator.stepFunctions.putExecution({ ...execution('redriven', 20), redriveCount: 2, redriveDate: startMs + 90_000 });

    // Act
    // ListExecutions reference: "If you provide a stateMachineArn and a PENDING_REDRIVE statusFilter, the API returns a validation exception."
    const pending = await rejectionOf(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'PENDING_REDRIVE' })));
    const redriven = await stepFunctions.send(new ListExecutionsCommand({ stateMachineArn, redriveFilter: 'REDRIVEN' }));
    const notRedriven = await stepFunctions.send(new ListExecutionsCommand({ stateMachineArn, redriveFilter: 'NOT_REDRIVEN' }));

    // Assess
    expect(pending).toBeInstanceOf(ValidationException);
    expect(pending.message).toContain('PENDING_REDRIVE');
    expect(redriven.executions).toEqual([
      expect.objectContaining({ name: 'redriven', redriveCount: 2 }),
      expect.objectContaining({ name: 'redriving', status: 'PENDING_REDRIVE', redriveCount: 1, redriveDate: new Date(startMs + 60_000) }),
    ]);
    expect(notRedriven.executions?.map((listed) => listed.name)).toEqual(['failed']);
  });

  it('lists by version or alias ARN the executions started through it, and by the plain ARN all of them', async () => {
    // Prepare
    const version = `${stateMachineArn}:3`;
    const alias = `${stateMachineArn}:live`;
    emulator.stepFunctions.putExecution(execution('plain', 0));
    emulator.stepFunctions.putExecution({ ...execution('through-version', 10), stateMachineVersionArn: version });
    emulator.stepFunctions.putExecution({ ...execution('through-alias', 20), stateMachineVersionArn: version, stateMachineAliasArn: alias });

    // Act
    const names = async (arn: string) =>
      ((await stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: arn }))).executions ?? []).map((listed) => listed.name);

    // Assess
    expect(await names(stateMachineArn)).toEqual(['through-alias', 'through-version', 'plain']);
    expect(await names(version)).toEqual(['through-alias', 'through-version']);
    expect(await names(alias)).toEqual(['through-alias']);
    expect(await names(`${stateMachineArn}:other`)).toEqual([]);
  });

  it('accepts the legal names Step Functions allows, + and ! included, and refuses the illegal ones', async () => {
    // Prepare
    const legal = 'arn:aws:states:us-east-1:123456789012:stateMachine:release+hotfix!';
    emulator.stepFunctions.putExecution(execution('run+1!', 0, legal));

    // Act
    const { executions } = await stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: legal }));
    const illegal = await Promise.all(
      ['release hotfix', 'release#1', 'release:0', 'release:a:b'].map((name) =>
        rejectionOf(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: `arn:aws:states:us-east-1:123456789012:stateMachine:${name}` }))),
      ),
    );

    // Assess
    expect(executions?.map((listed) => listed.name)).toEqual(['run+1!']);
    for (const error of illegal) expect(error).toBeInstanceOf(InvalidArn);
  });

  it('refuses both a stateMachineArn and a mapRunArn, or neither, with a ValidationException', async () => {
    // Act
    const neither = await rejectionOf(stepFunctions.send(new ListExecutionsCommand({})));
    const both = await rejectionOf(
      stepFunctions.send(new ListExecutionsCommand({ stateMachineArn, mapRunArn: `${stateMachineArn.replace(':stateMachine:', ':mapRun:')}/m:1` })),
    );

    // Assess
    expect(neither).toBeInstanceOf(ValidationException);
    expect(both).toBeInstanceOf(ValidationException);
  });
});

describe('Step Functions StartExecution and DescribeExecution, through the real SDK client', () => {
  let emulator: Emulator;
  let stepFunctions: SFNClient;
  const started: string[] = [];

  beforeEach(async () => {
    started.length = 0;
    ({ emulator, stepFunctions } = await emulatorWithClient());
    emulator.stepFunctions.serveStateMachine(stateMachineArn, (execution) => started.push(execution.name));
  });

  afterEach(() => closeBoth(emulator, stepFunctions));

  it('starts an execution once: the same name and input while it runs returns the same execution', async () => {
    // Act
    const first = await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: 'train-g2', input: '{"a":1}' }));
    const again = await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: 'train-g2', input: '{"a":1}' }));

    // Assess
    expect(again.executionArn).toBe(first.executionArn);
    expect(first.executionArn).toBe(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:train-g2`);
    expect(started).toEqual(['train-g2']);
    const described = await stepFunctions.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    expect(described).toMatchObject({ name: 'train-g2', status: 'RUNNING', input: '{"a":1}', redriveCount: 0 });
  });

  it('refuses an input over 256 KiB as AWS does, without echoing it: the input is sensitive', async () => {
    // Prepare: 90,000 characters under the limit, 270,000 bytes over it: the limit counts UTF-8 bytes.
    const input = JSON.stringify({ order: ['P1'], padding: '€'.repeat(90_000) });

    // Act
    const refused = await rejectionOf(stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: 'too-big', input })));

    // Assess
    expect(refused).toBeInstanceOf(ValidationException);
    expect(refused.message).toBe("1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144");
    expect(started).toEqual([]);
  });

  it('refuses a used name with other input, or once the execution has closed, as ExecutionAlreadyExists', async () => {
    // Prepare
    const { executionArn } = await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: 'train-g2', input: '{"a":1}' }));

    // Act
    const otherInput = await rejectionOf(stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: 'train-g2', input: '{"a":2}' })));
    emulator.stepFunctions.putExecution({ ...execution('train-g2', 0), executionArn: executionArn!, status: 'SUCCEEDED', stopDate: startMs });
    const closed = await rejectionOf(stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: 'train-g2', input: '{"a":1}' })));

    // Assess
    expect(otherInput).toBeInstanceOf(ExecutionAlreadyExists);
    expect(closed).toBeInstanceOf(ExecutionAlreadyExists);
    expect(started).toEqual(['train-g2']);
  });

  it('names an execution started without a name by a UUID, as AWS does', async () => {
    // Act
    const first = await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    const second = await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));

    // Assess
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(started).toHaveLength(2);
    expect(started[0]).toMatch(uuid);
    expect(started[1]).toMatch(uuid);
    expect(started[0]).not.toBe(started[1]);
    expect(first.executionArn).toBe(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:${started[0]}`);
    expect(second.executionArn).toBe(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:${started[1]}`);
  });

  it.each([
    ['RUNNING', 0, { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution is RUNNING and cannot be redriven.' }],
    ['SUCCEEDED', 1, { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven.' }],
    ['FAILED', 1, { redriveStatus: 'REDRIVABLE' }],
    ['ABORTED', 1, { redriveStatus: 'REDRIVABLE' }],
    ['TIMED_OUT', 1, { redriveStatus: 'REDRIVABLE' }],
    ['FAILED', 15, { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution redrivable period exceeded.' }],
  ] as const)('describes a %s execution that ended %i days ago as %j', async (status, daysAgo, expected) => {
    // Prepare: the emulator's clock stands at startMs; the execution ended daysAgo before it.
    const stopDate = startMs - daysAgo * 86_400_000;
    emulator.stepFunctions.putExecution({
      ...execution('ended', 0),
      startDate: stopDate - 60_000,
      status,
      ...(status === 'RUNNING' ? {} : { stopDate }),
    });

    // Act
    const described = await stepFunctions.send(new DescribeExecutionCommand({ executionArn: execution('ended', 0).executionArn }));

    // Assess
    expect({ redriveStatus: described.redriveStatus, redriveStatusReason: described.redriveStatusReason }).toEqual({
      redriveStatusReason: undefined,
      ...expected,
    });
  });

  it('refuses an illegal name, an unknown state machine and an unknown execution by AWS’s names', async () => {
    // Act
    const badName = await rejectionOf(stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: 'has space' })));
    const noMachine = await rejectionOf(stepFunctions.send(new StartExecutionCommand({ stateMachineArn: otherStateMachineArn, name: 'x' })));
    const noExecution = await rejectionOf(
      stepFunctions.send(new DescribeExecutionCommand({ executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:nobody` })),
    );

    // Assess
    expect(badName).toBeInstanceOf(InvalidName);
    expect(noMachine).toBeInstanceOf(StateMachineDoesNotExist);
    expect(noExecution).toBeInstanceOf(ExecutionDoesNotExist);
  });
});

describe('Step Functions DescribeExecution, lagging as the world says (stepFunctionsReadLagSeconds)', () => {
  it('does not find an execution started less than the lag ago, and answers a redrive less than the lag old as the execution was before it', async () => {
    // Prepare: a 10 s lag; an execution started at 0 that failed at 20 s.
    let nowMs = startMs;
    const clock = { now: () => nowMs };
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [], stepFunctionsReadLagSeconds: 10 }, 'lagging world');
    const emulator = await startEmulator({ world, clock });
    const stepFunctions = new SFNClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const { executionArn } = execution('lagged', 0);
    emulator.stepFunctions.putExecution(execution('lagged', 0));
    const describe = () => stepFunctions.send(new DescribeExecutionCommand({ executionArn }));
    try {
      // Act, Assess: at 5 s, not found yet; at 11 s, running.
      nowMs = startMs + 5_000;
      expect(await rejectionOf(describe())).toBeInstanceOf(ExecutionDoesNotExist);
      nowMs = startMs + 11_000;
      expect(await describe()).toMatchObject({ status: 'RUNNING', redriveCount: 0 });

      // Act, Assess: failed at 20 s, redriven at 30 s: until 40 s it still reads FAILED, without the redrive.
      emulator.stepFunctions.putExecution({ ...execution('lagged', 0), status: 'FAILED', stopDate: startMs + 20_000 });
      emulator.stepFunctions.redriven(executionArn, 1, startMs + 30_000);
      nowMs = startMs + 35_000;
      expect(await describe()).toMatchObject({ status: 'FAILED', redriveCount: 0 });
      nowMs = startMs + 41_000;
      expect(await describe()).toMatchObject({ status: 'RUNNING', redriveCount: 1 });
    } finally {
      await closeBoth(emulator, stepFunctions);
    }
  });
});
