import 'aws-sdk-client-mock-jest';
import { CodePipelineClient, ListPipelineExecutionsCommand, StartPipelineExecutionCommand, type PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/start-pipeline.js';
import { useClock } from '../../src/clock.js';
import { failedStartAttempts } from '../../src/lost-starts.js';
import { pendingMember } from '../../src/start.js';
import { awsError, execution, stepInput, useStageConfig } from '../support/fixtures.js';

/**
 * A redrive into StartPipelines takes the execution a failed attempt started without hearing
 * back, found by when that attempt ran (the execution's history) and how the execution was
 * started (CodePipeline's trigger), instead of sending the start again with a token CodePipeline
 * may have forgotten.
 */

const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const day0 = Date.UTC(2026, 0, 1, 9, 0);
const at = (seconds: number) => new Date(day0 + seconds * 1000);
const redriveTime = 86_400;

/** The history, one event a line: `[second, type, state name (or an ExecutionFailed's error)]`, oldest first. */
function history(lines: [number, string, string?][]): HistoryEvent[] {
  return lines.map(([second, type, name], index) => ({
    id: index + 1,
    timestamp: at(second),
    type,
    ...(name !== undefined &&
      (type === 'ExecutionFailed'
        ? { executionFailedEventDetails: { error: name } }
        : type.endsWith('StateEntered')
          ? { stateEnteredEventDetails: { name } }
          : { stateExitedEventDetails: { name } })),
  })) as HistoryEvent[];
}

/** The first entry's start was killed on its first try and on a retry, then the execution failed; now redriven a day later. */
const failedAtStart = history([
  [0, 'ExecutionStarted'],
  [0, 'TaskStateEntered', 'DecideOrder'],
  [1, 'TaskStateExited', 'DecideOrder'],
  [1, 'ChoiceStateEntered', 'MorePipelines?'],
  [1, 'ChoiceStateExited', 'MorePipelines?'],
  [2, 'TaskStateEntered', 'StartPipelines'],
  [2, 'LambdaFunctionScheduled'],
  [25, 'LambdaFunctionTimedOut'],
  [30, 'LambdaFunctionScheduled'],
  [53, 'LambdaFunctionTimedOut'],
  [53, 'ExecutionFailed'],
  [redriveTime, 'ExecutionRedriven'],
  [redriveTime, 'TaskStateEntered', 'StartPipelines'],
  [redriveTime, 'LambdaFunctionScheduled'],
  [redriveTime, 'LambdaFunctionStarted'],
]);

const summary = (id: string, second: number, triggerType = 'StartPipelineExecution'): PipelineExecutionSummary => ({
  pipelineExecutionId: id,
  status: 'Succeeded',
  startTime: at(second),
  lastUpdateTime: at(second + 600),
  trigger: { triggerType: triggerType as never },
});

const redriveInto = (order: (string | string[])[]) =>
  core(stepInput({ index: 0, phase: 'start', members: [], redrives: 0 }, { order, count: order.length }, { redriveCount: 1 }));

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  useStageConfig();
  useClock({ now: () => at(redriveTime).getTime() });
  stepFunctions.on(ListExecutionsCommand).resolves({ executions: [] });
  stepFunctions.on(GetExecutionHistoryCommand).callsFake((input: { reverseOrder?: boolean }) => ({ events: input.reverseOrder ? [...failedAtStart].reverse() : failedAtStart }));
  codePipeline.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'exec-again' });
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
});

/** Three attempts failed in StartPipelines: killed, refused for another run in flight, timed out (no entry of its own: it began at its redrive). */
  const thrice = history([
    [0, 'ChoiceStateExited', 'MorePipelines?'],
    [2, 'TaskStateEntered', 'StartPipelines'],
    [25, 'LambdaFunctionTimedOut'],
    [25, 'ExecutionFailed', 'Sandbox.Timedout'],
    [600, 'ExecutionRedriven'],
    [600, 'TaskStateEntered', 'StartPipelines'],
    [601, 'LambdaFunctionFailed'],
    [601, 'ExecutionFailed', 'AlreadyRunning'],
    [7200, 'ExecutionRedriven'],
    [7220, 'LambdaFunctionTimedOut'],
    [7220, 'ExecutionTimedOut'],
    [redriveTime, 'ExecutionRedriven'],
    [redriveTime, 'TaskStateEntered', 'StartPipelines'],
  ]);

describe('the failed attempts, read from the history', () => {
  it('the one attempt runs from StartPipelines\' entry to the failure, read backwards without the data', async () => {
    // Act
    const attempts = await failedStartAttempts(execution.id);

    // Assess
    expect(attempts).toEqual([{ from: at(2).getTime(), to: at(53).getTime() }]);
    expect(stepFunctions).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: execution.id, reverseOrder: true, includeExecutionData: false });
  });

  it('each earlier redrive that failed in StartPipelines is an attempt of its own, without the time the execution stood failed between them, nor one refused for another run in flight', async () => {
    // Prepare
    stepFunctions.on(GetExecutionHistoryCommand).resolves({ events: [...thrice].reverse() });

    // Act
    const attempts = await failedStartAttempts(execution.id);

    // Assess: the third (no entry of its own in the history) from its redrive; the second held nothing.
    expect(attempts).toEqual([
      { from: at(7200).getTime(), to: at(7220).getTime() },
      { from: at(2).getTime(), to: at(25).getTime() },
    ]);
  });

  it('is none when the attempt before failed in another state', async () => {
    // Prepare
    const failedAtCheck = history([
      [2, 'TaskStateEntered', 'StartPipelines'],
      [3, 'TaskStateExited', 'StartPipelines'],
      [600, 'TaskStateEntered', 'CheckPipelines'],
      [601, 'LambdaFunctionFailed'],
      [601, 'ExecutionFailed'],
      [redriveTime, 'ExecutionRedriven'],
      [redriveTime, 'TaskStateEntered', 'StartPipelines'],
    ]);
    stepFunctions.on(GetExecutionHistoryCommand).resolves({ events: [...failedAtCheck].reverse() });

    // Act
    const attempts = await failedStartAttempts(execution.id);

    // Assess
    expect(attempts).toEqual([]);
  });
});

describe('a redrive into StartPipelines', () => {
  it('takes the execution started by a StartPipelineExecution call in that window, and starts nothing', async () => {
    // Prepare: a webhook's execution in the window, ours, and a later one by hand after the failure.
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P1' }).resolves({
      pipelineExecutionSummaries: [summary('exec-by-hand', 3600), summary('exec-lost', 3), summary('exec-webhook', 10, 'Webhook')],
    });

    // Act
    const run = await redriveInto(['P1', 'P2']);

    // Assess
    expect(codePipeline).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
    expect(run.members).toEqual([
      expect.objectContaining({
        pipelineName: 'P1',
        status: 'InProgress',
        pipelineExecutionId: 'exec-lost',
        startLost: true,
        startedAt: at(3).toISOString(),
        deadline: at(3 + 86_400).toISOString(),
        nextLookAt: at(redriveTime).toISOString(),
      }),
    ]);
  });

  it('starts a member the failed attempt did not start, with its token, beside one it did', async () => {
    // Prepare
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P1' }).resolves({ pipelineExecutionSummaries: [summary('exec-lost', 3)] });

    // Act
    const run = await redriveInto([['P1', 'P2']]);

    // Assess
    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 1);
    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, { name: 'P2' });
    expect(run.members.map((member) => [member.pipelineName, member.pipelineExecutionId, member.startLost ?? false])).toEqual([
      ['P1', 'exec-lost', true],
      ['P2', 'exec-again', false],
    ]);
  });

  it('never takes an execution the run already knows', async () => {
    // Prepare: P1's earlier attempt's execution (a restart after it failed) is in the window.
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P1' }).resolves({ pipelineExecutionSummaries: [summary('exec-earlier', 3)] });
    const restarted = { ...pendingMember(0, 0, 'P1', 1), earlierExecutionIds: ['exec-earlier'] };

    // Act
    const run = await core(stepInput({ index: 0, phase: 'start', members: [restarted] }, { order: ['P1'], count: 1 }, { redriveCount: 1 }));

    // Assess
    expect(run.members[0]).toMatchObject({ pipelineExecutionId: 'exec-again' });
    expect(run.members[0]!.startLost).toBeUndefined();
  });

  it('with two candidates, fails StartAmbiguous naming both, before any start', async () => {
    // Prepare
    const byHand = { ...summary('exec-b', 40), trigger: { triggerType: 'StartPipelineExecution' as const, triggerDetail: 'arn:aws:sts::123456789012:assumed-role/Admin/alice' } };
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P2' }).resolves({ pipelineExecutionSummaries: [byHand, summary('exec-a', 3)] });

    // Act
    const attempt = redriveInto([['P1', 'P2']]);

    // Assess: each named with who started it, where CodePipeline says.
    await expect(attempt).rejects.toMatchObject({ name: 'StartAmbiguous' });
    await expect(attempt).rejects.toThrow(
      /^P2 \(position 1 of 1, in a group of 2\): the redrive found 2 executions .*: exec-b \(started \S+ by arn:aws:sts::123456789012:assumed-role\/Admin\/alice\), exec-a \(started \S+\)\. .*started nothing/,
    );
    expect(codePipeline).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
  });

  it('takes nothing started while the execution stood failed between attempts, nor during one refused for another run in flight', async () => {
    // Prepare: another train started P1 an hour after the first failure, and ran while the second attempt was refused.
    stepFunctions.on(GetExecutionHistoryCommand).resolves({ events: [...thrice].reverse() });
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P1' }).resolves({ pipelineExecutionSummaries: [summary('exec-other-train', 3600), summary('exec-other-train-2', 600)] });

    // Act
    const run = await redriveInto(['P1']);

    // Assess
    expect(run.members[0]).toMatchObject({ pipelineExecutionId: 'exec-again' });
    expect(run.members[0]!.startLost).toBeUndefined();
  });

  it('gives a taken execution past its timeout a fresh one, as check-status gives any member a redrive finds so', async () => {
    // Prepare
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P1' }).resolves({ pipelineExecutionSummaries: [summary('exec-lost', 3)] });

    // Act
    const run = await core(stepInput({ index: 0, phase: 'start', members: [], redrives: 0 }, { order: ['P1'], count: 1, pipelineTimeoutSeconds: 3600 }, { redriveCount: 1 }));

    // Assess
    expect(run.members[0]).toMatchObject({ pipelineExecutionId: 'exec-lost', startedAt: at(3).toISOString(), deadline: at(redriveTime + 3600).toISOString() });
  });

  it('leaves a member CodePipeline refuses to list to its start, which meets the refusal in its place; the other is taken', async () => {
    // Prepare: P2 was deleted while the execution stood failed.
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P1' }).resolves({ pipelineExecutionSummaries: [summary('exec-lost', 3)] });
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P2' }).rejects(awsError('PipelineNotFoundException', 400));
    codePipeline.on(StartPipelineExecutionCommand, { name: 'P2' }).rejects(awsError('PipelineNotFoundException', 400));

    // Act
    const run = await redriveInto([['P1', 'P2']]);

    // Assess
    expect(run.members.map((member) => [member.pipelineName, member.status, member.error])).toEqual([
      ['P1', 'InProgress', undefined],
      ['P2', 'NotStarted', 'PipelineNotFound'],
    ]);
  });

  it('with a listing AWS could not answer, fails the Task for a retry before any start', async () => {
    // Prepare
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P2' }).rejects(awsError('InternalServerError', 500));

    // Act
    const attempt = redriveInto([['P1', 'P2']]);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'AwsUnavailable' });
    expect(codePipeline).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
  });

  it('when the executions since the failed attempt fill the pages it reads, fails StartAmbiguous rather than start again', async () => {
    // Prepare: a busy pipeline, each page still newer than the attempt.
    const page = (first: number) => Array.from({ length: 100 }, (_, index) => summary(`exec-${first + index}`, redriveTime - first - index, 'Webhook'));
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P1' }).callsFake(({ nextToken }: { nextToken?: string }) => {
      const first = Number(nextToken ?? 0);
      return { pipelineExecutionSummaries: page(first), nextToken: String(first + 100) };
    });

    // Act
    const attempt = redriveInto(['P1']);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'StartAmbiguous', message: expect.stringMatching(/^P1 \(position 1 of 1\): the redrive read 1000 of its executions, newest first, without reaching back to the failed attempt/) });
    expect(codePipeline).toHaveReceivedCommandTimes(ListPipelineExecutionsCommand, 10);
    expect(codePipeline).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
  });

  it('reads CodePipeline\'s list no further back than the page that reaches the window', async () => {
    // Prepare: newest first; the first page ends after the window opened, the second before it.
    codePipeline
      .on(ListPipelineExecutionsCommand, { pipelineName: 'P1' })
      .resolvesOnce({ pipelineExecutionSummaries: [summary('exec-later', 7200)], nextToken: 'page-2' })
      .resolvesOnce({ pipelineExecutionSummaries: [summary('exec-lost', 3), summary('exec-before', -3600)], nextToken: 'page-3' });

    // Act
    const run = await redriveInto(['P1']);

    // Assess
    expect(codePipeline).toHaveReceivedCommandTimes(ListPipelineExecutionsCommand, 2);
    expect(run.members[0]).toMatchObject({ pipelineExecutionId: 'exec-lost', startLost: true });
  });

  it('asks nothing of the history on a first attempt', async () => {
    // Act
    await core(stepInput({ index: 0, phase: 'start', members: [] }, { order: ['P1'], count: 1 }));

    // Assess
    expect(stepFunctions).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, { name: 'P1' });
  });
});
