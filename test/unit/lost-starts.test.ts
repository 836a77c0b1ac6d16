import { CodePipelineClient, ListPipelineExecutionsCommand, StartPipelineExecutionCommand, type PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/start-pipeline.js';
import { useClock } from '../../src/clock.js';
import { failedStartWindow } from '../../src/lost-starts.js';
import { pendingMember } from '../../src/start.js';
import { execution, stepInput, useStageConfig } from '../support/fixtures.js';

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

/** The history, one event a line: `[second, type, state name]`, oldest first. */
function history(lines: [number, string, string?][]): HistoryEvent[] {
  return lines.map(([second, type, name], index) => ({
    id: index + 1,
    timestamp: at(second),
    type,
    ...(name !== undefined && (type.endsWith('StateEntered') ? { stateEnteredEventDetails: { name } } : { stateExitedEventDetails: { name } })),
  })) as HistoryEvent[];
}

/** P1 succeeded; P2's start failed on its first try and on each of three retries, then the execution failed; now redriven. */
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

describe('the failed attempt, read from the history', () => {
  it('runs from StartPipelines\' first entry to the failure, reading backwards without the data', async () => {
    // Act
    const window = await failedStartWindow(execution.id);

    // Assess
    expect(window).toEqual({ from: at(2).getTime(), to: at(53).getTime() });
    expect(stepFunctions).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: execution.id, reverseOrder: true, includeExecutionData: false });
  });

  it('reaches back through an earlier redrive that failed in StartPipelines too', async () => {
    // Prepare
    const twice = history([
      [0, 'ChoiceStateExited', 'MorePipelines?'],
      [2, 'TaskStateEntered', 'StartPipelines'],
      [25, 'LambdaFunctionTimedOut'],
      [25, 'ExecutionFailed'],
      [600, 'ExecutionRedriven'],
      [600, 'TaskStateEntered', 'StartPipelines'],
      [620, 'LambdaFunctionTimedOut'],
      [620, 'ExecutionTimedOut'],
      [redriveTime, 'ExecutionRedriven'],
      [redriveTime, 'TaskStateEntered', 'StartPipelines'],
    ]);
    stepFunctions.on(GetExecutionHistoryCommand).resolves({ events: [...twice].reverse() });

    // Act
    const window = await failedStartWindow(execution.id);

    // Assess
    expect(window).toEqual({ from: at(2).getTime(), to: at(620).getTime() });
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
    const window = await failedStartWindow(execution.id);

    // Assess
    expect(window).toBeUndefined();
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
    codePipeline.on(ListPipelineExecutionsCommand, { pipelineName: 'P2' }).resolves({ pipelineExecutionSummaries: [summary('exec-b', 40), summary('exec-a', 3)] });

    // Act
    const attempt = redriveInto([['P1', 'P2']]);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'StartAmbiguous' });
    await expect(attempt).rejects.toThrow(/^P2 \(position 1 of 1, in a group of 2\): the redrive found 2 executions .*exec-b .*exec-a .*started nothing/);
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
