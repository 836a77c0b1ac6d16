import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  type ExecutionListItem,
  type HistoryEvent,
  type ListExecutionsCommandInput,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { statusJson, statusLines } from '../../bin/cli.js';
import { palette } from '../../bin/format.js';
import { foldTrain, refusedStart, runningTrain, stageTrain, type ExecutionRead } from '../../bin/status.js';

/**
 * Which execution `status`, `stop` and `redrive` take when not told one: the stage's train, never
 * a start that was refused while the train was in flight (a duplicate start DecideOrder failed
 * with AlreadyRunning, a scheduled start skipped), however much newer.
 */

const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const arnOf = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:${name}`;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
const stepFunctions = mockClient(SFNClient);
const client = new SFNClient({ region: 'us-east-1' });
const none = (message: string) => new Error(message);

/** ListExecutions answering `running` when asked for running executions only, and `all` otherwise. */
const listing = (running: ExecutionListItem[], all: ExecutionListItem[]) =>
  stepFunctions.on(ListExecutionsCommand).callsFake((input: ListExecutionsCommandInput) => ({ executions: input.statusFilter === 'RUNNING' ? running : all }));

const skippedOutput = JSON.stringify({
  reason: `the scheduled run for 2026-01-01T06:00:00Z was skipped (scheduleWhenBusy: skip): another run of this state machine is in progress: ${arnOf('train-1')} holds the stage's run lock; nothing was started`,
});
const refusedCause = `another run of this state machine is in progress: ${arnOf('train-1')} holds the stage's run lock; nothing was started`;

/** The newest events of a history ending in `state`, newest first, as GetExecutionHistory's reverseOrder gives them. */
const endingIn = (state: string): HistoryEvent[] => [
  { id: 5, type: 'ExecutionFailed', timestamp: at(1) },
  { id: 4, type: 'LambdaFunctionFailed', timestamp: at(1) },
  { id: 3, type: 'LambdaFunctionScheduled', timestamp: at(1) },
  { id: 2, type: 'TaskStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: state } },
];

beforeEach(() => {
  stepFunctions.reset();
});

describe('the stage’s train, when no --execution is given', () => {
  it('is the last train, past a newer start DecideOrder refused and a newer scheduled start skipped', async () => {
    // Prepare: train-1 failed; then dup-2 was refused at DecideOrder, and sched-3 skipped, while it ran.
    listing(
      [],
      [
        { executionArn: arnOf('sched-3'), name: 'sched-3', stateMachineArn, status: 'SUCCEEDED', startDate: at(3) },
        { executionArn: arnOf('dup-2'), name: 'dup-2', stateMachineArn, status: 'FAILED', startDate: at(2) },
        { executionArn: arnOf('train-1'), name: 'train-1', stateMachineArn, status: 'FAILED', startDate: at(0) },
      ],
    );
    stepFunctions.on(DescribeExecutionCommand, { executionArn: arnOf('sched-3') }).resolves({ status: 'SUCCEEDED', input: '{"scheduled":{"whenBusy":"skip"}}', output: skippedOutput });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: arnOf('dup-2') }).resolves({ status: 'FAILED', input: '{"order":["P3"]}', error: 'AlreadyRunning', cause: refusedCause });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: arnOf('train-1') }).resolves({ status: 'FAILED', input: '{}', error: 'PipelineFailed', cause: 'P2 (position 2 of 3) ...' });
    stepFunctions.on(GetExecutionHistoryCommand, { executionArn: arnOf('dup-2') }).resolves({ events: endingIn('DecideOrder') });
    stepFunctions.on(GetExecutionHistoryCommand, { executionArn: arnOf('train-1') }).resolves({ events: endingIn('CheckPipelines') });

    // Act
    const chosen = await stageTrain(client, stateMachineArn, none);

    // Assess
    expect(chosen).toBe(arnOf('train-1'));
  });

  it('is the running train while one runs, not a newer start still running while DecideOrder refuses it', async () => {
    const running: ExecutionListItem[] = [
      { executionArn: arnOf('dup-2'), name: 'dup-2', stateMachineArn, status: 'RUNNING', startDate: at(2) },
      { executionArn: arnOf('train-1'), name: 'train-1', stateMachineArn, status: 'RUNNING', startDate: at(0) },
    ];
    listing(running, running);

    expect(await stageTrain(client, stateMachineArn, none)).toBe(arnOf('train-1'));
  });

  it('says so when every execution was a refused start, and how the newest ended', async () => {
    listing([], [{ executionArn: arnOf('sched-3'), name: 'sched-3', stateMachineArn, status: 'SUCCEEDED', startDate: at(3) }]);
    stepFunctions.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', output: skippedOutput });

    await expect(stageTrain(client, stateMachineArn, none)).rejects.toThrow(`${stateMachineArn} has run no train yet: its one execution started nothing, sched-3: skipped: `);
  });

  it('names the newest refused start\'s error and cause, among several', async () => {
    listing([], [
      { executionArn: arnOf('bad-2'), name: 'bad-2', stateMachineArn, status: 'FAILED', startDate: at(3) },
      { executionArn: arnOf('dup-1'), name: 'dup-1', stateMachineArn, status: 'FAILED', startDate: at(1) },
    ]);
    stepFunctions.on(DescribeExecutionCommand, { executionArn: arnOf('bad-2') }).resolves({ status: 'FAILED', input: '{"order":["P9"]}', error: 'PipelineNotAllowed', cause: 'order: P9 is not allowed in this stage' });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: arnOf('dup-1') }).resolves({ status: 'FAILED', input: '{}', error: 'AlreadyRunning', cause: refusedCause });
    stepFunctions.on(GetExecutionHistoryCommand).resolves({ events: endingIn('DecideOrder') });

    await expect(stageTrain(client, stateMachineArn, none)).rejects.toThrow(
      `${stateMachineArn} has run no train yet: its 2 executions started nothing, the newest bad-2: refused at DecideOrder: PipelineNotAllowed: order: P9 is not allowed in this stage; start one with 'npx --no sequencer start'`,
    );
  });
});

describe('the running train', () => {
  it('is a train’s newest continuation, which began before any new run; else the oldest running execution', () => {
    const running = (name: string, minute: number) => ({ executionArn: arnOf(name), name, stateMachineArn, status: 'RUNNING' as const, startDate: at(minute) });

    expect(runningTrain([running('dup-9', 9), running('train-1-g3', 8), running('train-1-g2', 5)])?.name).toBe('train-1-g3');
    expect(runningTrain([running('dup-9', 9), running('train-1', 1)])?.name).toBe('train-1');
    expect(runningTrain([])).toBeUndefined();
  });
});

describe('a refused start', () => {
  it('is one DecideOrder failed with AlreadyRunning, or a skipped scheduled start; a train that failed with AlreadyRunning later on is a train', async () => {
    stepFunctions.on(GetExecutionHistoryCommand, { executionArn: arnOf('dup-2') }).resolves({ events: endingIn('DecideOrder') });
    // A redrive that found another run in flight fails with AlreadyRunning in CheckPipelines: its train did run.
    stepFunctions.on(GetExecutionHistoryCommand, { executionArn: arnOf('train-1') }).resolves({ events: endingIn('CheckPipelines') });
    const refused = { status: 'FAILED' as const, error: 'AlreadyRunning', cause: refusedCause, input: '{"order":["P3"]}' };

    expect(await refusedStart(client, arnOf('dup-2'), refused)).toBe(`refused at DecideOrder: AlreadyRunning: ${refusedCause}`);
    expect(await refusedStart(client, arnOf('train-1'), refused)).toBeUndefined();
    expect(await refusedStart(client, arnOf('sched-3'), { status: 'SUCCEEDED', output: skippedOutput })).toMatch(/^skipped: the scheduled run for 2026-01-01T06:00:00Z was skipped/);
    // A continuation refused at DecideOrder belongs to a train that ran.
    expect(await refusedStart(client, arnOf('dup-2'), { ...refused, input: '{"continuation":{}}' })).toBeUndefined();
  });

  it('is also one DecideOrder failed for any other reason, and a dry run: neither started anything', async () => {
    stepFunctions.on(GetExecutionHistoryCommand, { executionArn: arnOf('typo-5') }).resolves({ events: endingIn('DecideOrder') });
    const notFound = { status: 'FAILED' as const, error: 'PipelineNotFound', cause: "pipeline 'P9' does not exist", input: '{"order":["P1","P9"]}' };

    expect(await refusedStart(client, arnOf('typo-5'), notFound)).toBe(`refused at DecideOrder: PipelineNotFound: pipeline 'P9' does not exist`);
    expect(await refusedStart(client, arnOf('dry-4'), { status: 'SUCCEEDED', output: '{"order":["P1"],"dryRun":true}' })).toBe('a dry run: it only checked the plan');
    expect(await refusedStart(client, arnOf('train-6'), { status: 'SUCCEEDED', output: '{"pipelines":[]}' })).toBeUndefined();
  });
});

describe('status of a scheduled start skipped for a run in flight', () => {
  const skipped: ExecutionRead = {
    name: 'sched-3',
    arn: arnOf('sched-3'),
    described: { status: 'SUCCEEDED', startDate: at(3), stopDate: at(3), input: '{"sequence":"release","scheduled":{"whenBusy":"skip"}}', output: skippedOutput },
    history: [
      { id: 1, type: 'ExecutionStarted', timestamp: at(3) },
      { id: 2, type: 'TaskStateEntered', timestamp: at(3), stateEnteredEventDetails: { name: 'DecideOrder' } },
      { id: 3, type: 'LambdaFunctionScheduled', timestamp: at(3) },
      {
        id: 4,
        type: 'LambdaFunctionSucceeded',
        timestamp: at(3),
        lambdaFunctionSucceededEventDetails: {
          output: JSON.stringify({
            plan: { order: ['P1', 'P2'], count: 2, source: 'sequence:release', dryRun: false, variables: {}, onSuperseded: 'follow', pipelineTimeoutSeconds: 3600, polling: { pollSeconds: 30, maxPollSeconds: 300 }, decidedAt: at(3).toISOString() },
            run: { index: 0, phase: 'start', waitSeconds: 0, members: [], results: [], history: { events: 0, pending: 0 }, redrives: 0, generation: 1, origin: { executionArn: arnOf('sched-3'), executionName: 'sched-3' } },
            skipped: JSON.parse(skippedOutput) as unknown,
          }),
        },
      },
      { id: 5, type: 'SucceedStateEntered', timestamp: at(3), stateEnteredEventDetails: { name: 'SkipScheduledRun' } },
      { id: 6, type: 'ExecutionSucceeded', timestamp: at(3) },
    ],
  };

  it('says it was skipped, naming the run in flight and when the schedule fired; never a dry run', () => {
    const report = foldTrain([skipped], stateMachineArn, {});

    const lines = statusLines(report, palette(false), false);
    const document = statusJson(report);

    expect(lines.at(-1)).toBe(`SUCCEEDED  ${(JSON.parse(skippedOutput) as { reason: string }).reason}`);
    expect(lines.join('\n')).not.toContain('dry run');
    expect(document).toMatchObject({ status: 'SUCCEEDED', skipped: (JSON.parse(skippedOutput) as { reason: string }).reason });
    expect(document.pipelines.map((row) => row.reason)).toEqual(['skipped: another run was in flight', 'skipped: another run was in flight']);
  });
});
