import {
  CodePipelineClient,
  ListPipelineExecutionsCommand,
  PipelineNotFoundException,
  type PipelineExecutionStatus,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/start-pipeline.js';
import { clientRequestToken } from '../../src/client-token.js';
import { useClock } from '../../src/clock.js';
import { awsError, execution, stepInput } from '../support/fixtures.js';

const codePipeline = mockClient(CodePipelineClient);
const now = '2026-01-01T10:00:00.000Z';

beforeEach(() => {
  codePipeline.reset();
  useClock({ now: () => Date.parse(now) });
  codePipeline.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'exec-new' });
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
});

const startAt = (index: number, planOverrides = {}) => core(stepInput({ index, current: undefined }, planOverrides));

describe('start-pipeline', () => {
  it('starts the pipeline at run.index and watches it from now', async () => {
    const run = await startAt(1);

    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, {
      name: 'P2',
      clientRequestToken: clientRequestToken(execution.id, 1),
    });
    expect(run.current).toMatchObject({
      position: 1,
      pipelineName: 'P2',
      pipelineExecutionId: 'exec-new',
      status: 'InProgress',
      startedAt: now,
      watchedSince: now,
      polls: 0,
      waitSeconds: 30,
      supersededExecutionIds: [],
    });
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

    const { current } = await startAt(1, { polling: { pollSeconds: 30, maxPollSeconds: 3600 } });

    expect(current!.expected).toEqual({ fastestSeconds: 3000, slowestSeconds: 3200, samples: 2 });
    expect(current!.waitSeconds).toBe(2670);
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

  it('refuses an event that is not { plan, run, execution }', async () => {
    await expect(core({ plan: {}, run: {} })).rejects.toMatchObject({ name: 'InvalidInput' });
  });
});

describe('clientRequestToken', () => {
  it('fits CodePipeline’s pattern and length for any execution ARN', () => {
    const token = clientRequestToken(`arn:aws:states:us-east-1:123456789012:execution:${'x'.repeat(80)}:${'y'.repeat(80)}`, 99);

    expect(token).toMatch(/^[a-zA-Z0-9-]{1,128}$/);
  });

  it('depends on the execution and the position only', () => {
    expect(clientRequestToken('a', 1)).toBe(clientRequestToken('a', 1));
    expect(clientRequestToken('a', 1)).not.toBe(clientRequestToken('b', 1));
    expect(clientRequestToken('a1', 1)).not.toBe(clientRequestToken('a', 11));
  });
});
