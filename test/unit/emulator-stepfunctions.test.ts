import { InvalidArn, ListExecutionsCommand, SFNClient, StateMachineDoesNotExist } from '@aws-sdk/client-sfn';
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

describe('Step Functions ListExecutions, through the real SDK client', () => {
  let emulator: Emulator;
  let stepFunctions: SFNClient;

  beforeEach(async () => {
    const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [] }, 'sfn test world');
    emulator = await startEmulator({ world, clock: new SimulatedClock(startMs) });
    stepFunctions = new SFNClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    stepFunctions.destroy();
    await emulator.close();
  });

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
});
