import { closeLocalEngine } from '../../local/engine.js';
import type { PipelineResult } from '../../src/run.js';
import { ours, runOnce, startTime, world } from './support.js';

afterAll(closeLocalEngine);

const secondsAfterStart = (iso: string | null) => (Date.parse(iso!) - Date.parse(startTime)) / 1000;
const pipelinesOf = (output: unknown) => (output as { pipelines: PipelineResult[] }).pipelines;

/*
 * The execution modes as AWS defines them, through the whole engine: stages are locked in
 * SUPERSEDED and QUEUED mode, a waiting execution is superseded only by a newer one reaching the
 * same stage boundary, and PARALLEL locks nothing. P1 has a Source stage of 30 s and a Build
 * stage of 270 s; someone else's execution holds Build until 1200 s.
 */
const busy = (executionMode: string, extra: Record<string, unknown> = {}) =>
  world([{ name: 'P1', durationSeconds: 300, executionMode, inProgressAtStart: { remainingSeconds: 1200 }, ...extra }]);

describe('a pipeline already in progress when its turn comes, as AWS runs it', () => {
  it.each(['SUPERSEDED', 'QUEUED'])(
    '%s mode: ours waits in front of the stage theirs holds, nobody is superseded, and we report on ours',
    async (executionMode) => {
      const report = await runOnce(busy(executionMode), { order: ['P1'] });

      const [result] = pipelinesOf(report.output);
      const theirs = report.world.executions.find((execution) => execution.startedBy === 'world')!;
      expect(report.status).toBe('SUCCEEDED');
      expect(result!.pipelineExecutionId).toBe(ours(report)[0]!.pipelineExecutionId);
      expect(theirs).toMatchObject({ status: 'Succeeded', finishedAt: new Date(Date.parse(startTime) + 1200_000).toISOString() });
      // Build only once theirs has left it: 1200 s + 270 s.
      expect(secondsAfterStart(result!.finishedAt!)).toBeCloseTo(1470, -1);
    },
  );

  it('PARALLEL mode: ours runs beside theirs in its own time', async () => {
    const report = await runOnce(busy('PARALLEL'), { order: ['P1'] });

    const [result] = pipelinesOf(report.output);
    expect(secondsAfterStart(result!.finishedAt!) - secondsAfterStart(result!.startedAt!)).toBe(300);
  });

  it('SUPERSEDED mode: a newer change supersedes ours while it waits, and the sequencer follows the newer one', async () => {
    const report = await runOnce(
      busy('SUPERSEDED', { outcome: 'Superseded', supersededBy: { durationSeconds: 300, statusSummary: 'newer change' } }),
      { order: ['P1'] },
    );

    const [result] = pipelinesOf(report.output);
    const started = ours(report)[0]!;
    const newer = report.world.executions.find(
      (execution) => execution.startedBy === 'world' && Date.parse(execution.startedAt) > Date.parse(started.startedAt),
    )!;
    expect(report.status).toBe('SUCCEEDED');
    expect(started.status).toBe('Superseded');
    // Superseded at the boundary: after ours finished its Source stage, never inside it.
    expect(secondsAfterStart(started.finishedAt) - secondsAfterStart(started.startedAt)).toBeGreaterThanOrEqual(30);
    expect(result).toMatchObject({ pipelineExecutionId: newer.pipelineExecutionId, supersededExecutionIds: [started.pipelineExecutionId] });
    // The newer one, too, waits for Build until theirs has left it.
    expect(secondsAfterStart(newer.finishedAt)).toBeGreaterThan(1200);
  });
});
