import { closeLocalEngine, LocalEngine } from '../../local/engine.js';
import { ours, world } from './support.js';

afterAll(closeLocalEngine);

describe('a redrive after a group ended with a timed-out and a failed member', () => {
  it('restarts the failed member, watches the timed-out one again, and runs what follows once both succeeded', async () => {
    // Prepare: P2 fails at 10 min, P1 outlives the group's 1 h timeout and succeeds at 2 h.
    const engine = await LocalEngine.create({
      world: world([
        { name: 'P1', durationSeconds: 7200 },
        { name: 'P2', durationSeconds: 600, outcomes: ['Failed', 'Succeeded'] },
        { name: 'P3', durationSeconds: 300 },
      ]),
    });

    // Act
    const report = await engine.run({ input: { order: [['P1', 'P2'], 'P3'], pipelineTimeoutSeconds: 3600 }, redrive: true });

    // Assess
    expect({ status: report.status, error: report.error, cause: report.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    expect(report.redrives).toBe(1);
    const started = ours(report).map((execution) => [execution.pipelineName, execution.status]);
    expect(started).toEqual([
      ['P1', 'Succeeded'],
      ['P2', 'Failed'],
      ['P2', 'Succeeded'],
      ['P3', 'Succeeded'],
    ]);
    const [p1, , p2Again, p3] = ours(report);
    expect(Date.parse(p3!.startedAt)).toBeGreaterThanOrEqual(Math.max(Date.parse(p1!.finishedAt!), Date.parse(p2Again!.finishedAt!)));
  });
});
