import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionNotFoundException,
  type PipelineExecutionStatus,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/check-status.js';
import { useClock } from '../../src/clock.js';
import { awsError, stepInput, tracked } from '../support/fixtures.js';

const codePipeline = mockClient(CodePipelineClient);
const started = Date.parse('2026-01-01T00:00:00.000Z');
let nowMs = started;

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

beforeEach(() => {
  codePipeline.reset();
  nowMs = started + 600_000;
  useClock({ now: () => nowMs });
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary('exec-p2', 0, 590)] });
});

describe('check-status: still running', () => {
  it.each(['InProgress', 'Stopping'] as const)('%s: counts the poll and waits again', async (status) => {
    statusIs('exec-p2', status);

    const run = await core(stepInput({ current: tracked({ polls: 3 }) }));

    expect(run.current).toMatchObject({ status, polls: 4, waitSeconds: 60 });
    expect(run.results).toEqual([]);
    expect(codePipeline).toHaveReceivedCommandWith(GetPipelineExecutionCommand, { pipelineName: 'P2', pipelineExecutionId: 'exec-p2' });
  });

  it('fails with PipelineTimedOut past the timeout, and does not stop the pipeline', async () => {
    statusIs('exec-p2', 'InProgress');
    nowMs = started + 7200_000;

    const run = await core(stepInput({}, { pipelineTimeoutSeconds: 3600 }));

    expect(run.current).toMatchObject({ status: 'TimedOut', error: 'PipelineTimedOut' });
    expect(run.current!.cause).toContain('P2 (position 2 of 3) execution exec-p2 is still InProgress after 7200 s');
    expect(run.current!.cause).toContain('left running');
    expect(codePipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(1);
  });

  it('never waits past the timeout', async () => {
    statusIs('exec-p2', 'InProgress');
    nowMs = started + 3590_000;

    const run = await core(stepInput({}, { pipelineTimeoutSeconds: 3600 }));

    expect(run.current!.waitSeconds).toBe(10);
  });
});

describe('check-status: succeeded', () => {
  it('appends the result with CodePipeline’s own end time and when we noticed it', async () => {
    statusIs('exec-p2', 'Succeeded');
    const earlier = { position: 0, pipelineName: 'P3', pipelineExecutionId: 'exec-p3', status: 'Succeeded', startedAt: 'a', finishedAt: 'b', detectedAt: 'c', polls: 2, supersededExecutionIds: [] };

    const run = await core(stepInput({ results: [earlier], current: tracked({ polls: 4 }) }));

    expect(run.index).toBe(1);
    expect(run.results).toEqual([
      earlier,
      {
        position: 1,
        pipelineName: 'P2',
        pipelineExecutionId: 'exec-p2',
        status: 'Succeeded',
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:09:50.000Z',
        detectedAt: '2026-01-01T00:10:00.000Z',
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
  ] as const)('%s → %s, naming pipeline, execution, summary and position', async (status, error) => {
    statusIs('exec-p2', status, 'Unit tests failed');

    const run = await core(stepInput());

    expect(run.results).toEqual([]);
    expect(run.current).toMatchObject({ status, error });
    expect(run.current!.cause).toBe(
      `P2 (position 2 of 3) execution exec-p2 ended ${status}: Unit tests failed. Later pipelines were not started.`,
    );
  });

  it('says so when CodePipeline gave no statusSummary', async () => {
    statusIs('exec-p2', 'Failed');

    const run = await core(stepInput());

    expect(run.current!.cause).toContain('CodePipeline gave no statusSummary');
  });

  it('treats a status it does not know as a failure rather than waiting forever', async () => {
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Exploded' as PipelineExecutionStatus } });

    const run = await core(stepInput());

    expect(run.current).toMatchObject({ status: 'Exploded', error: 'PipelineFailed' });
    expect(run.current!.cause).toContain('unexpected status');
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

    expect(run.current).toMatchObject({
      pipelineExecutionId: 'newest',
      status: 'InProgress',
      supersededExecutionIds: ['exec-p2', 'newer'],
      watchedSince: '2026-01-01T00:08:20.000Z',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('records both executions when the newer one succeeds', async () => {
    statusIs('newer', 'Succeeded');

    const run = await core(stepInput());

    expect(run.results[0]).toMatchObject({ pipelineExecutionId: 'newer', status: 'Succeeded', supersededExecutionIds: ['exec-p2'] });
  });

  it('fails with PipelineSuperseded when the plan says fail', async () => {
    const run = await core(stepInput({}, { onSuperseded: 'fail' }));

    expect(run.current).toMatchObject({ status: 'Superseded', error: 'PipelineSuperseded' });
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 1);
  });

  it('fails with PipelineSuperseded when no newer execution can be found', async () => {
    codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary('exec-p2', 0, 300, 'Superseded')] });

    const run = await core(stepInput());

    expect(run.current).toMatchObject({ error: 'PipelineSuperseded', pipelineExecutionId: 'exec-p2' });
  });
});
