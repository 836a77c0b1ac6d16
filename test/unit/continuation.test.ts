import 'aws-sdk-client-mock-jest';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/decide-order.js';
import { useClock } from '../../src/clock.js';
import { looksLikeSuccessor, successorName } from '../../src/continuation.js';
import { callbackWaitExtraEvents, eventsOnTheWay, openingEvents, taskEvents } from '../../src/history-budget.js';
import { plan, run, tracked, useStageConfig } from '../support/fixtures.js';

const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const executions = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:';
const origin = { executionArn: `${executions}nightly`, executionName: 'nightly' };
const startTime = '2026-01-05T06:00:00.000Z';

/** The run `nightly` (generation 1) hands to `nightly-g2`, watching P2. */
const handedOver = (overrides = {}) =>
  run({
    phase: 'continue',
    origin,
    history: { events: 23_990, pending: 2 },
    successor: { executionName: 'nightly-g2', resume: 'watch' },
    ...overrides,
  });

const continueAs = (name: string, input: unknown) =>
  core({ input, execution: { id: `${executions}${name}`, name, stateMachineArn, startTime }, retryCount: 0, redriveCount: 0 });

const handover = (overrides: { plan?: object; run?: object; startedBy?: string } = {}) => ({
  continuation: { plan: overrides.plan ?? plan(), run: overrides.run ?? handedOver() },
  AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: overrides.startedBy ?? origin.executionArn,
});

const predecessorIs = (status: 'RUNNING' | 'SUCCEEDED' | 'ABORTED' | 'FAILED', output?: unknown) =>
  stepFunctions.on(DescribeExecutionCommand).resolves({
    executionArn: origin.executionArn,
    stateMachineArn,
    status,
    startDate: new Date(startTime),
    ...(output !== undefined ? { output: JSON.stringify(output) } : {}),
  });

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  useStageConfig();
  useClock({ now: () => Date.parse(startTime) });
});

describe('successor names', () => {
  it('derive from the first execution and the generation', () => {
    expect(successorName('nightly', 2)).toBe('nightly-g2');
    expect(successorName('nightly', 12)).toBe('nightly-g12');
    expect(looksLikeSuccessor('nightly-g12')).toBe(true);
    expect(looksLikeSuccessor('nightly')).toBe(false);
  });

  it('fit Step Functions’ 80 characters for the longest first name, and stay distinct', () => {
    const long = 'x'.repeat(80);
    const other = `${'x'.repeat(79)}y`;

    expect(successorName(long, 250)).toHaveLength(80);
    expect(successorName(long, 250)).toMatch(/-g250$/);
    expect(successorName(long, 2)).not.toBe(successorName(other, 2));
  });
});

describe('decide-order: a continued run', () => {
  it('takes over from a predecessor that handed over to it: same plan and members, a fresh history count', async () => {
    predecessorIs('SUCCEEDED', { continuedAs: `${executions}nightly-g2`, startDate: startTime });

    const decided = await continueAs('nightly-g2', handover());

    expect(decided.plan).toEqual(plan());
    expect(decided.run).toMatchObject({
      phase: 'watch',
      generation: 2,
      origin,
      members: [tracked()],
      history: { events: openingEvents + taskEvents(0), pending: eventsOnTheWay.decidedToWatch },
    });
    expect(decided.run).not.toHaveProperty('successor');
    expect(stepFunctions).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: origin.executionArn });
  });

  it('with completion: events, counts the callback wait it resumes on, keeps the train’s wait item and numbering, and inherits the run lock', async () => {
    predecessorIs('SUCCEEDED', { continuedAs: `${executions}nightly-g2`, startDate: startTime });
    const table = mockClient(DynamoDBClient);
    table.on(PutItemCommand).resolves({});
    process.env.COMPLETION_TABLE_NAME = 'completion';
    const wait = { key: `wait#${origin.executionArn}`, seq: 7, expiresAt: 1_800_000_000 };

    const decided = await continueAs('nightly-g2', handover({ plan: plan({ completion: 'events' }), run: { ...handedOver(), wait } }));

    expect(decided.run.history.pending).toBe(eventsOnTheWay.decidedToWatch + callbackWaitExtraEvents);
    // The successor parks on the same item with the next number: ends recorded for the predecessor's waits still count.
    expect(decided.run.wait).toEqual(wait);
    expect(table).toHaveReceivedCommandWith(PutItemCommand, {
      ConditionExpression: 'attribute_not_exists(pk) OR (holder = :origin AND NOT (holderExecution = :execution AND holderRedriveCount > :redriveCount))',
      Item: expect.objectContaining({ holder: { S: origin.executionArn }, holderExecution: { S: `${executions}nightly-g2` } }),
    });
    table.restore();
  });

  it('keeps the next look when the predecessor planned it, however long the handover took', async () => {
    predecessorIs('SUCCEEDED', { continuedAs: `${executions}nightly-g2`, startDate: startTime });
    // The predecessor looked at 06:00:00 and planned the next look 300 s later; the handover took 20 s.
    const nextLookAt = new Date(Date.parse(startTime) + 300_000).toISOString();
    useClock({ now: () => Date.parse(startTime) + 20_000 });

    const decided = await continueAs('nightly-g2', handover({ run: handedOver({ waitSeconds: 300, members: [tracked({ nextLookAt })] }) }));

    expect(decided.run.waitSeconds).toBe(280);
  });

  it('asks to be retried while the predecessor is still handing over', async () => {
    predecessorIs('RUNNING');

    await expect(continueAs('nightly-g2', handover())).rejects.toMatchObject({ name: 'PredecessorStillRunning' });
  });

  it.each([
    ['ABORTED', undefined],
    ['FAILED', undefined],
    ['SUCCEEDED', { continuedAs: `${executions}someone-else` }],
  ] as const)('refuses a predecessor that ended %s without handing over to it', async (status, output) => {
    predecessorIs(status, output);

    await expect(continueAs('nightly-g2', handover())).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining(`ended ${status} without handing over to this execution`),
    });
  });

  it.each([
    ['an execution it was not handed to', 'mine', handover(), "handed to 'nightly-g2', not to this execution 'mine'"],
    [
      'a hand-written handover to an execution outside the train',
      'mine',
      handover({ run: handedOver({ successor: { executionName: 'mine', resume: 'watch' } }) }),
      "this execution 'mine' is not the next one of the train that began with 'nightly': its generation 2 is named 'nightly-g2'",
    ],
    [
      'a hand-written handover that claims a generation the train is not at',
      'nightly-g2',
      handover({ run: handedOver({ generation: 4 }) }),
      "this execution 'nightly-g2' is not the next one of the train that began with 'nightly': its generation 5 is named 'nightly-g5'",
    ],
    ['a run that was not handed over', 'nightly-g2', handover({ run: handedOver({ phase: 'watch' }) }), 'was not handed over'],
    ['a predecessor that is not the one before it', 'nightly-g2', handover({ startedBy: `${executions}other` }), 'is not the execution before this one'],
    [
      'a first execution of another state machine',
      'nightly-g2',
      handover({ run: handedOver({ origin: { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:other-machine:nightly', executionName: 'nightly' } }) }),
      'is not an execution of this state machine',
    ],
    ['a plan with a pipeline the stage does not allow', 'nightly-g2', handover({ plan: plan({ order: ['P3', 'Prod-DB', 'P1'] }) }), 'Prod-DB'],
    ['members that are not the entry at its index', 'nightly-g2', handover({ run: handedOver({ members: [tracked({ pipelineName: 'P1' })] }) }), 'are not the entry at position 2'],
    ['a run state that does not parse', 'nightly-g2', handover({ run: { index: 'one' } }), 'continuation.run'],
  ])('refuses %s, before asking anything', async (_, name, input, message) => {
    predecessorIs('SUCCEEDED', { continuedAs: `${executions}${name}` });

    await expect(continueAs(name, input)).rejects.toMatchObject({ message: expect.stringContaining(message) });
    expect(stepFunctions).not.toHaveReceivedCommand(DescribeExecutionCommand);
    expect(codePipeline).not.toHaveReceivedAnyCommand();
  });

  it('refuses anything else beside the continuation', async () => {
    await expect(continueAs('nightly-g2', { ...handover(), order: ['P1'] })).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining('unknown field "order"'),
    });
  });
});
