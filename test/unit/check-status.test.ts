import 'aws-sdk-client-mock-jest';
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionNotFoundException,
  type PipelineExecutionStatus,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/check-status.js';
import { useClock } from '../../src/clock.js';
import { waitKey } from '../../src/completion-table.js';
import { callbackWaitExtraEvents, continueAtEvents, eventsOnTheWay, redriveEvents, taskEvents, waitEndedEarlyEvents } from '../../src/history-budget.js';
import { successorName } from '../../src/continuation.js';
import { awsError, execution, stepInput, tracked, useStageConfig } from '../support/fixtures.js';
import { keptSupersededIds, supersededBy } from '../../src/superseded.js';
import { maxCauseLength } from '../../src/lambda-cause.js';
import { maxSummaryInCause } from '../../src/check.js';

const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const dynamo = mockClient(DynamoDBClient);
const running = (name: string) => ({
  executionArn: `${execution.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
  stateMachineArn: execution.stateMachineArn,
  name,
  status: 'RUNNING' as const,
  startDate: new Date(started),
});
const started = Date.parse('2026-01-01T00:00:00.000Z');
let nowMs = started;
const at = (seconds: number) => new Date(started + seconds * 1000).toISOString();

const statusIs = (id: string, status: PipelineExecutionStatus, statusSummary?: string) =>
  codePipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: id })
    .resolves({ pipelineExecution: { pipelineName: 'P2', pipelineExecutionId: id, status, statusSummary } });

const summary = (id: string, startSeconds: number, endSeconds: number, status = 'Succeeded') => ({
  pipelineExecutionId: id,
  status: status as PipelineExecutionStatus,
  startTime: new Date(started + startSeconds * 1000),
  lastUpdateTime: new Date(started + endSeconds * 1000),
});

/** P2 and P3 side by side at position 1 (a group of two in the order P1, [P2, P3], P4). */
const group = { order: ['P1', ['P2', 'P3'], 'P4'], count: 3 };
const p3 = (overrides = {}) => tracked({ member: 1, pipelineName: 'P3', pipelineExecutionId: 'exec-p3', ...overrides });

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  dynamo.reset();
  process.env.COMPLETION_TABLE_NAME = 'check-status-test';
  useStageConfig();
  stepFunctions.on(ListExecutionsCommand).resolves({ executions: [running(execution.name)] });
  // Redriven (where a test says so) after P2's end at 590 s: the redrive that restarts what failed.
  stepFunctions.on(DescribeExecutionCommand).resolves({ redriveDate: new Date(started + 595_000), redriveCount: 1 });
  nowMs = started + 600_000;
  useClock({ now: () => nowMs });
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary('exec-p2', 0, 590)] });
});

describe('check-status: still running', () => {
  it.each(['InProgress', 'Stopping'] as const)('%s: counts the look and waits again', async (status) => {
    statusIs('exec-p2', status);

    const run = await core(stepInput({ members: [tracked({ polls: 3 })] }));

    expect(run).toMatchObject({ phase: 'watch', waitSeconds: 60, results: [] });
    expect(run.members[0]).toMatchObject({ status, polls: 4, nextLookAt: at(660) });
    expect(codePipeline).toHaveReceivedCommandWith(GetPipelineExecutionCommand, { pipelineName: 'P2', pipelineExecutionId: 'exec-p2' });
  });

  it('never waits past the timeout', async () => {
    statusIs('exec-p2', 'InProgress');
    nowMs = started + 3590_000;

    const run = await core(stepInput({ members: [tracked({ deadline: at(3600) })] }));

    expect(run.waitSeconds).toBe(10);
  });
});

describe('check-status: succeeded', () => {
  it('appends the result with CodePipeline’s own end time and when we noticed it, and moves to the next entry', async () => {
    statusIs('exec-p2', 'Succeeded');
    const earlier = { position: 0, member: 0, pipelineName: 'P3', status: 'Succeeded', pipelineExecutionId: 'exec-p3' };

    const run = await core(stepInput({ results: [earlier], members: [tracked({ polls: 4 })] }));

    expect(run).toMatchObject({ index: 2, phase: 'start', members: [] });
    expect(run.results).toEqual([
      earlier,
      {
        position: 1,
        member: 0,
        pipelineName: 'P2',
        pipelineExecutionId: 'exec-p2',
        attempt: 0,
        status: 'Succeeded',
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:09:50.000Z',
        detectedAt: '2026-01-01T00:10:00.000Z',
        detectedBy: 'poll',
        polls: 5,
        supersededExecutionIds: [],
      },
    ]);
  });
});

describe('check-status: ended badly', () => {
  it.each([
    ['Failed', 'PipelineFailed'],
    ['Stopped', 'PipelineStopped'],
    ['Cancelled', 'PipelineCancelled'],
  ] as const)('%s → throws %s, naming pipeline, execution, summary and position', async (status, error) => {
    statusIs('exec-p2', status, 'Unit tests failed');

    await expect(core(stepInput())).rejects.toMatchObject({
      name: error,
      message: `P2 (position 2 of 3) execution exec-p2 ended ${status}: Unit tests failed. Later pipelines were not started.`,
    });
  });

  it('says "later pipelines were not started" only when there are later ones', async () => {
    statusIs('exec-p2', 'Failed', 'boom');

    await expect(core(stepInput({}, { order: ['P3', 'P2'], count: 2 }))).rejects.toMatchObject({
      message: 'P2 (position 2 of 2) execution exec-p2 ended Failed: boom.',
    });
  });

  it('quotes each long statusSummary in part, so that a group of 10 failing at once still fits the cause Step Functions keeps', async () => {
    // Prepare: every member of a group of 10 failed, each with a 3,000-character summary.
    const names = Array.from({ length: 10 }, (_, index) => `G${index}`);
    const members = names.map((pipelineName, member) => tracked({ member, pipelineName, pipelineExecutionId: `exec-${pipelineName}` }));
    for (const name of names) statusIs(`exec-${name}`, 'Failed', `${name}: ${'x'.repeat(3_000)}`);

    // Act
    const failure = (await core(stepInput({ members }, { order: ['P1', names], count: 2 })).catch((error: unknown) => error)) as Error;

    // Assess: Lambda's error document holds the message twice (errorMessage, and the trace's first line).
    expect(failure.name).toBe('PipelineFailed');
    expect(failure.message).toContain(`G0 (position 2 of 2, in a group of 10) execution exec-G0 ended Failed: G0: ${'x'.repeat(maxSummaryInCause - 4)}… (2,004 more characters in CodePipeline)`);
    const document = JSON.stringify({ errorType: failure.name, errorMessage: failure.message, trace: [`${failure.name}: ${failure.message}`] });
    expect(document.length).toBeLessThan(maxCauseLength - 4_000);
  });

  it('quotes a statusSummary of several lines as one line: a cause, a progress line and a failure on stderr are each one line', async () => {
    statusIs('exec-p2', 'Failed', 'Build failed:\n  COMMAND_EXECUTION_ERROR: exit status 1\r\nsee the log\u0000');

    await expect(core(stepInput())).rejects.toMatchObject({
      message: 'P2 (position 2 of 3) execution exec-p2 ended Failed: Build failed: COMMAND_EXECUTION_ERROR: exit status 1; see the log. Later pipelines were not started.',
    });
  });

  it('says so when CodePipeline gave no statusSummary', async () => {
    statusIs('exec-p2', 'Failed');

    await expect(core(stepInput())).rejects.toMatchObject({ message: expect.stringContaining('CodePipeline gave no statusSummary') });
  });

  it('treats a status it does not know as a failure rather than waiting forever', async () => {
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Exploded' as PipelineExecutionStatus } });

    await expect(core(stepInput())).rejects.toMatchObject({ name: 'PipelineFailed', message: expect.stringContaining('unexpected status') });
  });

  it('fails with PipelineTimedOut past the deadline, and does not stop the pipeline', async () => {
    statusIs('exec-p2', 'InProgress');
    nowMs = started + 7200_000;

    const failure = await core(stepInput({ members: [tracked({ deadline: at(3600) })] }, { pipelineTimeoutSeconds: 3600 })).catch((error: unknown) => error as Error);

    expect(failure).toBeInstanceOf(Error);
    expect({ name: (failure as Error).name, message: (failure as Error).message }).toEqual({
      name: 'PipelineTimedOut',
      message: 'P2 (position 2 of 3) execution exec-p2 is still InProgress after 2 h, past pipelineTimeoutSeconds 3600 (1 h). The pipeline was left running. Later pipelines were not started.',
    });
    expect(codePipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(1);
    expect(codePipeline.commandCalls(StopPipelineExecutionCommand)).toHaveLength(0);
  });

  it('reports a vanished execution as PipelineNotFound', async () => {
    codePipeline
      .on(GetPipelineExecutionCommand)
      .rejects(new PipelineExecutionNotFoundException({ message: 'no', $metadata: { httpStatusCode: 400 } }));

    await expect(core(stepInput())).rejects.toMatchObject({ name: 'PipelineNotFound' });
  });

  it('reports throttling that outlasted the SDK retries as AwsUnavailable', async () => {
    codePipeline.on(GetPipelineExecutionCommand).rejects(awsError('ThrottlingException', 400));

    await expect(core(stepInput())).rejects.toMatchObject({ name: 'AwsUnavailable' });
  });
});

describe('check-status: a group', () => {
  it('looks only at the members that are due, and waits for the next one due', async () => {
    statusIs('exec-p2', 'InProgress');
    statusIs('exec-p3', 'InProgress');

    const run = await core(stepInput({ members: [tracked(), p3({ nextLookAt: at(900) })] }, group));

    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 1);
    expect(run.members.map((member) => member.polls)).toEqual([1, 0]);
    expect(run).toMatchObject({ phase: 'watch', waitSeconds: 60 });
  });

  it('keeps watching the other members after one failed, and never stops them', async () => {
    statusIs('exec-p2', 'Failed', 'Tests failed');
    statusIs('exec-p3', 'InProgress');

    const run = await core(stepInput({ members: [tracked(), p3()] }, group));

    expect(run.phase).toBe('watch');
    expect(run.members[0]).toMatchObject({ status: 'Failed', error: 'PipelineFailed' });
    expect(run.members[1]).toMatchObject({ status: 'InProgress' });
  });

  it('fails with the first failure once every member ended, naming every member’s outcome', async () => {
    statusIs('exec-p3', 'Stopped', 'Stopped by someone');
    const failedFirst = tracked({ status: 'Failed', error: 'PipelineFailed', cause: 'P2 (position 2 of 3, in a group of 2) execution exec-p2 ended Failed: Tests failed', detectedAt: at(300) });

    await expect(core(stepInput({ members: [failedFirst, p3()] }, group))).rejects.toMatchObject({
      name: 'PipelineFailed',
      message:
        'P2 (position 2 of 3, in a group of 2) execution exec-p2 ended Failed: Tests failed. Other members of the group: ' +
        'P3 (position 2 of 3, in a group of 2) execution exec-p3 ended Stopped: Stopped by someone. Later pipelines were not started.',
    });
  });

  it('moves on only when every member succeeded, recording each', async () => {
    statusIs('exec-p2', 'Succeeded');
    statusIs('exec-p3', 'Succeeded');

    const run = await core(stepInput({ members: [tracked(), p3()] }, group));

    expect(run).toMatchObject({ index: 2, phase: 'start' });
    expect(run.results.map((result) => [result.pipelineName, result.member, result.status])).toEqual([
      ['P2', 0, 'Succeeded'],
      ['P3', 1, 'Succeeded'],
    ]);
  });
});

describe('check-status: redrive', () => {
  it('restarts only the members that did not succeed, as a new attempt, once the execution was redriven', async () => {
    statusIs('exec-p2', 'Failed', 'Tests failed');
    statusIs('exec-p3', 'Succeeded');

    const run = await core(stepInput({ members: [tracked(), p3()] }, group, { redriveCount: 1 }));

    expect(run).toMatchObject({ phase: 'start', index: 1, redrives: 1 });
    expect(run.members[0]).toMatchObject({ pipelineName: 'P2', status: 'Pending', attempt: 1, earlierExecutionIds: ['exec-p2'] });
    expect(run.members[0]).not.toHaveProperty('pipelineExecutionId');
    expect(run.members[1]).toMatchObject({ pipelineName: 'P3', status: 'Succeeded', attempt: 0 });
  });

  it('restarts a member a redrive of an earlier execution of the train restarted already past that attempt: a new token, so the pipeline runs again', async () => {
    // Prepare: this execution is a continuation, redriven once; P2 had been restarted as attempt 1 by the first execution's redrive.
    statusIs('exec-p2', 'Failed', 'Tests failed');
    statusIs('exec-p3', 'Succeeded');

    const run = await core(stepInput({ members: [tracked({ attempt: 1 }), p3()] }, group, { redriveCount: 1 }));

    expect(run.members[0]).toMatchObject({ pipelineName: 'P2', status: 'Pending', attempt: 2, earlierExecutionIds: ['exec-p2'] });
  });

  it('does not restart a member that failed after the redrive (stopped while it waited, redriven at once): the run fails', async () => {
    statusIs('exec-p2', 'Failed', 'Tests failed');
    stepFunctions.on(DescribeExecutionCommand).resolves({ redriveDate: new Date(started + 300_000), redriveCount: 1 });

    await expect(core(stepInput({}, {}, { redriveCount: 1 }))).rejects.toMatchObject({
      name: 'PipelineFailed',
      message: expect.stringContaining('execution exec-p2 ended Failed: Tests failed'),
    });
  });

  it('restarts nothing in a group where a member failed after the redrive, though another had failed before it: the entry fails now', async () => {
    // Prepare: redriven at 595 s; P2 had failed at 590 s, P3 fails at 598 s.
    statusIs('exec-p2', 'Failed', 'Tests failed');
    statusIs('exec-p3', 'Failed', 'Lint failed');
    codePipeline
      .on(ListPipelineExecutionsCommand)
      .resolves({ pipelineExecutionSummaries: [summary('exec-p3', 0, 598, 'Failed'), summary('exec-p2', 0, 590, 'Failed')] });

    // Act
    const attempt = core(stepInput({ members: [tracked(), p3()] }, group, { redriveCount: 1 }));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'PipelineFailed', message: expect.stringContaining('exec-p3 ended Failed: Lint failed') });
  });

  it('restarts a failed member whose end CodePipeline no longer lists, as before: its end may well precede the redrive', async () => {
    statusIs('exec-p2', 'Failed', 'Tests failed');
    codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
    stepFunctions.on(DescribeExecutionCommand).resolves({ redriveDate: new Date(started + 300_000), redriveCount: 1 });

    const run = await core(stepInput({}, {}, { redriveCount: 1 }));

    expect(run.members[0]).toMatchObject({ pipelineName: 'P2', status: 'Pending', attempt: 1, earlierExecutionIds: ['exec-p2'] });
  });

  it.each([
    ['does not know the execution yet', () => stepFunctions.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist', 400)), 'ExecutionDoesNotExist'],
    ['has not seen the redrive yet', () => stepFunctions.on(DescribeExecutionCommand).resolves({ redriveDate: new Date(started + 300_000), redriveCount: 0 }), 'it counts 0 redrives'],
  ])('redriven, when DescribeExecution %s (it is eventually consistent): AwsUnavailable, which the state machine retries, not a refusal', async (_case, answer, told) => {
    statusIs('exec-p2', 'Failed', 'Tests failed');
    answer();

    const attempt = core(stepInput({}, {}, { redriveCount: 1 }));

    await expect(attempt).rejects.toMatchObject({ name: 'AwsUnavailable', message: expect.stringContaining(`${told}, though this execution has been redriven once: Step Functions has not caught up yet`) as unknown });
  });

  it('refuses to go on beside a run that started while this one lay failed, starting nothing', async () => {
    statusIs('exec-p2', 'Failed', 'Tests failed');
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [running(execution.name), running('nightly')] });

    await expect(core(stepInput({}, {}, { redriveCount: 1 }))).rejects.toMatchObject({
      name: 'AlreadyRunning',
      message: expect.stringContaining('run-1 was redriven while another run of this state machine is in progress: nightly'),
    });
    expect(codePipeline).not.toHaveReceivedAnyCommand();
  });

  it('throws again when the same redrive looks again (no second restart per redrive)', async () => {
    statusIs('exec-p2', 'Failed');

    await expect(core(stepInput({ redrives: 1 }, {}, { redriveCount: 1 }))).rejects.toMatchObject({ name: 'PipelineFailed' });
  });

  it('gives a member left running past its timeout a fresh timeout instead of a second execution', async () => {
    statusIs('exec-p2', 'InProgress');
    nowMs = started + 7200_000;

    const run = await core(stepInput({ members: [tracked({ deadline: at(3600) })] }, { pipelineTimeoutSeconds: 3600 }, { redriveCount: 1 }));

    expect(run.phase).toBe('watch');
    expect(run.members[0]).toMatchObject({ status: 'InProgress', pipelineExecutionId: 'exec-p2', deadline: at(7200 + 3600) });
  });
});

describe('check-status: the history budget', () => {
  it('counts this look as Step Functions does: the states since the last Task, its retries, and its own events', async () => {
    statusIs('exec-p2', 'InProgress');

    const run = await core(stepInput({ history: { events: 1000, pending: 4 } }, {}, { retryCount: 2 }));

    expect(run.history).toEqual({ events: 1000 + 4 + taskEvents(2), pending: eventsOnTheWay.checkedToWatch });
  });

  it('adds what a redrive wrote', async () => {
    statusIs('exec-p2', 'InProgress');

    const run = await core(stepInput({ history: { events: 1000, pending: 4 } }, {}, { redriveCount: 1 }));

    expect(run.history.events).toBe(1000 + 4 + redriveEvents + taskEvents(0));
  });

  it('continues as new when the next step would pass the budget, naming the successor from the first execution', async () => {
    statusIs('exec-p2', 'InProgress');

    const run = await core(stepInput({ history: { events: continueAtEvents - 10, pending: 4 }, generation: 3 }));

    expect(run).toMatchObject({
      phase: 'continue',
      successor: { executionName: successorName(execution.name, 4), resume: 'watch' },
      history: { pending: eventsOnTheWay.checkedToContinue },
    });
    expect(run.members[0]).toMatchObject({ status: 'InProgress', pipelineExecutionId: 'exec-p2' });
  });

  it("continues at the plan's own continueAtEvents when it has one, and not before", async () => {
    statusIs('exec-p2', 'InProgress');
    const plan = { continueAtEvents: 2_000 };

    const below = await core(stepInput({ history: { events: 1_000, pending: 4 } }, plan));
    const near = await core(stepInput({ history: { events: 1_990, pending: 4 } }, plan));

    expect(below.phase).toBe('watch');
    expect(near).toMatchObject({ phase: 'continue', history: { events: 1_990 + 4 + taskEvents(0), pending: eventsOnTheWay.checkedToContinue } });
  });

  it('does not continue when the run is finished anyway', async () => {
    statusIs('exec-p2', 'Succeeded');

    const run = await core(stepInput({ history: { events: continueAtEvents - 10, pending: 4 } }, { order: ['P3', 'P2'], count: 2 }));

    expect(run).toMatchObject({ phase: 'start', index: 2 });
    expect(run).not.toHaveProperty('successor');
  });
});

describe('check-status: woken from a callback wait (completion: events)', () => {
  const key = waitKey(execution.id);
  const liveUntil = Math.floor(Date.parse('2026-01-04T00:00:00Z') / 1000);
  /** Wait 2's token write was refused: wait 1's token is still on the item, and an end was recorded for wait 2. */
  const recordedEnd = (wokenBy: string, expiresAt = liveUntil) =>
    dynamo.on(GetItemCommand).resolves({
      Item: { pk: { S: key }, seq: { N: '1' }, token: { S: 'token-1' }, woken: { N: '2' }, wokenBy: { S: wokenBy }, expiresAt: { N: String(expiresAt) } },
    });
  /** The callback Task's Catch (ResultPath $.run.wake) when its conditional token write failed. */
  const refusedWrite = { Error: 'DynamoDb.ConditionalCheckFailedException', Cause: 'The conditional request failed (Service: DynamoDb, Status Code: 400)' };
  const waitingOnWait2 = (wake: Record<string, unknown>) =>
    stepInput(
      { wait: { key, seq: 2, expiresAt: liveUntil }, wake, history: { events: 1000, pending: eventsOnTheWay.checkedToWatch + callbackWaitExtraEvents } },
      { completion: 'events' },
    );

  it.each(['sweep', 'event'])('a token write refused because an end came first: the result says the %s that recorded it noticed the end', async (wokenBy) => {
    statusIs('exec-p2', 'Succeeded');
    recordedEnd(wokenBy);

    const run = await core(waitingOnWait2(refusedWrite));

    expect(run.results[0]).toMatchObject({ pipelineName: 'P2', status: 'Succeeded', detectedBy: wokenBy });
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'check-status-test', Key: { pk: { S: key } }, ConsistentRead: true });
    expect(run).not.toHaveProperty('wake');
  });

  it('a token write refused because an end came first counts the wait one event short: no TaskSubmitted', async () => {
    statusIs('exec-p2', 'Succeeded');
    recordedEnd('sweep');

    const run = await core(waitingOnWait2(refusedWrite));

    expect(run.history.events).toBe(1000 + eventsOnTheWay.checkedToWatch + callbackWaitExtraEvents + taskEvents(0) + waitEndedEarlyEvents);
  });

  it('a wait completed by its waker counts every event of the callback wait, and takes the waker’s name without reading the table', async () => {
    statusIs('exec-p2', 'Succeeded');

    const run = await core(waitingOnWait2({ by: 'sweep', at: at(590), pipelineName: 'P2', pipelineExecutionId: 'exec-p2', state: 'SUCCEEDED' }));

    expect(run.history.events).toBe(1000 + eventsOnTheWay.checkedToWatch + callbackWaitExtraEvents + taskEvents(0));
    expect(run.results[0]).toMatchObject({ detectedBy: 'sweep' });
    expect(dynamo).not.toHaveReceivedAnyCommand();
  });

  it('a continuation names its successor as the lock’s holding execution before it starts, so no run slips in between', async () => {
    statusIs('exec-p2', 'InProgress');
    const successorArn = `${execution.stateMachineArn.replace(':stateMachine:', ':execution:')}:${successorName(execution.name, 2)}`;

    const run = await core(stepInput({ history: { events: continueAtEvents - 10, pending: 4 } }, { completion: 'events' }));

    expect(run).toMatchObject({ phase: 'continue', successor: { executionName: successorName(execution.name, 2) } });
    expect(dynamo).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: { pk: { S: `lock#${execution.stateMachineArn}` } },
      ConditionExpression: 'holder = :origin',
      ExpressionAttributeValues: expect.objectContaining({ ':origin': { S: execution.id }, ':successor': { S: successorArn }, ':current': { S: execution.id } }) as unknown,
    });
  });

  it('a wait item past its TTL, which DynamoDB deletes only days later, is taken as gone: the end is reported as an event’s', async () => {
    statusIs('exec-p2', 'Succeeded');
    recordedEnd('sweep', Math.floor(nowMs / 1000) - 1);

    const run = await core(waitingOnWait2(refusedWrite));

    expect(run.results[0]).toMatchObject({ detectedBy: 'event' });
  });
});

describe('check-status: onFailure wait, held only while a retry can come', () => {
  const stageStates = (latest: Record<string, { id: string; status: string }>) =>
    codePipeline.on(GetPipelineStateCommand).resolves({
      stageStates: Object.entries(latest).map(([stageName, { id, status }]) => ({ stageName, latestExecution: { pipelineExecutionId: id, status: status as 'Failed' } })),
    });

  it('holds a Failed member while CodePipeline still shows it the latest, Failed, in the stage it failed in', async () => {
    statusIs('exec-p2', 'Failed', 'Unit tests failed');
    stageStates({ Source: { id: 'exec-p2', status: 'Succeeded' }, Build: { id: 'exec-p2', status: 'Failed' } });

    const run = await core(stepInput({}, { onFailure: 'wait' }));

    expect(run).toMatchObject({ phase: 'watch' });
    expect(run.members[0]).toMatchObject({ status: 'Failed', waitingForRetry: true });
    expect(codePipeline).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'P2' });
    expect(codePipeline).not.toHaveReceivedCommand(ListActionExecutionsCommand);
  });

  it('does not ask for a PARALLEL pipeline, where another execution passing the failed stage need not end the chance of a retry', async () => {
    codePipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-p2' })
      .resolves({ pipelineExecution: { pipelineName: 'P2', pipelineExecutionId: 'exec-p2', status: 'Failed', executionMode: 'PARALLEL' } });

    const run = await core(stepInput({}, { onFailure: 'wait' }));

    expect(run.members[0]).toMatchObject({ status: 'Failed', waitingForRetry: true });
    expect(codePipeline).not.toHaveReceivedCommand(GetPipelineStateCommand);
  });

  it('keeps holding, as before, when CodePipeline does not say (a role in another account not yet granted GetPipelineState)', async () => {
    statusIs('exec-p2', 'Failed', 'Unit tests failed');
    codePipeline.on(GetPipelineStateCommand).rejects(awsError('AccessDeniedException', 400));

    const run = await core(stepInput({}, { onFailure: 'wait' }));

    expect(run).toMatchObject({ phase: 'watch' });
    expect(run.members[0]).toMatchObject({ status: 'Failed', waitingForRetry: true });
  });

  it.each([
    ['a retry ran and failed again since it was held (CodePipeline’s end time is later): this look saw that failure', [summary('exec-p2', 0, 500, 'Failed')], { detectedAt: at(600), detectedBy: 'poll' }],
    ['CodePipeline’s listing does not show the execution: its end time is unknown, and the hold’s first sighting stands', [], { detectedAt: at(300), detectedBy: 'event' }],
  ])('at its deadline, a held failure is told noticed when first held, unless %s', async (_case, listed, noticed) => {
    statusIs('exec-p2', 'Failed', 'Unit tests failed');
    statusIs('exec-p3', 'InProgress');
    codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: listed });
    const held = tracked({ status: 'Failed', waitingForRetry: true, detectedAt: at(300), detectedBy: 'event', deadline: at(600) });

    const run = await core(stepInput({ members: [held, p3()] }, { ...group, onFailure: 'wait' }));

    expect(run.members[0]).toMatchObject({ status: 'Failed', error: 'PipelineFailed', ...noticed });
  });

  describe('each look at a member still held reads CodePipeline’s end time (a retry that failed again unseen)', () => {
    const stillHeld = () => tracked({ status: 'Failed', waitingForRetry: true, detectedAt: at(300), detectedBy: 'poll', deadline: at(86_400), nextLookAt: at(600) });
    beforeEach(() => {
      statusIs('exec-p2', 'Failed', 'Unit tests failed');
      stageStates({ Build: { id: 'exec-p2', status: 'Failed' } });
    });

    it('from the first page that shows the execution, however long the pipeline’s history', async () => {
      // Every page has a next one; ours, the newest, is on the first.
      codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary('exec-p2', 0, 290, 'Failed')], nextToken: 'more' });

      const run = await core(stepInput({ members: [stillHeld()] }, { onFailure: 'wait' }));

      expect(run.members[0]).toMatchObject({ status: 'Failed', waitingForRetry: true, detectedAt: at(300) });
      expect(codePipeline).toHaveReceivedCommandTimes(ListPipelineExecutionsCommand, 1);
    });

    it('and keeps holding, its first detection standing, when CodePipeline will not list (throttled past the SDK’s retries)', async () => {
      codePipeline.on(ListPipelineExecutionsCommand).rejects(awsError('ThrottlingException', 400));

      const run = await core(stepInput({ members: [stillHeld()] }, { onFailure: 'wait' }));

      expect(run).toMatchObject({ phase: 'watch' });
      expect(run.members[0]).toMatchObject({ status: 'Failed', waitingForRetry: true, detectedAt: at(300), detectedBy: 'poll' });
    });

    it('and a later end than the hold’s first sighting is a retry that failed again: noticed now, and counted', async () => {
      codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary('exec-p2', 0, 500, 'Failed')] });

      const run = await core(stepInput({ members: [stillHeld()] }, { onFailure: 'wait' }));

      expect(run.members[0]).toMatchObject({ status: 'Failed', waitingForRetry: true, detectedAt: at(600), retries: 1 });
    });
  });

  it('fails the entry, before its deadline, once a later execution ran the stage it failed in: no retry can come', async () => {
    statusIs('exec-p2', 'Failed', 'Unit tests failed');
    stageStates({ Source: { id: 'later', status: 'Succeeded' }, Build: { id: 'later', status: 'InProgress' } });
    codePipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        { pipelineExecutionId: 'exec-p2', stageName: 'Build', actionName: 'Build', status: 'Failed' },
        { pipelineExecutionId: 'exec-p2', stageName: 'Source', actionName: 'Source', status: 'Succeeded' },
      ],
    });

    const failure = core(stepInput({}, { onFailure: 'wait' }));

    await expect(failure).rejects.toMatchObject({
      name: 'PipelineFailed',
      message: expect.stringContaining(
        'ended Failed: Unit tests failed; not held for a retry: execution later has since run its failed stage Build, so CodePipeline can no longer retry it',
      ) as unknown,
    });
    expect(codePipeline).toHaveReceivedCommandWith(ListActionExecutionsCommand, { pipelineName: 'P2', filter: { pipelineExecutionId: 'exec-p2' } });
  });
});

describe('check-status: superseded', () => {
  beforeEach(() => {
    statusIs('exec-p2', 'Superseded', 'Superseded by a newer execution');
    codePipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        summary('newest', 500, 900, 'InProgress'),
        summary('newer', 300, 600, 'Superseded'),
        summary('exec-p2', 0, 300, 'Superseded'),
        summary('older', -900, -100),
      ],
    });
  });

  it('follows the execution that superseded ours, and the one that superseded that', async () => {
    statusIs('newer', 'Superseded');
    statusIs('newest', 'InProgress');

    const run = await core(stepInput());

    expect(run.members[0]).toMatchObject({
      pipelineExecutionId: 'newest',
      status: 'InProgress',
      supersededExecutionIds: ['exec-p2', 'newer'],
      watchedSince: '2026-01-01T00:08:20.000Z',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('passes over a newer execution that ended before ours was superseded: it failed or was stopped in an earlier stage, and never reached ours', async () => {
    statusIs('newer', 'Succeeded');
    codePipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        summary('newer', 300, 600, 'Succeeded'),
        summary('stopped-early', 150, 250, 'Stopped'),
        summary('failed-early', 100, 200, 'Failed'),
        summary('exec-p2', 0, 300, 'Superseded'),
      ],
    });

    const run = await core(stepInput());

    expect(run.results[0]).toMatchObject({ pipelineExecutionId: 'newer', status: 'Succeeded', supersededExecutionIds: ['exec-p2'] });
  });

  it('records both executions when the newer one succeeds', async () => {
    statusIs('newer', 'Succeeded');

    const run = await core(stepInput());

    expect(run.results[0]).toMatchObject({ pipelineExecutionId: 'newer', status: 'Succeeded', supersededExecutionIds: ['exec-p2'] });
  });

  it(`lists ours and the latest of ${keptSupersededIds} superseded executions and counts the others, so a pipeline superseded all week cannot outgrow the state`, async () => {
    statusIs('newer', 'Succeeded');
    // Ours, then the two latest; 5 between them already counted.
    const listed = ['ours', 's6', 's7'];

    const run = await core(stepInput({ members: [tracked({ supersededExecutionIds: listed, supersededOmitted: 5 })] }));

    expect(run.results[0]).toMatchObject({ pipelineExecutionId: 'newer', supersededExecutionIds: ['ours', 's7', 'exec-p2'], supersededOmitted: 6 });
  });

  it('keeps ours, which the sequencer started and its lines name, however often it is superseded', () => {
    let member = tracked({ pipelineExecutionId: 'ours' });

    for (const newer of ['s1', 's2', 's3', 's4', 's5']) member = { ...member, ...supersededBy(member), pipelineExecutionId: newer };

    expect(member).toMatchObject({ pipelineExecutionId: 's5', supersededExecutionIds: ['ours', 's3', 's4'], supersededOmitted: 2 });
  });

  it('names the superseded executions it lists in the cause, and how many others', async () => {
    statusIs('newer', 'Failed', 'Deploy failed');

    const failure = core(stepInput({ members: [tracked({ supersededExecutionIds: ['ours', 's2', 's3'], supersededOmitted: 1 })] }));

    await expect(failure).rejects.toMatchObject({ name: 'PipelineFailed', message: expect.stringContaining('execution newer ended Failed: Deploy failed; it had superseded ours, s3, exec-p2 and 2 others') });
  });

  it('fails with PipelineSuperseded when the plan says fail', async () => {
    await expect(core(stepInput({}, { onSuperseded: 'fail' }))).rejects.toMatchObject({ name: 'PipelineSuperseded' });
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 1);
  });

  it('fails with PipelineSuperseded when no newer execution can be found', async () => {
    codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary('exec-p2', 0, 300, 'Superseded')] });

    await expect(core(stepInput())).rejects.toMatchObject({ name: 'PipelineSuperseded', message: expect.stringContaining('exec-p2') });
  });
});

describe('check-status: any other failure', () => {
  it('names the pipelines the run left, keeping the error’s name', async () => {
    codePipeline.on(GetPipelineExecutionCommand).rejects(awsError('AccessDeniedException', 400));

    await expect(core(stepInput({ members: [tracked(), p3()] }, group))).rejects.toMatchObject({
      name: 'AwsRequestRejected',
      message: expect.stringContaining('(the run was at position 2 of 3: P2 execution exec-p2 (InProgress), P3 execution exec-p3 (InProgress))'),
    });
  });
});

describe('check-status: a function about to time out', () => {
  it('fails by name before Lambda would kill it, naming the pipelines the run left', async () => {
    codePipeline.on(GetPipelineExecutionCommand).callsFake(() => new Promise(() => undefined));

    await expect(core(stepInput(), { getRemainingTimeInMillis: () => 2100 })).rejects.toMatchObject({
      name: 'AwsUnavailable',
      message: expect.stringMatching(/^check-status got no answer from AWS within the function's 2 s \(the run was at position 2 of 3: P2 execution exec-p2 \(InProgress\)\)$/),
    });
  });
});

describe('check-status: a member not started yet', () => {
  it('hands it back to StartPipelines rather than judging it', async () => {
    statusIs('exec-p3', 'InProgress');

    const run = await core(stepInput({ members: [tracked({ status: 'Pending', pipelineExecutionId: undefined }), p3()] }, group));

    expect(run).toMatchObject({ phase: 'start', index: 1 });
    expect(run.members[0]).toMatchObject({ pipelineName: 'P2', status: 'Pending' });
  });
});
