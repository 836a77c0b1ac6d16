import { closeLocalEngine, LocalEngine, type RunReport } from '../../local/engine.js';
import { executionArnPrefix } from '../../src/continuation.js';
import type { PipelineResult } from '../../src/run.js';
import { ours, untilEnded, world } from './support.js';

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
    // What the summary and --json tell of the attempt the redrive followed.
    expect(report.earlierAttempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'FAILED', error: 'PipelineFailed', state: 'CheckPipelines', pipelines: ['P1', 'P2'] }),
    ]);
    expect(report.earlierAttempts[0]!.cause).toContain('P2 (position 1 of 2, in a group of 2) execution');
    expect(report.earlierAttempts[0]!.redrivenAt).toBeGreaterThanOrEqual(report.earlierAttempts[0]!.endedAt);
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

describe('a redrive hours after the failure', () => {
  it('notices at once, by its first look, the end that came while the run stood failed, and restarts only the failed member', async () => {
    // Prepare: P2 fails at 10 min, P1 outlives the group's 1 h timeout and succeeds at 2 h; the redrive comes at 4 h.
    const engine = await LocalEngine.create({
      world: world([
        { name: 'P1', durationSeconds: 7200 },
        { name: 'P2', durationSeconds: 600, outcomes: ['Failed', 'Succeeded'] },
      ]),
    });
    let redrivenAt = 0;

    // Act
    const report = await engine.run({
      input: { order: [['P1', 'P2']], pipelineTimeoutSeconds: 3600 },
      redrive: true,
      redriveAfterSeconds: 3 * 3600,
      onEvent: (event) => {
        if (event.type === 'redriven') redrivenAt = event.at;
      },
    });

    // Assess
    expect({ status: report.status, redrives: report.redrives }).toEqual({ status: 'SUCCEEDED', redrives: 1 });
    expect(redrivenAt - Date.parse(ours(report)[0]!.startedAt)).toBeGreaterThanOrEqual(4 * 3600 * 1000);
    const p1 = (report.output as { pipelines: PipelineResult[] }).pipelines.find((result) => result.pipelineName === 'P1')!;
    expect(p1.detectedBy).toBe('redrive');
    expect(Date.parse(p1.detectedAt!) - redrivenAt).toBeLessThanOrEqual(1000);
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2', 'P2']);
    // As DescribeExecution tells it: succeeded after one redrive, with nothing left of the failure.
    const described = engine.emulator.stepFunctions.execution(`${executionArnPrefix(engine.stateMachineArn)}${report.executionName}`)!;
    expect(described).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveDate: redrivenAt });
    expect({ error: described.error, cause: described.cause }).toEqual({ error: undefined, cause: undefined });
  });
});

describe('a redrive after someone retried the failed stage in CodePipeline', () => {
  it.each(['events', 'poll'] as const)('starts nothing twice: a group member retried since the run saw it fail is watched, or taken as succeeded (%s)', async (completion) => {
    // Prepare: A fails at 10 min and is retried at 26 min; L runs 2 h, so the run fails when L ends.
    const pipelines = (retrySeconds: number) =>
      world([
        { name: 'A', durationSeconds: 600, outcome: 'Failed', retry: { afterSeconds: 1000, durationSeconds: retrySeconds } },
        { name: 'L', durationSeconds: 7200 },
        { name: 'B', durationSeconds: 300 },
      ]);

    for (const [retrySeconds, atTheRedrive] of [
      [10_000, 'running again'],
      [1_000, 'succeeded'],
    ] as const) {
      const engine = await LocalEngine.create({ world: pipelines(retrySeconds), settings: { completion } });

      // Act: redriven at once, when L ended.
      const report = await engine.run({ input: { order: [['A', 'L'], 'B'] }, redrive: true });

      // Assess: A was started once, and B after A's retry succeeded.
      expect({ atTheRedrive, status: report.status, redrives: report.redrives }).toEqual({ atTheRedrive, status: 'SUCCEEDED', redrives: 1 });
      expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['A', 'L', 'B']);
      const [a, , b] = ours(report);
      expect(Date.parse(b!.startedAt)).toBeGreaterThanOrEqual(Date.parse(a!.finishedAt!));
    }
  });

  it.each(['events', 'poll'] as const)('does not blame a member retried to success before the redrive when the member it restarted fails again (%s)', async (completion) => {
    // Prepare: A fails at 10 min and is retried to success by 43 min; L fails at 2 h, and fails again when the redrive restarts it.
    const engine = await LocalEngine.create({
      world: world([
        { name: 'A', durationSeconds: 600, outcome: 'Failed', statusSummary: 'A broke once', retry: { afterSeconds: 1000, durationSeconds: 1000 } },
        { name: 'L', durationSeconds: 7200, outcome: 'Failed', statusSummary: 'L broke' },
      ]),
      settings: { completion },
    });

    // Act
    const report = await engine.run({ input: { order: [['A', 'L']] }, redrive: true });

    // Assess
    expect({ status: report.status, error: report.error, redrives: report.redrives }).toEqual({ status: 'FAILED', error: 'PipelineFailed', redrives: 1 });
    expect(report.cause).toMatch(/^L \(position 1 of 1, in a group of 2\) execution \S+ ended Failed: L broke/);
    expect(report.cause).not.toContain('A broke once');
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['A', 'L', 'L']);
  });

  it('notices by its event the end of a pipeline retried since the run failed on it, rather than at its deadline', async () => {
    // Prepare: A fails at 10 min and the run fails; someone retries A at 1 h (20 min), and the redrive comes at once.
    const engine = await LocalEngine.create({
      world: world([
        { name: 'A', durationSeconds: 600, outcome: 'Failed', retry: { afterSeconds: 3000, durationSeconds: 1200 } },
        { name: 'B', durationSeconds: 300 },
      ]),
    });

    // Act
    const report = await engine.run({ input: { order: ['A', 'B'] }, redrive: true, redriveAfterSeconds: 3000 });

    // Assess
    expect({ status: report.status, redrives: report.redrives }).toEqual({ status: 'SUCCEEDED', redrives: 1 });
    const [a] = (report.output as { pipelines: PipelineResult[] }).pipelines;
    expect(a!.detectedBy).toBe('event');
    expect((Date.parse(a!.detectedAt!) - Date.parse(a!.finishedAt!)) / 1000).toBeLessThanOrEqual(2);
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['A', 'B']);
  });
});

describe('a redrive that watches a pipeline again after its timeout', () => {
  const day = 86_400;
  const results = (report: RunReport) => (report.output as { pipelines: PipelineResult[] }).pipelines;

  it.each([
    ['redriven at once, soon after the old deadline', 4.5 * day, 0],
    ['redriven 13 days on, ending after its first watch expired (kept 15 days past the old deadline): the redrive watched it again', 18.5 * day, 13 * day],
  ])('notices its end by the event: %s', async (_, durationSeconds, redriveAfterSeconds) => {
    // Prepare: a 3-day timeout; the pipeline runs on, and the redrive gives it 3 days more.
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds }]) });

    // Act
    const report = await engine.run({ input: { order: ['P1'], pipelineTimeoutSeconds: 3 * day }, redrive: true, redriveAfterSeconds });

    // Assess
    expect({ status: report.status, redrives: report.redrives }).toEqual({ status: 'SUCCEEDED', redrives: 1 });
    const [result] = results(report);
    expect(result!.detectedBy).toBe('event');
    expect((Date.parse(result!.detectedAt!) - Date.parse(result!.finishedAt!)) / 1000).toBeLessThanOrEqual(2);
    expect(ours(report)).toHaveLength(1);
  });
});

describe('a redrive of a run stopped while it waited for an end', () => {
  /** Runs P1 (10 min), stops the execution `stopAfterSeconds` (2 min) in, while it waits, then redrives it `standStoppedSeconds` later. */
  async function stopThenRedrive(
    standStoppedSeconds: number,
    {
      outcomes = ['Succeeded'],
      completion = 'events',
      durationSeconds = 600,
      stopAfterSeconds = 120,
      pipelineTimeoutSeconds,
    }: { outcomes?: string[]; completion?: 'events' | 'poll'; durationSeconds?: number; stopAfterSeconds?: number; pipelineTimeoutSeconds?: number } = {},
  ) {
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds, outcomes }]), settings: { completion } });
    const controller = new AbortController();
    const stopped = await engine.run({
      input: { order: ['P1'], ...(pipelineTimeoutSeconds !== undefined && { pipelineTimeoutSeconds }) },
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'started') engine.clock.schedule(event.at + stopAfterSeconds * 1000, () => controller.abort());
      },
    });
    const arn = `${executionArnPrefix(engine.stateMachineArn)}${stopped.executionName}`;
    const leaveClock = engine.clock.join();
    await engine.clock.sleep(standStoppedSeconds);
    leaveClock();
    const redrivenAt = engine.clock.now();
    expect(engine.redriveExecution(arn)).toBe(true);
    const described = await untilEnded(engine, arn);
    const [p1] = described.output === undefined ? [] : (JSON.parse(described.output) as { pipelines: PipelineResult[] }).pipelines;
    return { stopped, described, p1: p1!, redrivenAt, started: engine.emulator.executions().filter((execution) => execution.startedBy === 'sequencer') };
  }

  it('credits the event with an end that came after the redrive, the run having parked again', async () => {
    // Act: redriven at once, 2 min in; P1 ends 8 min later.
    const { stopped, described, p1, redrivenAt } = await stopThenRedrive(0);

    // Assess
    expect(stopped.status).toBe('ABORTED');
    expect(described.status).toBe('SUCCEEDED');
    expect(Date.parse(p1.finishedAt!)).toBeGreaterThan(redrivenAt);
    expect(p1.detectedBy).toBe('event');
    expect((Date.parse(p1.detectedAt!) - Date.parse(p1.finishedAt!)) / 1000).toBeLessThanOrEqual(2);
  });

  it('notices by its event an end after a redrive that came days after the deadline, within the redrive window', async () => {
    // Act: a 1-day timeout, a 4-day pipeline; stopped 2 min in and redriven 3.5 days later, when
    // items kept only two days past the deadline had expired.
    const day = 86_400;
    const { described, p1, redrivenAt } = await stopThenRedrive(3.5 * day, { durationSeconds: 4 * day, pipelineTimeoutSeconds: day });

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(Date.parse(p1.finishedAt!)).toBeGreaterThan(redrivenAt);
    expect(p1.detectedBy).toBe('event');
    expect((Date.parse(p1.detectedAt!) - Date.parse(p1.finishedAt!)) / 1000).toBeLessThanOrEqual(2);
  });

  it('polled, credits the poll with an end that came after the redrive, within the Wait the redrive ran again', async () => {
    // Act: a 3-hour pipeline, polled every 10 min by then; stopped 2 min before its end and redriven at once.
    const { described, p1, redrivenAt } = await stopThenRedrive(0, { completion: 'poll', durationSeconds: 3 * 3600, stopAfterSeconds: 3 * 3600 - 120 });

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(Date.parse(p1.finishedAt!)).toBeGreaterThan(redrivenAt);
    expect(p1.detectedBy).toBe('poll');
  });

  it('credits the redrive with an end that came while the run stood stopped', async () => {
    // Act: redriven an hour in; P1 ended at 10 min.
    const { described, p1, redrivenAt } = await stopThenRedrive(3600);

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(Date.parse(p1.finishedAt!)).toBeLessThan(redrivenAt);
    expect(p1.detectedBy).toBe('redrive');
    expect(Date.parse(p1.detectedAt!) - redrivenAt).toBeLessThanOrEqual(1000);
  });

  it.each(['events', 'poll'] as const)('fails the run, restarting nothing, when the pipeline fails after the redrive (%s)', async (completion) => {
    // Act: redriven at once, 2 min before P1 fails (which would succeed if started again). Polled,
    // a 3-hour pipeline: the Wait the redrive runs again is long enough to hold the failure.
    const timing = completion === 'poll' ? { durationSeconds: 3 * 3600, stopAfterSeconds: 3 * 3600 - 120 } : { stopAfterSeconds: 480 };
    const { described, started, redrivenAt } = await stopThenRedrive(0, { outcomes: ['Failed', 'Succeeded'], completion, ...timing });

    // Assess: the failure is the run's, as it would have been without the stop.
    expect({ status: described.status, error: described.error }).toEqual({ status: 'FAILED', error: 'PipelineFailed' });
    expect(started.map((execution) => [execution.pipelineName, execution.status])).toEqual([['P1', 'Failed']]);
    expect(Date.parse(started[0]!.finishedAt!)).toBeGreaterThan(redrivenAt);
  });

  it('restarts the pipeline that failed while the run stood stopped: that is what the redrive is for', async () => {
    // Act: redriven an hour in; P1 failed at 10 min.
    const { described, started, redrivenAt } = await stopThenRedrive(3600, { outcomes: ['Failed', 'Succeeded'] });

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(started.map((execution) => [execution.pipelineName, execution.status])).toEqual([
      ['P1', 'Failed'],
      ['P1', 'Succeeded'],
    ]);
    expect(Date.parse(started[0]!.finishedAt!)).toBeLessThan(redrivenAt);
  });
});
