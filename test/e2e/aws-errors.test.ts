import { closeLocalEngine, LocalEngine, type RunEvent } from '../../local/engine.js';
import { ours, world } from './support.js';

afterAll(closeLocalEngine);

describe('errors AWS really raises', () => {
  it('retries the continuation when Step Functions answers ExecutionLimitExceeded, the name its integration raises', async () => {
    // Prepare: a 4-hour pipeline polled every 30 s passes a 1,000-event handover; the first two starts of the successor are refused.
    const engine = await LocalEngine.create({
      world: world([{ name: 'Long', durationSeconds: 4 * 3600 }, { name: 'After', durationSeconds: 60 }], {
        faults: [{ operation: 'StartExecution', error: 'ExecutionLimitExceeded', count: 2 }],
      }),
      settings: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll', continueAtEvents: 1_000 },
    });
    const events: RunEvent[] = [];

    // Act
    const report = await engine.run({ input: { order: ['Long', 'After'] }, onEvent: (event) => events.push(event) });

    // Assess
    expect({ status: report.status, error: report.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    expect(report.generations.length).toBeGreaterThan(1);
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['Long', 'After']);
    const retried = events.flatMap((event) => (event.type === 'retried' && event.state === 'ContinueAsNewExecution' ? [event.retry?.error] : []));
    expect(retried).toEqual(['StepFunctions.ExecutionLimitExceeded', 'StepFunctions.ExecutionLimitExceeded']);
  }, 120_000);
});
