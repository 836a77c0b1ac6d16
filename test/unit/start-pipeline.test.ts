import 'aws-sdk-client-mock-jest';
import {
  CodePipelineClient,
  ListPipelineExecutionsCommand,
  PipelineNotFoundException,
  type PipelineExecutionStatus,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/start-pipeline.js';
import { clientRequestToken } from '../../src/client-token.js';
import { useClock } from '../../src/clock.js';
import { awsError, execution, stepInput, tracked, useStageConfig } from '../support/fixtures.js';
import { pendingMember } from '../../src/start.js';
import { eventsOnTheWay, taskEvents } from '../../src/history-budget.js';

const codePipeline = mockClient(CodePipelineClient);
const dynamo = mockClient(DynamoDBClient);
const now = '2026-01-01T10:00:00.000Z';

beforeEach(() => {
  codePipeline.reset();
  dynamo.reset();
  dynamo.on(PutItemCommand).resolves({});
  process.env.COMPLETION_TABLE_NAME = 'start-pipeline-test';
  useStageConfig();
  useClock({ now: () => Date.parse(now) });
  codePipeline.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'exec-new' });
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
});

const startAt = (index: number, planOverrides = {}) => core(stepInput({ index, members: [], phase: 'start' }, planOverrides));

describe('start-pipeline', () => {
  it('starts the pipeline at run.index and watches it from now', async () => {
    const run = await startAt(1);

    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, {
      name: 'P2',
      clientRequestToken: clientRequestToken(execution.id, 1, 0, 0),
    });
    expect(run).toMatchObject({ phase: 'watch', waitSeconds: 30 });
    expect(run.members).toEqual([
      expect.objectContaining({
        position: 1,
        member: 0,
        pipelineName: 'P2',
        attempt: 0,
        pipelineExecutionId: 'exec-new',
        status: 'InProgress',
        startedAt: now,
        watchedSince: now,
        deadline: '2026-01-02T10:00:00.000Z',
        nextLookAt: '2026-01-01T10:00:30.000Z',
        polls: 0,
        supersededExecutionIds: [],
      }),
    ]);
  });

  it('starts every member of a group at once, each with its own token', async () => {
    codePipeline.on(StartPipelineExecutionCommand, { name: 'P3' }).resolves({ pipelineExecutionId: 'exec-p3' });

    const run = await core(stepInput({ index: 1, members: [], phase: 'start' }, { order: ['P1', ['P2', 'P3']], count: 2 }));

    expect(run.members.map((member) => [member.pipelineName, member.member, member.pipelineExecutionId])).toEqual([
      ['P2', 0, 'exec-new'],
      ['P3', 1, 'exec-p3'],
    ]);
    const tokens = codePipeline.commandCalls(StartPipelineExecutionCommand).map((call) => call.args[0].input.clientRequestToken);
    expect(tokens).toEqual([clientRequestToken(execution.id, 1, 0, 0), clientRequestToken(execution.id, 1, 1, 0)]);
  });

  it('restarts only the pending members (a redrive), with the attempt in the token, and keeps the others', async () => {
    const succeeded = tracked({ member: 1, pipelineName: 'P3', status: 'Succeeded', pipelineExecutionId: 'exec-p3' });

    const run = await core(
      stepInput({ index: 1, phase: 'start', members: [pendingMember(1, 0, 'P2', 1), succeeded] }, { order: ['P1', ['P2', 'P3']], count: 2 }),
    );

    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 1);
    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, { name: 'P2', clientRequestToken: clientRequestToken(execution.id, 1, 0, 1) });
    expect(run.members[1]).toEqual(succeeded);
  });

  it('derives the token from the train’s first execution, so a continued run sends the same one', async () => {
    const origin = { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:first', executionName: 'first' };

    await core(stepInput({ index: 1, members: [], phase: 'start', origin, generation: 3 }));

    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, { clientRequestToken: clientRequestToken(origin.executionArn, 1, 0, 0) });
  });

  it.each([
    ['the execution an earlier attempt started, back by its token', [{ pipelineExecutionId: 'exec-new', status: 'InProgress' as const, startTime: new Date(Date.parse(now) - 8_000) }], '2026-01-01T09:59:52.000Z'],
    ['an execution CodePipeline does not list yet', [], now],
  ])('a retried start times %s from when CodePipeline started it', async (_case, listed, startedAt) => {
    codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: listed });

    const run = await core(stepInput({ index: 1, members: [], phase: 'start' }, { completion: 'events' }, { retryCount: 1 }));

    expect(run.members[0]).toMatchObject({ startedAt, watchedSince: now, deadline: new Date(Date.parse(startedAt) + 86_400_000).toISOString() });
  });

  it('counts its own history events and the states on the way to the next look', async () => {
    const run = await core(stepInput({ index: 1, members: [], phase: 'start', history: { events: 200, pending: 4 } }, {}, { retryCount: 1 }));

    expect(run.history).toEqual({ events: 200 + 4 + taskEvents(1), pending: eventsOnTheWay.startedToWatch });
  });

  it('passes only this pipeline’s variables, as CodePipeline name/value pairs', async () => {
    await startAt(1, { variables: { P2: { ENV: 'prod', REGION: 'eu-west-1' }, P1: { OTHER: 'x' } } });

    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, {
      name: 'P2',
      variables: [
        { name: 'ENV', value: 'prod' },
        { name: 'REGION', value: 'eu-west-1' },
      ],
    });
  });

  it('sends no variables field for a pipeline without variables', async () => {
    await startAt(0);

    const [command] = codePipeline.commandCalls(StartPipelineExecutionCommand);
    expect(command!.args[0].input).not.toHaveProperty('variables');
  });

  it('sends the same token when the task is retried, and a different one for another position', async () => {
    await startAt(1);
    await startAt(1);
    await startAt(2);

    const tokens = codePipeline.commandCalls(StartPipelineExecutionCommand).map((call) => call.args[0].input.clientRequestToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  it('learns the expected duration from recent successful executions and sleeps until 10% before the fastest', async () => {
    const run = (startSeconds: number, seconds: number, status: PipelineExecutionStatus = 'Succeeded') => ({
      pipelineExecutionId: `past-${startSeconds}`,
      status,
      startTime: new Date(startSeconds * 1000),
      lastUpdateTime: new Date((startSeconds + seconds) * 1000),
    });
    codePipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [run(0, 3000), run(10_000, 3200), run(20_000, 60, 'Failed')],
    });

    const { members, waitSeconds } = await startAt(1, { polling: { pollSeconds: 30, maxPollSeconds: 3600 } });

    expect(members[0]!.expected).toEqual({ fastestSeconds: 3000, slowestSeconds: 3200, samples: 2 });
    expect(waitSeconds).toBe(2670);
  });

  it('with completion: events reads no history: the run looks at the end or the deadline, so only polling needs the typical duration', async () => {
    const { members, wait } = await startAt(1, { completion: 'events' });

    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 1);
    expect(codePipeline).not.toHaveReceivedCommand(ListPipelineExecutionsCommand);
    expect(members[0]).not.toHaveProperty('expected');
    expect(members[0]!.nextLookAt).toBe(members[0]!.deadline);
    // The watch is written before the run parks, so an early end still finds it.
    expect(dynamo).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'start-pipeline-test' });
    expect(wait).toMatchObject({ seq: 1 });
  });

  describe('a group whose start is refused for one member after another started', () => {
    const group = { order: ['P1', ['P2', 'P3']], count: 2 };

    it('keeps the started member and records the refusal on the other, instead of failing the Task and losing the execution it started', async () => {
      // Prepare: P2 starts, P3 is refused for good.
      codePipeline.on(StartPipelineExecutionCommand, { name: 'P3' }).rejects(awsError('ValidationException', 400));

      // Act
      const run = await core(stepInput({ index: 1, members: [], phase: 'start' }, group));

      // Assess: P2 is watched with its execution; P3 ended, by name, with a cause naming it.
      expect(run.phase).toBe('watch');
      expect(run.members.map((member) => [member.pipelineName, member.status, member.pipelineExecutionId])).toEqual([
        ['P2', 'InProgress', 'exec-new'],
        ['P3', 'NotStarted', undefined],
      ]);
      expect(run.members[1]).toMatchObject({
        error: 'AwsRequestRejected',
        cause: expect.stringMatching(/^P3 \(position 2 of 2, in a group of 2\) was not started: StartPipelineExecution P3: ValidationException/),
        detectedAt: now,
      });
    });

    it('still fails the Task on a failure a retry may mend: the retry sends the same tokens within minutes', async () => {
      codePipeline.on(StartPipelineExecutionCommand, { name: 'P3' }).rejects(awsError('ThrottlingException', 400));

      await expect(core(stepInput({ index: 1, members: [], phase: 'start' }, group))).rejects.toMatchObject({ name: 'AwsUnavailable' });
    });

    it('still fails the Task when nothing of the entry runs: no execution to lose', async () => {
      codePipeline.on(StartPipelineExecutionCommand).rejects(awsError('ValidationException', 400));

      await expect(core(stepInput({ index: 1, members: [], phase: 'start' }, group))).rejects.toMatchObject({ name: 'AwsRequestRejected' });
    });

    it('keeps a member already running from before (a redrive restarting the other) when the restart is refused', async () => {
      codePipeline.on(StartPipelineExecutionCommand, { name: 'P2' }).rejects(new PipelineNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400 } }));
      const running = tracked({ member: 1, pipelineName: 'P3', status: 'InProgress', pipelineExecutionId: 'exec-p3' });

      const run = await core(stepInput({ index: 1, phase: 'start', members: [pendingMember(1, 0, 'P2', 1), running] }, group));

      expect(run.members.map((member) => [member.pipelineName, member.status, member.error])).toEqual([
        ['P2', 'NotStarted', 'PipelineNotFound'],
        ['P3', 'InProgress', undefined],
      ]);
    });
  });

  it('reports a deleted pipeline as PipelineNotFound', async () => {
    codePipeline
      .on(StartPipelineExecutionCommand)
      .rejects(new PipelineNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400 } }));

    await expect(startAt(1)).rejects.toMatchObject({ name: 'PipelineNotFound', message: expect.stringContaining("'P2'") });
  });

  it.each([
    ['ThrottlingException', 400, 'AwsUnavailable'],
    ['InternalFailure', 500, 'AwsUnavailable'],
    ['ServiceUnavailable', 503, 'AwsUnavailable'],
    ['ValidationException', 400, 'AwsRequestRejected'],
    ['ConflictException', 409, 'AwsUnavailable'],
    ['ConcurrentPipelineExecutionsLimitExceededException', 400, 'AwsUnavailable'],
    ['TooManyRequestsException', 429, 'AwsUnavailable'],
    ['AccessDeniedException', 400, 'AwsRequestRejected'],
  ])('reports %s (HTTP %i) as %s', async (name, status, expected) => {
    codePipeline.on(StartPipelineExecutionCommand).rejects(awsError(name, status));

    await expect(startAt(1)).rejects.toMatchObject({
      name: expected,
      message: expect.stringContaining(`StartPipelineExecution P2: ${name}`),
    });
  });

  it('refuses an event that is not { plan, run, execution, retryCount, redriveCount }', async () => {
    await expect(core({ plan: {}, run: {} })).rejects.toMatchObject({ name: 'InvalidInput' });
  });
});

describe('clientRequestToken', () => {
  it('fits CodePipeline’s pattern and length for any execution ARN', () => {
    const token = clientRequestToken(`arn:aws:states:us-east-1:123456789012:execution:${'x'.repeat(80)}:${'y'.repeat(80)}`, 99, 9, 99);

    expect(token).toMatch(/^[a-zA-Z0-9-]{1,128}$/);
  });

  it('depends on the first execution, the position, the member and the attempt only', () => {
    expect(clientRequestToken('a', 1, 0, 0)).toBe(clientRequestToken('a', 1, 0, 0));
    expect(clientRequestToken('a', 1)).not.toBe(clientRequestToken('b', 1));
    expect(clientRequestToken('a1', 1)).not.toBe(clientRequestToken('a', 11));
    expect(clientRequestToken('a', 1, 0)).not.toBe(clientRequestToken('a', 1, 1));
    expect(clientRequestToken('a', 1, 0, 0)).not.toBe(clientRequestToken('a', 1, 0, 1));
    expect(clientRequestToken('a', 1, 11, 0)).not.toBe(clientRequestToken('a', 11, 1, 0));
  });
});
