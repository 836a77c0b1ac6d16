import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { callbackResumeSeconds, closeLocalEngine, LocalEngine, type RunEvent, type RunReport } from '../../local/engine.js';
import type { PipelineResult, Run } from '../../src/run.js';
import { clientSettings } from '../../src/client-settings.js';
import { expectSequential, noticedByEvent, ours, world } from './support.js';

/*
 * completion: events, end to end in the local engine: the emulator's CodePipeline events reach
 * the real pipeline-event function through the deployed rule's pattern, the sweeper runs on its
 * schedule, and the run parks on the callback Task between looks. What a user checks: the order,
 * how soon each end was noticed and by what, and how few state transitions it took.
 */

afterAll(closeLocalEngine);

const day = 86_400;
const sweepSeconds = 60;

async function runEvents(pipelines: Record<string, unknown>[], input: unknown, extra: Record<string, unknown> = {}, settings: object = {}) {
  const engine = await LocalEngine.create({ world: world(pipelines, extra), settings: { completion: 'events', sweepSeconds, ...settings } });
  const lastRun = new Map<string, Run>();
  const events: RunEvent[] = [];
  const report = await engine.run({
    input,
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'started' || event.type === 'checked') lastRun.set(event.executionName, event.output as Run);
    },
  });
  return { engine, report, lastRun, events };
}

const results = (report: RunReport) => (report.output as { pipelines: PipelineResult[] }).pipelines;
const detection = (result: PipelineResult) => (Date.parse(result.detectedAt!) - Date.parse(result.finishedAt!)) / 1000;
const looks = (events: RunEvent[]) => events.filter((event) => event.type === 'checked').length;
/** Whether the run credited a pipeline's end to an event before the pipeline's own end was delivered: another's, stale, woke its wait. */
function creditedToAnotherEvent(report: RunReport, engine: LocalEngine, pipelineName: string): boolean {
  const result = results(report).find((candidate) => candidate.pipelineName === pipelineName)!;
  const delivered = engine.bus!.records.find((record) => record.change.pipelineName === pipelineName && record.change.state === 'SUCCEEDED')!.deliveredAt;
  return result.detectedBy === 'event' && Date.parse(result.detectedAt!) < Math.min(...delivered);
}

describe('completion: events', () => {
  it('notices each end from its event within the delivery delay, for about five transitions a pipeline', async () => {
    const { report } = await runEvents(
      [
        { name: 'P1', durationSeconds: 600 },
        { name: 'P2', durationSeconds: 1500 },
        { name: 'P3', durationSeconds: 420 },
      ],
      { order: ['P1', 'P2', 'P3'] },
    );

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    for (const result of results(report)) {
      expect(result.detectedBy).toBe('event');
      expect(detection(result)).toBeGreaterThanOrEqual(noticedByEvent.least);
      expect(detection(result)).toBeLessThanOrEqual(noticedByEvent.most);
    }
    // DecideOrder, DryRun?, then per pipeline MorePipelines?, StartPipelines, the wait, CheckPipelines, PipelinesDone?; then the summary.
    expect(report.stats.stateTransitions).toBe(2 + 3 * 5 + 3);
  });

  it('costs a 30-day pipeline no more than a short one: one wait, one look', async () => {
    const { report, events } = await runEvents([{ name: 'LONG', durationSeconds: 30 * day }], { order: ['LONG'], pipelineTimeoutSeconds: 31 * day });

    expect(report.status).toBe('SUCCEEDED');
    expect(report.stats.executions).toBe(1);
    expect(report.stats.stateTransitions).toBeLessThanOrEqual(12);
    expect(looks(events)).toBe(1);
    expect(detection(results(report)[0]!)).toBeLessThanOrEqual(2);
  });

  it('with every event lost, the sweeper notices each end within one sweep interval', async () => {
    const { report, engine } = await runEvents(
      [
        { name: 'P1', durationSeconds: 610 },
        { name: 'P2', durationSeconds: 1234 },
      ],
      { order: ['P1', 'P2'] },
      { events: { off: true } },
    );

    expect(report.status).toBe('SUCCEEDED');
    for (const result of results(report)) {
      expect(result.detectedBy).toBe('sweep');
      expect(detection(result)).toBeLessThanOrEqual(sweepSeconds + callbackResumeSeconds);
    }
    expect(engine.sweeps).toBeGreaterThanOrEqual(2);
  });

  it('with every event lost and whole-minute pipelines, each end after the first is noticed a whole sweep interval late, the worst case (README)', async () => {
    // Each starts the moment after the tick that woke the run, so it ends that moment after a later
    // tick: the next tick is an interval less the moment away, and the look a moment after it.
    const { report } = await runEvents(
      ['P1', 'P2', 'P3'].map((name) => ({ name, durationSeconds: 600 })),
      { order: ['P1', 'P2', 'P3'] },
      { events: { off: true } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(results(report).map((result) => result.detectedBy)).toEqual(['sweep', 'sweep', 'sweep']);
    for (const result of results(report).slice(1)) expect(detection(result)).toBeCloseTo(sweepSeconds, 3);
  });

  it('with the events of one pipeline dropped, that one is swept and the ones after it still come by event, though each lasts whole minutes', async () => {
    // P2 starts on the tick of the sweep that noticed P1, and each ends a whole number of minutes
    // later: on a later tick, were the run resumed in no time at all. The sweep would then notice
    // every end before its event, as it never does on AWS.
    const { report } = await runEvents(
      [
        { name: 'P1', durationSeconds: 600 },
        { name: 'P2', durationSeconds: 900 },
        { name: 'P3', durationSeconds: 1800 },
        { name: 'P4', durationSeconds: 600 },
      ],
      { order: ['P1', 'P2', 'P3', 'P4'] },
      { events: { drop: { pipelines: ['P1'] } } },
    );

    expect(results(report).map((result) => [result.pipelineName, result.detectedBy])).toEqual([
      ['P1', 'sweep'],
      ['P2', 'event'],
      ['P3', 'event'],
      ['P4', 'event'],
    ]);
    for (const result of results(report).slice(1)) expect(detection(result)).toBeLessThanOrEqual(noticedByEvent.most);
  });

  it('a wake whose SendTaskSuccess fails (a world fault) is made good by the next sweep: the watch was opened again', async () => {
    const { report } = await runEvents([{ name: 'P1', durationSeconds: 600 }], { order: ['P1'] }, { faults: [{ operation: 'SendTaskSuccess', error: 'AccessDeniedException', count: 1 }] });

    expect(report.status).toBe('SUCCEEDED');
    const [p1] = results(report);
    expect(p1!.detectedBy).toBe('sweep');
    expect(detection(p1!)).toBeLessThanOrEqual(sweepSeconds + 5);
    expect(report.functionFailures).toEqual([expect.objectContaining({ functionName: 'pipelineEvent', error: 'AwsRequestRejected' })]);
  });

  it('a wake that fails twice, by event and by the sweep after it, is made good by the sweep a tick later, not at the deadline', async () => {
    const { report } = await runEvents([{ name: 'P1', durationSeconds: 600 }], { order: ['P1'] }, { faults: [{ operation: 'SendTaskSuccess', error: 'AccessDeniedException', count: 2 }] });

    expect(report.status).toBe('SUCCEEDED');
    const [p1] = results(report);
    expect(p1!.detectedBy).toBe('sweep');
    expect(detection(p1!)).toBeLessThanOrEqual(2 * sweepSeconds + 5);
    expect(report.functionFailures).toEqual([
      expect.objectContaining({ functionName: 'pipelineEvent', error: 'AwsRequestRejected' }),
      expect.objectContaining({ functionName: 'sweeper', error: 'AwsRequestRejected', message: expect.stringContaining('the sweeper could not wake the run waiting on an execution that ended') as unknown }),
    ]);
  });

  it('a sweep whose look at an execution fails for a passing reason, every event lost, tries again at the next tick', async () => {
    // Every attempt of the sweeper's first GetPipelineExecution (the run sleeps until a sweep wakes it), the SDK's retries too.
    const { report } = await runEvents(
      [{ name: 'P1', durationSeconds: 600 }],
      { order: ['P1'] },
      { events: { off: true }, faults: [{ operation: 'GetPipelineExecution', pipelineName: 'P1', error: 'ServiceUnavailable', count: clientSettings.maxAttempts }] },
    );

    expect(report.status).toBe('SUCCEEDED');
    const [p1] = results(report);
    expect(p1!.detectedBy).toBe('sweep');
    expect(detection(p1!)).toBeLessThanOrEqual(2 * sweepSeconds + 5);
  });

  it('a FAILED event that comes after someone retried the stage: the run looks, finds it running, and the retry’s end wakes it by its event', async () => {
    // onFailure fail (the default): P1 fails at 5 min and is retried 30 s later; its FAILED event is delivered 3 min late.
    const { report } = await runEvents(
      [
        { name: 'P1', durationSeconds: 300, outcome: 'Failed', retry: { afterSeconds: 30, durationSeconds: 600 } },
        { name: 'P2', durationSeconds: 300 },
      ],
      { order: ['P1', 'P2'] },
      { events: { lateSeconds: { FAILED: 180 } } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2']);
    const [p1] = results(report);
    expect(p1).toMatchObject({ status: 'Succeeded', detectedBy: 'event' });
    expect(detection(p1!)).toBeLessThanOrEqual(noticedByEvent.most);
  });

  it('a group member the look found ended while another’s end woke the run: its own late event wakes nobody, and takes no credit', async () => {
    // P4's end wakes the run, whose look finds P3 ended too; P3's event, delivered after P1 started, must not wake P1's wait.
    const { report, engine } = await runEvents(
      [
        { name: 'P1', durationSeconds: 2 },
        { name: 'P3', durationSeconds: 61 },
        { name: 'P4', durationSeconds: 57 },
      ],
      { order: [['P4', 'P3'], 'P1'] },
      { events: { delaySeconds: [0, 5], outOfOrder: 7 } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(results(report).find((result) => result.pipelineName === 'P1')!.detectedBy).toBe('event');
    expect(creditedToAnotherEvent(report, engine, 'P1')).toBe(false);
  });

  it('a superseded execution’s late SUPERSEDED event, once the run follows its superseder, wakes no later wait and takes no credit', async () => {
    // A's end wakes the group's look, which follows B's superseder; C runs next. B's old SUPERSEDED is delivered 26 s late, after C's end.
    const { report, engine } = await runEvents(
      [
        { name: 'A', durationSeconds: 5 },
        { name: 'B', durationSeconds: 20, outcome: 'Superseded', supersededBy: { durationSeconds: 10 } },
        { name: 'C', durationSeconds: 12 },
      ],
      { order: [['A', 'B'], 'C'] },
      { events: { delaySeconds: 1, lateSeconds: { SUPERSEDED: 25, SUCCEEDED: 10 } } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(creditedToAnotherEvent(report, engine, 'C')).toBe(false);
    expect(results(report).find((result) => result.pipelineName === 'C')!.detectedBy).toMatch(/^(event|sweep)$/);
  });

  it.each(['fail', 'wait'] as const)('onFailure %s: a superseder the look finds ended leaves no open watch behind to wake the next entry', async (onFailure) => {
    // B is superseded at 3 s by C, which succeeds at 12 s; B's SUPERSEDED comes 41 s late, so the sweep at 37 s
    // wakes the run and its look follows C, already Succeeded. D runs next; every SUCCEEDED comes 51 s late.
    const { report, engine } = await runEvents(
      [
        { name: 'B', durationSeconds: 20, outcome: 'Superseded', supersededBy: { durationSeconds: 10 } },
        { name: 'D', durationSeconds: 15 },
      ],
      { order: ['B', 'D'], onSuperseded: 'follow', onFailure },
      { events: { delaySeconds: 1, lateSeconds: { SUPERSEDED: 40, SUCCEEDED: 50 } } },
      { sweepSeconds: 600 },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(results(report).find((result) => result.pipelineName === 'D')!.detectedBy).toBe('event');
    expect(creditedToAnotherEvent(report, engine, 'D')).toBe(false);
  });

  it('a drop naming no pipeline, state or rate drops every event: each end is swept', async () => {
    const { report } = await runEvents(
      [
        { name: 'P1', durationSeconds: 600 },
        { name: 'P2', durationSeconds: 300 },
      ],
      { order: ['P1', 'P2'] },
      { events: { drop: {} } },
    );

    expect(results(report).map((result) => result.detectedBy)).toEqual(['sweep', 'sweep']);
  });

  it('a pipeline deleted mid-run, its events lost, fails the run by name within a sweep, not at its deadline', async () => {
    // P2 (10 min, started at 5 min) is gone by the time anyone asks: GetPipelineExecution answers PipelineNotFoundException.
    const { report } = await runEvents(
      [
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 600 },
      ],
      { order: ['P1', 'P2'] },
      { events: { drop: { pipelines: ['P2'] } }, faults: [{ operation: 'GetPipelineExecution', pipelineName: 'P2', error: 'PipelineNotFoundException', count: 100 }] },
    );

    expect({ status: report.status, error: report.error }).toEqual({ status: 'FAILED', error: 'PipelineNotFound' });
    expect(report.cause).toContain("pipeline 'P2' does not exist any more (deleted while the run watched its execution");
    // P2 ends 15 min in; the next sweep wakes the run, whose look fails.
    expect(report.stats.simulatedSeconds).toBeLessThanOrEqual(900 + sweepSeconds + 5);
  });

  it('a pipeline superseded when its Source stage ends is noticed by its successor’s event, no sweep falling on the whole and half minutes worlds script; its row runs from our start to that end', async () => {
    // A newer execution supersedes U 30 s in (the default Source stage) and runs whole minutes, as
    // V does after U: each end is on a whole or half minute from the world's start.
    const { report } = await runEvents(
      [
        { name: 'U', durationSeconds: 600, outcome: 'Superseded', supersededBy: { durationSeconds: 600, outcome: 'Succeeded' } },
        { name: 'V', durationSeconds: 900 },
      ],
      { order: ['U', 'V'] },
    );

    expect(report.status).toBe('SUCCEEDED');
    for (const result of results(report)) {
      expect([result.pipelineName, result.detectedBy]).toEqual([result.pipelineName, 'event']);
      expect(detection(result)).toBeLessThanOrEqual(noticedByEvent.most);
    }
    // U's row keeps our start and ends with the newer execution it followed (README: Running locally).
    const [ours, newer] = report.world.executions.filter((execution) => execution.pipelineName === 'U');
    expect(Date.parse(newer!.startedAt) - Date.parse(ours!.startedAt)).toBe(30_000);
    const row = results(report)[0]!;
    expect(row).toMatchObject({ pipelineExecutionId: newer!.pipelineExecutionId, supersededExecutionIds: [ours!.pipelineExecutionId] });
    expect([Date.parse(row.startedAt!), Date.parse(row.finishedAt!)]).toEqual([Date.parse(ours!.startedAt), Date.parse(newer!.finishedAt!)]);
  });

  it('duplicated and out-of-order deliveries change nothing: same order, each started once', async () => {
    const pipelines = ['P1', 'P2', 'P3', 'P4'].map((name, index) => ({ name, durationSeconds: 20 + index * 7 }));
    const { report } = await runEvents(pipelines, { order: ['P1', 'P2', 'P3', 'P4'] }, { events: { duplicate: 1, outOfOrder: 30 } });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3', 'P4']);
    for (const result of results(report)) expect(detection(result)).toBeLessThanOrEqual(sweepSeconds + 31.5);
  });

  it('a group of 5 wakes the run at most once per member, never once per member per minute', async () => {
    const members = ['G1', 'G2', 'G3', 'G4', 'G5'];
    const { report, events } = await runEvents(
      members.map((name, index) => ({ name, durationSeconds: 3600 + index * 900 })),
      { order: [members] },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(looks(events)).toBeLessThanOrEqual(members.length);
    for (const result of results(report)) expect(detection(result)).toBeLessThanOrEqual(noticedByEvent.most);
  });

  it('a failure is noticed by its event and fails the run by name', async () => {
    const { report } = await runEvents(
      [
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'unit tests failed' },
        { name: 'P3', durationSeconds: 300 },
      ],
      { order: ['P1', 'P2', 'P3'] },
    );

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(report.cause).toContain('unit tests failed');
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
  });

  it('times out at the pipeline’s deadline when no end ever comes, by the callback Task’s own timeout', async () => {
    const { report, events } = await runEvents([{ name: 'SLOW', durationSeconds: 2 * day }], { order: ['SLOW'], pipelineTimeoutSeconds: 3600 });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineTimedOut' });
    expect(looks(events)).toBe(1);
    expect(report.stats.simulatedSeconds).toBeLessThan(3600 + 60);
  });

  it('follows a superseding execution and is woken by its end', async () => {
    const { report } = await runEvents([{ name: 'P1', durationSeconds: 600, outcome: 'Superseded', supersededBy: { durationSeconds: 400 } }], { order: ['P1'] });

    expect(report.status).toBe('SUCCEEDED');
    const [result] = results(report);
    expect(result!.supersededExecutionIds).toHaveLength(1);
    expect(result!.detectedBy).toBe('event');
  });

  it('counts history in the run state exactly as the engine counts it, events and early wakes included', async () => {
    const members = ['G1', 'G2', 'G3'];
    const { report, lastRun } = await runEvents(
      // Ends a second apart: some wakes come before the run parked again (its token write is refused).
      [...members.map((name, index) => ({ name, durationSeconds: 600 + index })), { name: 'P2', durationSeconds: 60 }],
      { order: [members, 'P2'] },
      { events: { delaySeconds: 0, duplicate: 0.5 } },
    );

    expect(report.status).toBe('SUCCEEDED');
    const [generation] = report.generations;
    const last = lastRun.get(generation!.executionName)!;
    // MorePipelines? was counted as pending; SummariseRun, AllPipelinesSucceeded, ExecutionSucceeded.
    expect(generation!.historyEvents).toBe(last.history.events + last.history.pending + 2 + 2 + 1);
  });

  it('a redriven run restarts the failed pipeline, waits on a new token, and is woken by the new execution’s end', async () => {
    const engine = await LocalEngine.create({
      world: world([
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 300, outcomes: ['Failed', 'Succeeded'], statusSummary: 'flaky test' },
      ]),
      settings: { completion: 'events', sweepSeconds },
    });

    const report = await engine.run({ input: { order: ['P1', 'P2'] }, redrive: true });

    expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status])).toEqual([
      ['P1', 'Succeeded'],
      ['P2', 'Failed'],
      ['P2', 'Succeeded'],
    ]);
    const p2 = results(report)[1]!;
    expect(p2.earlierExecutionIds).toHaveLength(1);
    expect(p2.detectedBy).toBe('event');
    expect(detection(p2)).toBeLessThanOrEqual(noticedByEvent.most);
  });

  it('records the callback wait’s history as Step Functions writes it, event for event with the engine’s count', async () => {
    const engine = await LocalEngine.create({
      world: world([{ name: 'P1', durationSeconds: 600 }]),
      settings: { completion: 'events', sweepSeconds },
      stateMachineName: 'codepipeline-sequencer-dev',
      recordHistory: true,
    });
    const report = await engine.run({ input: { order: ['P1'] }, executionName: 'recorded' });
    const client = new SFNClient({ endpoint: engine.emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });

    const { events } = await client.send(
      new GetExecutionHistoryCommand({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:recorded', maxResults: 1000 }),
    );
    client.destroy();

    const types = events!.map((event) => event.type);
    const entered = events!.findIndex((event) => event.stateEnteredEventDetails?.name === 'WaitForPipelineEnd');
    expect(types.slice(entered, entered + 6)).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited']);
    expect(events![entered + 1]!.taskScheduledEventDetails).toMatchObject({ resourceType: 'aws-sdk:dynamodb', resource: 'updateItem.waitForTaskToken' });
    expect(JSON.parse(events![entered + 4]!.taskSucceededEventDetails!.output!)).toMatchObject({ by: 'event', pipelineName: 'P1', state: 'SUCCEEDED' });
    expect(events).toHaveLength(report.stats.historyEvents);
    // The Task ends when the event function's SendTaskSuccess comes; check-status's invocation takes
    // the moment after it. (History timestamps are whole milliseconds; the simulated clock is not.)
    const delivery = endRecords(engine)[0]!.deliveredAt[0]!;
    const looked = events!.findIndex((event, index) => index > entered && event.type === 'LambdaFunctionSucceeded');
    expect([events![entered + 4]!.timestamp!.getTime(), events![entered + 5]!.timestamp!.getTime()]).toEqual([Math.trunc(delivery), Math.trunc(delivery)]);
    expect(events![looked]!.timestamp!.getTime()).toBe(Math.trunc(delivery + callbackResumeSeconds * 1000));
  });

  it('stopped in the moment between the wake and check-status, the execution ends there, without a look', async () => {
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 600 }], { events: { delaySeconds: 1 } }), settings: { completion: 'events', sweepSeconds } });
    const controller = new AbortController();
    const events: RunEvent[] = [];
    let stopAt = 0;

    // Act: P1 ends 600 s in, its event wakes the run 1 s later; the stop comes 50 ms after that.
    const report = await engine.run({
      input: { order: ['P1'] },
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'started') engine.clock.schedule((stopAt = event.at + 601_000 + callbackResumeSeconds * 500), () => controller.abort());
      },
    });

    // Assess
    expect(report.status).toBe('ABORTED');
    expect(looks(events)).toBe(0);
    expect(engine.clock.now()).toBe(stopAt);
  });

  it('poll keeps today’s loop: a Wait and a look, noticed by the poll', async () => {
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 600 }]), settings: { completion: 'poll' } });

    const report = await engine.run({ input: { order: ['P1'] } });

    expect(report.status).toBe('SUCCEEDED');
    expect(results(report)[0]!.detectedBy).toBe('poll');
    expect(engine.bus).toBeUndefined();
    expect(report.stats.stateTransitions).toBeGreaterThan(2 + 5 + 3);
  });
});

/** The bus's record of each change that can end an execution (STARTED never reaches the rule). */
const endRecords = (engine: LocalEngine) => engine.bus!.records.filter((record) => record.change.state !== 'STARTED');
/** How each pipeline's end was noticed, finished members and the one the run stopped at alike. */
const noticedBy = (run: Run) => Object.fromEntries([...run.results, ...run.members].map((pipeline) => [pipeline.pipelineName, pipeline.detectedBy]));
const lastLook = (lastRun: Map<string, Run>) => [...lastRun.values()].at(-1)!;

describe('completion: events, against the world’s delivery knobs', () => {
  it('a cancelled pipeline is noticed by its CANCELED event and fails the run by name', async () => {
    const { report, engine, lastRun } = await runEvents(
      [
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 300, outcome: 'Cancelled' },
        { name: 'P3', durationSeconds: 300 },
      ],
      { order: ['P1', 'P2', 'P3'] },
    );

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineCancelled' });
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status])).toEqual([
      ['P1', 'Succeeded'],
      ['P2', 'Cancelled'],
    ]);
    expect(noticedBy(lastLook(lastRun))).toEqual({ P1: 'event', P2: 'event' });
    expect(endRecords(engine).map((record) => [record.change.pipelineName, record.change.state, record.fate])).toEqual([
      ['P1', 'SUCCEEDED', 'delivered'],
      ['P2', 'CANCELED', 'delivered'],
    ]);
  });

  it('duplicate: 1 delivers every end twice, at two instants, and each pipeline still starts once', async () => {
    const { report, engine } = await runEvents(
      ['P1', 'P2', 'P3'].map((name) => ({ name, durationSeconds: 300 })),
      { order: ['P1', 'P2', 'P3'] },
      { events: { duplicate: 1 } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    const [p1, p2, p3] = endRecords(engine);
    for (const record of [p1!, p2!]) {
      expect(record.deliveredAt).toHaveLength(2);
      expect(record.deliveredAt[0]).not.toBe(record.deliveredAt[1]);
    }
    // The run ends on P3's first delivery; its copy comes after the run has nothing left to wake.
    expect(p3!.deliveredAt.length).toBeGreaterThanOrEqual(1);
    for (const result of results(report)) expect(result.detectedBy).toBe('event');
  });

  it('outOfOrder delivers a group’s ends in another order than they happened, each within its window', async () => {
    const members = ['G1', 'G2', 'G3', 'G4'];
    const { report, engine } = await runEvents(
      // Ends a second apart, and a long member that keeps the run waiting while they are delivered.
      [...members.map((name, index) => ({ name, durationSeconds: 610 + index })), { name: 'LONG', durationSeconds: 1210 }],
      { order: [[...members, 'LONG']] },
      { events: { delaySeconds: 0, outOfOrder: 30 } },
    );

    expect(report.status).toBe('SUCCEEDED');
    const ends = endRecords(engine).filter((record) => members.includes(record.change.pipelineName));
    const happened = [...ends].sort((a, b) => a.change.at - b.change.at).map((record) => record.change.pipelineName);
    const delivered = [...ends].sort((a, b) => a.deliveredAt[0]! - b.deliveredAt[0]!).map((record) => record.change.pipelineName);
    expect(happened).toEqual(members);
    expect(delivered).not.toEqual(happened);
    for (const record of ends) {
      expect(record.deliveredAt).toHaveLength(1);
      expect(record.deliveredAt[0]! - record.change.at).toBeGreaterThanOrEqual(0);
      expect(record.deliveredAt[0]! - record.change.at).toBeLessThan(30_000);
    }
  });

  it('drop.rate drops a share of the events, and exactly the ends it dropped are swept', async () => {
    const pipelines = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6'].map((name, index) => ({ name, durationSeconds: 301 + index * 13 }));
    const { report, engine } = await runEvents(pipelines, { order: pipelines.map((pipeline) => pipeline.name) }, { events: { drop: { rate: 0.5 } } });

    expect(report.status).toBe('SUCCEEDED');
    const fates = new Map(endRecords(engine).map((record) => [record.change.pipelineName, record.fate]));
    expect(new Set(fates.values())).toEqual(new Set(['dropped', 'delivered']));
    for (const result of results(report)) {
      expect([result.pipelineName, result.detectedBy]).toEqual([result.pipelineName, fates.get(result.pipelineName) === 'dropped' ? 'sweep' : 'event']);
    }
  });

  it('drop.states drops only those states: the SUCCEEDED end is swept, the FAILED one comes by event', async () => {
    const { report, engine, lastRun } = await runEvents(
      [
        { name: 'P1', durationSeconds: 310 },
        { name: 'P2', durationSeconds: 310, outcome: 'Failed', statusSummary: 'unit tests failed' },
      ],
      { order: ['P1', 'P2'] },
      { events: { drop: { states: ['SUCCEEDED'] } } },
    );

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(endRecords(engine).map((record) => [record.change.pipelineName, record.change.state, record.fate])).toEqual([
      ['P1', 'SUCCEEDED', 'dropped'],
      ['P2', 'FAILED', 'delivered'],
    ]);
    expect(noticedBy(lastLook(lastRun))).toEqual({ P1: 'sweep', P2: 'event' });
  });

  it('pipelines, states and rate together: a share of those pipelines’ ends of those states is dropped, and nothing else', async () => {
    const pipelines = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8'].map((name, index) => ({ name, durationSeconds: 301 + index * 13 }));
    const chosen = ['P1', 'P2', 'P3', 'P4'];
    const { report, engine } = await runEvents(
      pipelines,
      { order: pipelines.map((pipeline) => pipeline.name) },
      { events: { drop: { pipelines: chosen, states: ['SUCCEEDED'], rate: 0.5 } } },
    );

    expect(report.status).toBe('SUCCEEDED');
    const fates = new Map(endRecords(engine).map((record) => [record.change.pipelineName, record.fate]));
    // A share of the chosen pipelines' ends: some dropped, some not; the others' all delivered.
    expect(new Set(chosen.map((name) => fates.get(name)))).toEqual(new Set(['dropped', 'delivered']));
    for (const name of ['P5', 'P6', 'P7', 'P8']) expect([name, fates.get(name)]).toEqual([name, 'delivered']);
    // Nor any other state of the chosen pipelines (their STARTED events pass the drop, and the rule filters them).
    const droppedOthers = engine.bus!.records.filter((record) => record.fate === 'dropped' && (record.change.state !== 'SUCCEEDED' || !chosen.includes(record.change.pipelineName)));
    expect(droppedOthers).toEqual([]);
    for (const result of results(report)) {
      expect([result.pipelineName, result.detectedBy]).toEqual([result.pipelineName, fates.get(result.pipelineName) === 'dropped' ? 'sweep' : 'event']);
    }
  });

  it('a numeric delaySeconds delivers every event exactly that late, and each end is noticed then', async () => {
    const { report, engine } = await runEvents(
      ['P1', 'P2', 'P3'].map((name) => ({ name, durationSeconds: 300 })),
      { order: ['P1', 'P2', 'P3'] },
      { events: { delaySeconds: 7 } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(endRecords(engine).map((record) => record.deliveredAt.map((at) => at - record.change.at))).toEqual([[7000], [7000], [7000]]);
    for (const result of results(report)) {
      expect(result.detectedBy).toBe('event');
      expect(detection(result)).toBeCloseTo(7 + callbackResumeSeconds, 3);
    }
  });
});
