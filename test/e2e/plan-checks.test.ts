import { closeLocalEngine, LocalEngine } from '../../local/engine.js';
import { ours, runOnce, succeeding, world } from './support.js';

afterAll(closeLocalEngine);

/** Three 300 s pipelines; P3 declares a required RELEASE. */
const declaring = () => [
  { name: 'P1', durationSeconds: 300 },
  { name: 'P2', durationSeconds: 300 },
  { name: 'P3', durationSeconds: 300, variables: [{ name: 'RELEASE' }, { name: 'ENV', defaultValue: 'prod' }] },
];

describe('nothing starts on a plan that cannot finish', () => {
  it.each([
    ['an undeclared variable', { order: ['P1', 'P2', 'P3'], variables: { P3: { RELEASE: '1.0', X: 'y' } } }, "variables.P3.X: pipeline 'P3' declares no variable 'X'"],
    ['a required variable left out', { order: ['P1', 'P2', 'P3'] }, "variables.P3.RELEASE: pipeline 'P3' declares 'RELEASE' without a default value"],
  ])('refuses %s at DecideOrder, before P1 starts; a dry run says the same', async (_case, input, message) => {
    // Act
    const report = await runOnce(world(declaring()), input);
    const dryRun = await runOnce(world(declaring()), { ...input, dryRun: true });

    // Assess
    for (const run of [report, dryRun]) {
      expect(run).toMatchObject({ status: 'FAILED', error: 'InvalidInput', cause: expect.stringContaining(message) });
      expect(ours(run)).toEqual([]);
    }
  });

  it('runs the same train once the variables follow the declarations', async () => {
    // Act
    const report = await runOnce(world(declaring()), { order: ['P1', 'P2', 'P3'], variables: { P3: { RELEASE: '1.0' } } });

    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2', 'P3']);
  });
});

describe('Step Functions\' 256 KiB payload quota, as the engine enforces it', () => {
  it('an input StartExecution takes, just under 256 KiB, fails at DecideOrder with States.DataLimitExceeded: its Task input adds the execution\'s context', async () => {
    // Prepare: 262,100 bytes of input; DecideOrder's Parameters add the execution id, name, times and counts.
    const input = { order: ['P1'], padding: '' };
    input.padding = 'x'.repeat(262_100 - Buffer.byteLength(JSON.stringify(input)));

    // Act
    const report = await runOnce(world(succeeding('P1')), input);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(input))).toBe(262_100);
    expect(report).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(report.cause).toMatch(/^The state\/task 'DecideOrder' has an input with a size exceeding the maximum number of bytes service limit \(262,\d{3} bytes; at most 262,144\)\.$/);
    expect(ours(report)).toEqual([]);
  });
});

describe('decide-order at 100 pipelines against a slow, throttling CodePipeline', () => {
  const names = Array.from({ length: 100 }, (_, index) => `P${index + 1}`);

  it('asks about at most 10 pipelines at once, and decides in one invocation', async () => {
    // Prepare: every GetPipeline answers 200 ms late; one after another that is 20 s, past the 18 s the function has.
    const engine = await LocalEngine.create({
      world: world(succeeding(...names), { faults: [{ operation: 'GetPipeline', latencyMs: 200, count: 100 }] }),
    });

    // Act
    const report = await engine.run({ input: { order: names, dryRun: true } });

    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.stats.lambdaInvocations).toBe(1);
    expect(engine.emulator.callCounts().GetPipeline).toBe(100);
    expect(engine.emulator.mostInFlight().GetPipeline).toBeGreaterThan(1);
    expect(engine.emulator.mostInFlight().GetPipeline).toBeLessThanOrEqual(10);
  });

  it('absorbs a burst of throttling within the one invocation', async () => {
    // Prepare: 20 throttled answers in a row. Asked one by one, the first pipeline alone would take 4 of them and fail the invocation.
    const engine = await LocalEngine.create({
      world: world(succeeding(...names), {
        faults: [
          { operation: 'GetPipeline', error: 'ThrottlingException', latencyMs: 20, count: 20 },
          { operation: 'GetPipeline', latencyMs: 20, count: 100 },
        ],
      }),
    });

    // Act
    const report = await engine.run({ input: { order: names, dryRun: true } });

    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.stats.lambdaInvocations).toBe(1);
    expect(engine.emulator.callCounts().GetPipeline).toBe(120);
  });
});
