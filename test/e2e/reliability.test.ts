import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { closeLocalEngine, LocalEngine, type RunEvent, type RunReport } from '../../local/engine.js';
import fc from 'fast-check';
import { clientSettings } from '../../src/client-settings.js';
import { executionArnPrefix } from '../../src/continuation.js';
import type { PipelineResult } from '../../src/run.js';
import { expectSequential, ours, runOnce, startTime, succeeding, world } from './support.js';

afterAll(closeLocalEngine);

const secondsAfterStart = (iso: string | null) => (Date.parse(iso!) - Date.parse(startTime)) / 1000;
const pipelinesOf = (output: unknown) => (output as { pipelines: PipelineResult[] }).pipelines;

describe('at most one start per position', () => {
  it('starts each pipeline once although start-pipeline crashed after its call and was retried', async () => {
    const engine = await LocalEngine.create({
      world: world(succeeding('P1', 'P2', 'P3'), { faults: [{ handler: 'start-pipeline', crash: 'afterCall', count: 2 }] }),
    });

    const report = await engine.run({ input: { order: ['P1', 'P2', 'P3'] } });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    expect(engine.emulator.callCounts().StartPipelineExecution).toBe(5);
    expect(new Set(ours(report).map((execution) => execution.pipelineExecutionId)).size).toBe(3);
  });

  it('keeps watching the same execution when check-status crashed after its call', async () => {
    const report = await runOnce(world(succeeding('P1', 'P2'), { faults: [{ handler: 'check-status', crash: 'afterCall', count: 3 }] }), {
      order: ['P1', 'P2'],
    });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2']);
  });
});

describe('a Task’s retries wait in simulated time, as Step Functions waits them', () => {
  it('waits each retrier’s own backoff: a crash after an unavailable CodePipeline is that retrier’s first retry, not the second in a row', async () => {
    // CheckPipelines' first attempt meets CodePipeline unavailable (every SDK attempt: AwsUnavailable); its second crashes after its call (Lambda.Unknown).
    const engine = await LocalEngine.create({
      world: world(succeeding('P1'), {
        faults: [
          { operation: 'GetPipelineExecution', pipelineName: 'P1', error: 'ServiceUnavailable', count: clientSettings.maxAttempts },
          { handler: 'check-status', crash: 'afterCall', count: 1 },
        ],
      }),
      settings: { completion: 'poll' },
    });
    const events: RunEvent[] = [];

    const report = await engine.run({ input: { order: ['P1'] }, onEvent: (event) => events.push(event) });

    expect(report.status).toBe('SUCCEEDED');
    const retried = events.filter((event): event is Extract<RunEvent, { type: 'retried' }> => event.type === 'retried' && event.state === 'CheckPipelines');
    expect(retried.map((event) => event.retry?.error)).toEqual(['AwsUnavailable', 'Lambda.Unknown']);
    const checked = events.find((event) => event.type === 'checked' && event.at > retried[1]!.at)!;
    // Both retriers wait 5 s before their first retry; FULL jitter: the engine waits its mean, 2.5 s.
    expect(retried[1]!.at - retried[0]!.at).toBe(2500);
    expect(checked.at - retried[1]!.at).toBe(2500);
  });

  it('stopped during a retry’s backoff, the execution ends there: the retry is never invoked, nor counted', async () => {
    // Prepare: StartPipelines' first attempt meets CodePipeline unavailable, and the stop comes 1 s into its 2.5 s backoff.
    const engine = await LocalEngine.create({
      world: world(succeeding('P1'), { faults: [{ operation: 'StartPipelineExecution', error: 'ServiceUnavailable', count: clientSettings.maxAttempts }] }),
    });
    const controller = new AbortController();

    // Act
    const report = await engine.run({
      input: { order: ['P1'] },
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'retried') engine.clock.schedule(event.at + 1000, () => controller.abort());
      },
    });

    // Assess: DecideOrder and the one attempt of StartPipelines.
    expect(report.status).toBe('ABORTED');
    expect(engine.emulator.callCounts().StartPipelineExecution).toBe(clientSettings.maxAttempts);
    expect(report.stats.lambdaInvocations).toBe(2);
  });
});

describe('transient AWS errors', () => {
  it('absorbs throttling and a 500 inside the SDK and still ends right', async () => {
    const report = await runOnce(
      world(succeeding('P1', 'P2', 'P3'), {
        faults: [
          { operation: 'GetPipelineExecution', error: 'ThrottlingException', count: 3 },
          { operation: 'StartPipelineExecution', error: 'InternalFailure', httpStatus: 500, count: 1, pipelineName: 'P2' },
        ],
      }),
      { order: ['P3', 'P2', 'P1'] },
    );

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P3', 'P2', 'P1']);
  });

  it('lets the state machine retry AwsUnavailable when throttling outlasts the SDK’s attempts', async () => {
    const engine = await LocalEngine.create({
      world: world(succeeding('P1'), { faults: [{ operation: 'StartPipelineExecution', error: 'ThrottlingException', count: 6 }] }),
    });
    const retried: RunEvent[] = [];

    const report = await engine.run({ input: { order: ['P1'] }, onEvent: (event) => event.type === 'retried' && retried.push(event) });

    expect(report.status).toBe('SUCCEEDED');
    expect(retried.map((event) => event.type === 'retried' && event.state)).toEqual(['StartPipelines']);
    expect(ours(report)).toHaveLength(1);
  });
});

describe('superseded executions', () => {
  const supersededWorld = (outcome = 'Succeeded') =>
    world([
      { name: 'P1', durationSeconds: 300 },
      { name: 'P2', durationSeconds: 600, outcome: 'Superseded', supersededBy: { durationSeconds: 400, outcome, statusSummary: 'newer change' } },
      { name: 'P3', durationSeconds: 300 },
    ]);

  it('follows the newer execution by default and starts the next pipeline only after it succeeded', async () => {
    const report = await runOnce(supersededWorld(), { order: ['P1', 'P2', 'P3'] });

    expect(report.status).toBe('SUCCEEDED');
    const [, p2] = pipelinesOf(report.output);
    const newer = report.world.executions.find((execution) => execution.startedBy === 'world' && execution.pipelineName === 'P2')!;
    const oursP2 = ours(report)[1]!;
    expect(p2).toMatchObject({ pipelineExecutionId: newer.pipelineExecutionId, supersededExecutionIds: [oursP2.pipelineExecutionId] });
    expect(oursP2.status).toBe('Superseded');
    expect(secondsAfterStart(ours(report)[2]!.startedAt)).toBeGreaterThanOrEqual(secondsAfterStart(newer.finishedAt));
  });

  it('fails with PipelineSuperseded when the input says onSuperseded: fail', async () => {
    const report = await runOnce(supersededWorld(), { order: ['P1', 'P2', 'P3'], onSuperseded: 'fail' });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineSuperseded', cause: expect.stringContaining('P2 (position 2 of 3)') });
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
  });

  it('fails with PipelineSuperseded when the stage param says fail', async () => {
    const report = await runOnce(supersededWorld(), { order: ['P2'] }, { settings: { onSuperseded: 'fail' } });

    expect(report.error).toBe('PipelineSuperseded');
  });

  it('reports the newer execution’s failure, naming both executions', async () => {
    const report = await runOnce(supersededWorld('Failed'), { order: ['P2', 'P3'] });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(report.cause).toContain(`it had superseded ${ours(report)[0]!.pipelineExecutionId}`);
    expect(report.cause).toContain('newer change');
    expect(ours(report)).toHaveLength(1);
  });
});

describe('long pipelines', () => {
  it('fails with PipelineTimedOut past the input’s timeout, leaves the pipeline running, starts nothing after', async () => {
    const report = await runOnce(world([{ name: 'P1', durationSeconds: 7200 }, { name: 'P2', durationSeconds: 60 }]), {
      order: ['P1', 'P2'],
      pipelineTimeoutSeconds: 3600,
    });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineTimedOut', cause: expect.stringContaining('left running') });
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status])).toEqual([['P1', 'InProgress']]);
    expect(report.stats.simulatedSeconds).toBeGreaterThanOrEqual(3600);
    expect(report.stats.simulatedSeconds).toBeLessThan(3700);
  });

  it('takes the timeout from the stage params when the input has none', async () => {
    const report = await runOnce(world([{ name: 'P1', durationSeconds: 7200 }]), { order: ['P1'] }, { settings: { pipelineTimeoutSeconds: 1800 } });

    expect(report.error).toBe('PipelineTimedOut');
  });

  it('a fixed 30-second poll would pass the 25,000-event history limit on a 2-day approval: the run continues as new instead', async () => {
    const report = await runOnce(
      world([{ name: 'Approval', durationSeconds: 2 * 86_400 }, { name: 'Deploy', durationSeconds: 60 }]),
      { order: ['Approval', 'Deploy'] },
      { settings: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll' } },
    );

    expect(report.status).toBe('SUCCEEDED');
    // 5,760 looks of 9 events each: more than two executions' worth.
    expect(report.stats.executions).toBe(3);
    expect(report.stats.historyEvents).toBeLessThan(25_000);
    expect(report.generations.map((generation) => generation.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['Approval', 'Deploy']);
  });

  it('while the adaptive default finishes a 7-day approval and the next pipeline with history to spare', async () => {
    // Polled: completion: events (the default) costs a week a handful of events whatever the poll.
    const report = await runOnce(
      world([{ name: 'Approval', durationSeconds: 7 * 86_400 }, { name: 'Deploy', durationSeconds: 60 }]),
      { order: ['Approval', 'Deploy'] },
      { settings: { completion: 'poll' } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(report.stats.executions).toBe(1);
    expect(report.stats.historyEvents).toBeLessThan(12_500);
  });
});

describe('single flight', () => {
  it('fails a second run that starts while one is running (a schedule firing mid-run), before it starts anything', async () => {
    const engine = await LocalEngine.create({ world: world(succeeding('P1', 'P2')) });
    let second: Promise<RunReport> | undefined;

    const first = await engine.run({
      input: { order: ['P1', 'P2'] },
      executionName: 'release',
      onEvent: (event) => {
        if (event.type === 'checked' && !second) second = engine.run({ input: { order: ['P2'] }, executionName: 'scheduled' });
      },
    });

    expect(await second).toMatchObject({ status: 'FAILED', error: 'AlreadyRunning', cause: expect.stringContaining('release') });
    expect(first.status).toBe('SUCCEEDED');
    expectSequential(first, ['P1', 'P2']);
  });

  it('ends a scheduled run quietly when one is in flight (scheduleWhenBusy: skip), naming it, and fails it with fail', async () => {
    const engine = await LocalEngine.create({ world: world(succeeding('P1', 'P2')) });
    let skipped: Promise<RunReport> | undefined;
    let failed: Promise<RunReport> | undefined;

    const first = await engine.run({
      input: { order: ['P1', 'P2'] },
      executionName: 'release',
      onEvent: (event) => {
        if (event.type !== 'checked' || skipped) return;
        skipped = engine.run({ input: { order: ['P2'], scheduled: { whenBusy: 'skip', at: '2026-01-01T06:00:00Z' } }, executionName: 'scheduled-skip' });
        failed = engine.run({ input: { order: ['P2'], scheduled: { whenBusy: 'fail' } }, executionName: 'scheduled-fail' });
      },
    });

    const quiet = await skipped!;
    expect(quiet.status).toBe('SUCCEEDED');
    expect(quiet.output).toEqual({ reason: expect.stringMatching(/^the scheduled run for 2026-01-01T06:00:00Z was skipped \(scheduleWhenBusy: skip\): .*release.*nothing was started$/) });
    expect(await failed).toMatchObject({ status: 'FAILED', error: 'AlreadyRunning', cause: expect.stringContaining('release') });
    expect(first.status).toBe('SUCCEEDED');
    expectSequential(first, ['P1', 'P2']);
  });

  it('lets exactly one of two runs started at the same instant go on', async () => {
    const engine = await LocalEngine.create({ world: world(succeeding('P1', 'P2')) });

    const reports = await Promise.all([
      engine.run({ input: { order: ['P1', 'P2'] }, executionName: 'nightly' }),
      engine.run({ input: { order: ['P2', 'P1'] }, executionName: 'hotfix' }),
    ]);

    expect(reports.map((report) => report.error ?? report.status).sort()).toEqual(['AlreadyRunning', 'SUCCEEDED']);
    const winner = reports.find((report) => report.status === 'SUCCEEDED')!;
    expectSequential(winner, (winner.output as { order: string[] }).order);
  });

  it('lets exactly one of two runs started at the same instant go on while Step Functions does not show the first yet (DescribeExecution lags)', async () => {
    // Prepare: AWS documents DescribeExecution as eventually consistent; this world's lags 30 s.
    const engine = await LocalEngine.create({ world: world(succeeding('P1', 'P2'), { stepFunctionsReadLagSeconds: 30 }) });

    // Act
    const reports = await Promise.all([
      engine.run({ input: { order: ['P1', 'P2'] }, executionName: 'nightly' }),
      engine.run({ input: { order: ['P2', 'P1'] }, executionName: 'hotfix' }),
    ]);

    // Assess: the second run read the lock the first wrote, and was refused although Step Functions did not know its holder yet.
    expect(reports.map((report) => report.error ?? report.status).sort()).toEqual(['AlreadyRunning', 'SUCCEEDED']);
    const refused = reports.find((report) => report.status === 'FAILED')!;
    expect(refused.cause).toContain('Step Functions does not show that execution yet (DescribeExecution is eventually consistent)');
    const winner = reports.find((report) => report.status === 'SUCCEEDED')!;
    expectSequential(winner, (winner.output as { order: string[] }).order);
  });

  it('redriven while Step Functions does not show the execution yet: the look fails AwsUnavailable, and its Retry, waited out in simulated time as on AWS, finds it', async () => {
    // P1 fails 10 s in; the run is redriven at once, well inside the 60 s DescribeExecution lags.
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 10, outcomes: ['Failed', 'Succeeded'] }], { stepFunctionsReadLagSeconds: 60 }) });
    const retries: RunEvent[] = [];

    const report = await engine.run({ input: { order: ['P1'] }, redrive: true, onEvent: (event) => (event.type === 'retried' ? retries.push(event) : undefined) });

    expect(report.status).toBe('SUCCEEDED');
    expect(report.redrives).toBe(1);
    expect(ours(report).filter((execution) => execution.pipelineName === 'P1')).toHaveLength(2);
    // CheckPipelines' Retry on AwsUnavailable waits 5, 10, 20, 40 s (FULL jitter: half of each, its mean) until the read has caught up.
    expect(retries.some((event) => event.type === 'retried' && event.state === 'CheckPipelines')).toBe(true);
    expect(report.stats.simulatedSeconds).toBeGreaterThan(60);
  });

  /** The stage's lock item (src/run-lock.ts), read straight from the engine's completion table. */
  const lockItem = async (engine: LocalEngine, tableName: string) => {
    const client = new DynamoDBClient({
      endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const key = { pk: { S: `lock#${engine.stateMachineArn}` } };
      return (await client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    } finally {
      client.destroy();
    }
  };

  it.each([
    ['SUCCEEDED', [{ name: 'P1', durationSeconds: 300 }]],
    ['FAILED', [{ name: 'P1', durationSeconds: 300, outcome: 'Failed' }]],
  ])('releases the stage’s run lock when a run ends %s: its item is gone from the table', async (status, pipelines) => {
    const engine = await LocalEngine.create({ world: world(pipelines), settings: { completion: 'events' } });
    const tableName = process.env.COMPLETION_TABLE_NAME!;
    let heldWhileRunning: Promise<unknown> | undefined;

    const report = await engine.run({
      input: { order: ['P1'] },
      executionName: 'release',
      onEvent: (event) => {
        if (event.type !== 'started' || heldWhileRunning) return;
        // Joined, the read is an actor awake: simulated time waits for it, so the run is still in flight.
        const leave = engine.clock.join();
        heldWhileRunning = lockItem(engine, tableName).finally(leave);
      },
    });

    expect(report.status).toBe(status);
    expect(await heldWhileRunning).toMatchObject({ holder: { S: `${executionArnPrefix(engine.stateMachineArn)}release` } });
    expect(await lockItem(engine, tableName)).toBeUndefined();
  });

  it.each([
    // Redriven into CheckPipelines, which would restart P1.
    ['its pipeline failed', { name: 'P1', durationSeconds: 300, outcome: 'Failed' }, [], ['P1']],
    // Redriven into StartPipelines, which would start P1.
    ['its start was refused', { name: 'P1', durationSeconds: 300 }, [{ operation: 'StartPipelineExecution', error: 'ValidationException', count: 1, pipelineName: 'P1' }], []],
  ])('fails a redrive (%s) with AlreadyRunning while a run that started since holds the lock, starting nothing', async (_how, p1, faults, startedBeforeTheRedrive) => {
    const engine = await LocalEngine.create({
      world: world([p1, { name: 'P2', durationSeconds: 600 }], { faults }),
      settings: { completion: 'events' },
    });
    const failedArn = `${executionArnPrefix(engine.stateMachineArn)}release`;
    const failed = await engine.run({ input: { order: ['P1'] }, executionName: 'release' });
    let redriven: boolean | undefined;

    // The failed run is redriven once the next run holds the lock and its pipeline is started.
    const next = await engine.run({
      input: { order: ['P2'] },
      executionName: 'hotfix',
      onEvent: (event) => {
        if (event.type === 'started') redriven ??= engine.redriveExecution(failedArn);
      },
    });

    expect(failed.status).toBe('FAILED');
    expect(redriven).toBe(true);
    expect(engine.emulator.stepFunctions.execution(failedArn)).toMatchObject({
      status: 'FAILED',
      redriveCount: 1,
      error: 'AlreadyRunning',
      cause: expect.stringContaining(':hotfix holds the stage'),
    });
    expect(next.status).toBe('SUCCEEDED');
    expect(ours(next).map((execution) => execution.pipelineName)).toEqual([...startedBeforeTheRedrive, 'P2']);
  });

  it('lets the next run go once the first has finished', async () => {
    const engine = await LocalEngine.create({ world: world(succeeding('P1')) });

    const first = await engine.run({ input: { order: ['P1'] } });
    const second = await engine.run({ input: { order: ['P1'] } });

    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(ours(second)).toHaveLength(2);
  });
});

describe('a pipeline already in progress when its turn comes', () => {
  const busy = (executionMode: string) =>
    world([{ name: 'P1', durationSeconds: 300, executionMode, pipelineType: 'V2', inProgressAtStart: { remainingSeconds: 1200 } }]);

  // AWS locks each stage in SUPERSEDED and QUEUED mode: ours waits for Build until theirs leaves it at 1200 s.
  it.each(['SUPERSEDED', 'QUEUED'])('%s mode: ours waits at the stage theirs holds, nobody is superseded, and we report on ours', async (mode) => {
    const report = await runOnce(busy(mode), { order: ['P1'] });

    const [result] = pipelinesOf(report.output);
    const theirs = report.world.executions.find((execution) => execution.startedBy === 'world')!;
    expect(result!.pipelineExecutionId).toBe(ours(report)[0]!.pipelineExecutionId);
    expect(theirs.status).toBe('Succeeded');
    expect(secondsAfterStart(result!.finishedAt!)).toBe(1470);
  });

  it('PARALLEL mode: ours runs beside theirs, and we report on ours', async () => {
    const report = await runOnce(busy('PARALLEL'), { order: ['P1'] });

    const [result] = pipelinesOf(report.output);
    expect(result!.pipelineExecutionId).toBe(ours(report)[0]!.pipelineExecutionId);
    expect(secondsAfterStart(result!.finishedAt!)).toBe(300);
  });
});

describe('re-running after a failure', () => {
  it('starts again from the first pipeline and succeeds when the pipeline now does', async () => {
    const engine = await LocalEngine.create({
      world: world([
        { name: 'P1', durationSeconds: 120, outcomes: ['Failed', 'Succeeded'], statusSummary: 'flaky test' },
        { name: 'P2', durationSeconds: 120 },
      ]),
    });

    const first = await engine.run({ input: { order: ['P1', 'P2'] } });
    const second = await engine.run({ input: { order: ['P1', 'P2'] } });

    expect(first).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(second.status).toBe('SUCCEEDED');
    expect(ours(second).map((execution) => `${execution.pipelineName}:${execution.status}`)).toEqual(['P1:Failed', 'P1:Succeeded', 'P2:Succeeded']);
  });
});

describe('hostile input through the whole engine', () => {
  it('refuses generated malformed inputs by name with zero pipelines started', async () => {
    const engine = await LocalEngine.create({ world: world(succeeding('P1', 'P2', 'P3')) });
    const malformed = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).filter((value) => typeof value !== 'object' || value === null || Array.isArray(value)),
      fc.record({ order: fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 4 }).filter((order) => order.some((name) => !/^P[123]$/.test(name))) }),
      fc.record({ order: fc.constant(['P1']), typo: fc.jsonValue({ maxDepth: 1 }) }),
    );

    await fc.assert(
      fc.asyncProperty(malformed, async (input) => {
        const report = await engine.run({ input });

        expect(report.status).toBe('FAILED');
        expect(['InvalidInput', 'PipelineNotAllowed']).toContain(report.error);
        expect(report.world.executions).toEqual([]);
      }),
      { numRuns: 60, seed: 4 },
    );
  });
});
