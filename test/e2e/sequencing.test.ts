import { closeLocalEngine } from '../../local/engine.js';
import { expectSequential, ours, runOnce, succeeding, world } from './support.js';

afterAll(closeLocalEngine);

describe('the order decided at run time', () => {
  it.each([
    [['P1', 'P2', 'P3']],
    [['P3', 'P2', 'P1']],
    [['P2', 'P3', 'P1']],
  ])('runs %j one after another, each after the previous succeeded', async (order) => {
    const report = await runOnce(world(succeeding('P1', 'P2', 'P3')), { order });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, order);
    expect(ours(report).every((execution) => execution.status === 'Succeeded')).toBe(true);
    const output = report.output as { order: string[]; pipelines: { pipelineName: string; pipelineExecutionId: string; status: string; startedAt: string; finishedAt: string }[] };
    expect(output.order).toEqual(order);
    expect(output.pipelines.map((pipeline) => [pipeline.pipelineName, pipeline.pipelineExecutionId, pipeline.status])).toEqual(
      ours(report).map((execution) => [execution.pipelineName, execution.pipelineExecutionId, 'Succeeded']),
    );
    expect(output.pipelines.map((pipeline) => pipeline.finishedAt)).toEqual(ours(report).map((execution) => execution.finishedAt));
  });

  it("runs a named sequence from the stage's params", async () => {
    const report = await runOnce(world(succeeding('P1', 'P2', 'P3')), { sequence: 'hotfix' });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P2', 'P3', 'P1']);
  });

  it("runs the stage's default sequence when the input names none (what the schedule sends)", async () => {
    const report = await runOnce(world(succeeding('P1', 'P2', 'P3')), { sequence: 'release' }, { stage: 'prod' });

    expectSequential(report, ['P1', 'P2', 'P3']);
  });

  it('hands each pipeline its own variables', async () => {
    // CodePipeline accepts only the variables a pipeline declares.
    const pipelines = succeeding('P1', 'P2', 'P3').map((pipeline) => ({ ...pipeline, variables: [{ name: 'ENV' }, { name: 'TAG', defaultValue: 'latest' }] }));
    const report = await runOnce(world(pipelines), {
      order: ['P1', 'P2'],
      variables: { P1: { ENV: 'prod' }, P2: { ENV: 'staging', TAG: 'v1.2.3' } },
    });

    expect(ours(report).map((execution) => execution.variables)).toEqual([{ ENV: 'prod' }, { ENV: 'staging', TAG: 'v1.2.3' }]);
  });

  it('returns the plan and starts nothing on a dry run', async () => {
    const report = await runOnce(world(succeeding('P1', 'P2', 'P3')), { order: ['P3', 'P1'], dryRun: true });

    expect(report.status).toBe('SUCCEEDED');
    expect(report.output).toMatchObject({ order: ['P3', 'P1'], count: 2, dryRun: true });
    expect(report.world.executions).toEqual([]);
  });
});

describe('a pipeline that does not succeed stops the chain', () => {
  it.each([
    ['Failed', 'PipelineFailed'],
    ['Stopped', 'PipelineStopped'],
    ['Cancelled', 'PipelineCancelled'],
  ])('%s in the middle → %s naming the pipeline, its summary and position; later ones never start', async (outcome, error) => {
    const report = await runOnce(
      world([
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 200, outcome, statusSummary: 'Unit tests failed' },
        { name: 'P3', durationSeconds: 300 },
      ]),
      { order: ['P1', 'P2', 'P3'] },
    );

    expect(report.status).toBe('FAILED');
    expect(report.error).toBe(error);
    const p2 = ours(report)[1]!;
    expect(report.cause).toBe(
      `P2 (position 2 of 3) execution ${p2.pipelineExecutionId} ended ${outcome}: Unit tests failed. Later pipelines were not started.`,
    );
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
  });
});

describe('bad requests fail before anything starts', () => {
  it.each([
    [{ order: ['P1', 'Nope'] }, 'PipelineNotAllowed', 'Nope is not allowed'],
    [{ order: ['P1', 'P1'] }, 'InvalidInput', "order[1]: 'P1' appears twice"],
    [{ oder: ['P1'] }, 'InvalidInput', 'input: unknown field "oder"'],
    [{ order: 'P1' }, 'InvalidInput', 'order: must be an array'],
    [{ sequence: 'nightly' }, 'InvalidInput', "sequence: 'nightly' is not a sequence"],
    ['P1,P2', 'InvalidInput', 'input: must be a JSON object'],
  ])('%j → %s', async (input, error, cause) => {
    const report = await runOnce(world(succeeding('P1', 'P2', 'P3')), input);

    expect(report).toMatchObject({ status: 'FAILED', error, cause: expect.stringContaining(cause) });
    expect(report.world.executions).toEqual([]);
  });

  it("refuses a pipeline the named stage's params do not allow, even when the world has it", async () => {
    const report = await runOnce(world(succeeding('P1', 'P2', 'P3', 'Sandbox')), { order: ['Sandbox'] }, { stage: 'prod' });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineNotAllowed' });
    expect(report.world.executions).toEqual([]);
  });
});
