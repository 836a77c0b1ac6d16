import { closeLocalEngine, LocalEngine, type RunEvent, type RunReport } from '../../local/engine.js';
import { historyEventLimit, minContinueAtEvents, redriveEvents } from '../../src/history-budget.js';
import { executionArnPrefix, successorName } from '../../src/continuation.js';
import type { PipelineResult, Run } from '../../src/run.js';
import { expectSequential, ours, runOnce, untilEnded, world } from './support.js';

afterAll(closeLocalEngine);

/** A train of thousands of looks takes seconds of wall time, more on a shared machine. */
const longTrain = 180_000;

const day = 86_400;

/** Runs a train, keeping the last run state each execution's Tasks returned. */
async function runTrain(theWorld: ReturnType<typeof world>, input: unknown, options: { redrive?: boolean; redriveAfterSeconds?: number; settings?: object } = {}) {
  const engine = await LocalEngine.create({ world: theWorld, ...(options.settings ? { settings: options.settings } : {}) });
  const lastRun = new Map<string, Run>();
  const events: RunEvent[] = [];
  const report = await engine.run({
    input,
    ...(options.redrive ? { redrive: true } : {}),
    ...(options.redriveAfterSeconds !== undefined && { redriveAfterSeconds: options.redriveAfterSeconds }),
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'started' || event.type === 'checked') lastRun.set(event.executionName, event.output as Run);
    },
  });
  return { report, lastRun, events };
}

/** Every execution stayed inside the limit, and every pipeline was started exactly once. */
function expectWholeTrain(report: RunReport, names: string[]): void {
  expect(report.status).toBe('SUCCEEDED');
  expect(report.stats.historyEvents).toBeLessThan(historyEventLimit);
  for (const generation of report.generations) expect(generation.historyEvents).toBeLessThan(historyEventLimit);
  expect(ours(report).map((execution) => execution.pipelineName).sort()).toEqual([...names].sort());
}

describe('no accepted run dies of the history limit', () => {
  it('runs three 7-day approvals in one train, continuing as new, each started once and in order', async () => {
    const approvals = ['A1', 'A2', 'A3'].map((name) => ({ name, durationSeconds: 7 * day }));

    // The poll loop's history is what fills an execution; completion: events costs a week a handful of events.
    const { report } = await runTrain(world(approvals), { order: ['A1', 'A2', 'A3'] }, { settings: { completion: 'poll' } });

    expectWholeTrain(report, ['A1', 'A2', 'A3']);
    expectSequential(report, ['A1', 'A2', 'A3']);
    expect(report.stats.executions).toBeGreaterThan(1);
    expect(report.generations.map((generation) => generation.executionName)).toEqual(
      report.generations.map((_, index) => (index === 0 ? report.executionName : successorName(report.executionName, index + 1))),
    );
    // Every execution but the last handed over and ended successfully.
    expect(report.generations.every((generation) => generation.status === 'SUCCEEDED')).toBe(true);
  }, longTrain);

  it.each([
    // The adaptive poll's looks, with no history to aim the first one, fill more than one
    // execution's budget: the train hands over mid-way.
    ['polled, without history', 'poll' as const, (executions: number) => expect(executions).toBeGreaterThan(1)],
    // Each end wakes the run: a handful of events a pipeline, one execution for the whole train.
    ['event-woken (the default)', 'events' as const, (executions: number) => expect(executions).toBe(1)],
  ])('runs 100 one-hour pipelines, %s', async (_, completion, expectExecutions) => {
    const names = Array.from({ length: 100 }, (__, index) => `Pipe-${String(index).padStart(3, '0')}`);

    const { report } = await runTrain(world(names.map((name) => ({ name, durationSeconds: 3600 }))), { order: names }, { settings: { completion } });

    expectWholeTrain(report, names);
    expectSequential(report, names);
    expectExecutions(report.stats.executions);
  }, longTrain);

  it('runs a pipeline as long as the largest timeout it accepts (60 days), continuing in the middle of it', async () => {
    const { report } = await runTrain(world([{ name: 'Slow', durationSeconds: 59 * day }]), { order: ['Slow'], pipelineTimeoutSeconds: 60 * day }, { settings: { completion: 'poll' } });

    expectWholeTrain(report, ['Slow']);
    expect(report.stats.executions).toBeGreaterThan(2);
    const [result] = (report.output as { pipelines: { finishedAt: string; detectedAt: string }[] }).pipelines;
    // The continuation carried the watch: seen within one longest wait of the end.
    expect((Date.parse(result!.detectedAt) - Date.parse(result!.finishedAt)) / 1000).toBeLessThanOrEqual(600);
  }, longTrain);

  it('counts history in the run state exactly as the engine counts it, retries included', async () => {
    const theWorld = world(
      [
        // At a fixed 30-second poll four hours are 480 looks: with the handover at 1,000 events
        // (the count is the same arithmetic at any budget), several executions.
        { name: 'P1', durationSeconds: 4 * 3600 },
        { name: 'P2', durationSeconds: 600 },
      ],
      {
        faults: [
          { operation: 'GetPipelineExecution', error: 'ThrottlingException', count: 5 },
          { handler: 'check-status', crash: 'afterCall', count: 2 },
          { handler: 'start-pipeline', crash: 'afterCall', count: 1 },
        ],
      },
    );

    const { report, lastRun } = await runTrain(theWorld, { order: ['P1', 'P2'] }, {
      settings: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll', continueAtEvents: 1_000 },
    });

    expect(report.status).toBe('SUCCEEDED');
    expect(report.generations.length).toBeGreaterThan(2);
    report.generations.forEach((generation, index) => {
      const last = lastRun.get(generation.executionName)!;
      const isLast = index === report.generations.length - 1;
      // Handed over: PipelinesDone?, ContinueAsNewExecution (5), ContinuedAsNew, ExecutionSucceeded.
      // Finished: MorePipelines? was counted as pending; SummariseRun, AllPipelinesSucceeded, ExecutionSucceeded.
      const closing = isLast ? 2 + 2 + 1 : 5 + 2 + 1;
      expect(generation.historyEvents).toBe(last.history.events + last.history.pending + closing);
      // Each execution but the last handed over at the stage's budget (plus the handover's own
      // few events), not at the default 24,000.
      if (!isLast) expect(generation.historyEvents).toBeGreaterThan(900);
      expect(generation.historyEvents).toBeLessThan(1_000 + 20);
    });
  }, longTrain);
});

/** The run state a first execution hands to its successor `<name>-g2` before it starts anything. */
const handedOver = (executionArn: string, executionName: string) => ({
  index: 0,
  phase: 'continue',
  waitSeconds: 0,
  members: [],
  results: [],
  history: { events: 24_000, pending: 2 },
  redrives: 0,
  generation: 1,
  origin: { executionArn, executionName },
  successor: { executionName: `${executionName}-g2`, resume: 'start' },
});

describe('continuation', () => {
  it('event-woken, hands over at the budget, a member still running: each started once and in order, each end noticed within seconds', async () => {
    // Prepare: groups whose second member outlasts the first by minutes. At the least budget a
    // stage may set the train takes several executions, some handing over while a member runs.
    const groups = Array.from({ length: 30 }, (_, index) => [`A${String(index).padStart(2, '0')}`, `B${String(index).padStart(2, '0')}`]);
    const names = groups.flat();
    const pipelines = names.map((name) => ({ name, durationSeconds: name.startsWith('A') ? 61 : 200 }));

    // Act
    const { report, lastRun } = await runTrain(world(pipelines), { order: groups }, { settings: { continueAtEvents: minContinueAtEvents } });

    // Assess
    expectWholeTrain(report, names);
    expect(report.stats.executions).toBeGreaterThan(2);
    const handedOver = report.generations.slice(0, -1).map((generation) => lastRun.get(generation.executionName)!.successor?.resume);
    expect(handedOver).toContain('watch');
    // A wake lost at a handover would wait for the sweeper's minute, or the deadline.
    const late = (report.output as { pipelines: PipelineResult[] }).pipelines.filter((result) => Date.parse(result.detectedAt!) - Date.parse(result.finishedAt!) > 2000);
    expect(late).toEqual([]);
  });

  it('hands over before a start whose wait and look would pass the budget: no execution ends more than the hand-over’s own events past it', async () => {
    // Short pipelines, event-woken: starts come one after another, each followed by a wait and a look that cannot hand over.
    const names = Array.from({ length: 30 }, (_, index) => `Q${String(index).padStart(2, '0')}`);

    const { report } = await runTrain(world(names.map((name) => ({ name, durationSeconds: 60 }))), { order: names }, { settings: { continueAtEvents: 500 } });

    expectWholeTrain(report, names);
    expect(report.stats.executions).toBeGreaterThan(1);
    // Each hand-over writes about ten events of its own (its Task, the execution's end) past the point it was decided at.
    for (const generation of report.generations.slice(0, -1)) expect(generation.historyEvents).toBeLessThanOrEqual(500 + 10);
  }, longTrain);

  it.each([
    ['a lost answer', 1],
    // Each of the old execution's retries waits (up to about 122 s in all) while the new one waits for it to end: it must outwait them.
    ['five lost answers in a row, as many as the old execution’s Retry makes,', 5],
  ])('survives %s between the new execution’s start and the old one’s end: the retry names the same execution', async (_case, lost) => {
    // Four hours of looks every 30 s pass a 1,000-event handover: the first handover loses its answer.
    const theWorld = world([{ name: 'Long', durationSeconds: 4 * 3600 }, { name: 'After', durationSeconds: 60 }], {
      faults: [{ handler: 'continue-as-new', crash: 'afterCall', count: lost }],
    });

    const { report, events } = await runTrain(theWorld, { order: ['Long', 'After'] }, {
      settings: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll', continueAtEvents: 1_000 },
    });

    expectWholeTrain(report, ['Long', 'After']);
    expect(events.filter((event) => event.type === 'retried').map((event) => event.type === 'retried' && event.state)).toContain('ContinueAsNewExecution');
    const names = report.generations.map((generation) => generation.executionName);
    expect(new Set(names).size).toBe(names.length);
  }, longTrain);

  it('refuses a hand-written input that claims to be a successor, starting nothing', async () => {
    const first = await runOnce(world([{ name: 'P1', durationSeconds: 60 }]), { order: ['P1'], dryRun: true });
    const plan = first.output as Record<string, unknown>;
    const run = handedOver('arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-local:real', 'real');
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 60 }]) });
    const forged = (executionName: string, startedBy: string) =>
      engine.run({ executionName, input: { continuation: { plan, run }, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: startedBy } });

    const wrongName = await forged('mine', run.origin.executionArn);
    const noPredecessor = await forged('real-g2', run.origin.executionArn);

    expect(wrongName).toMatchObject({ status: 'FAILED', error: 'InvalidInput', cause: expect.stringContaining("handed to 'real-g2', not to this execution 'mine'") });
    expect(noPredecessor).toMatchObject({ status: 'FAILED', error: 'InvalidInput', cause: expect.stringContaining('no execution') });
    expect(ours(noPredecessor)).toEqual([]);
  });

  it('does not go on after the current execution is stopped: its successor refuses to take over', async () => {
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 60 }]) });
    const origin = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-local:stopped';
    engine.emulator.stepFunctions.putExecution({
      executionArn: origin,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-local',
      name: 'stopped',
      status: 'ABORTED',
      startDate: Date.parse('2026-01-01T00:00:00Z'),
      stopDate: Date.parse('2026-01-01T00:00:00Z'),
    });
    const dry = await engine.run({ input: { order: ['P1'], dryRun: true } });
    const run = handedOver(origin, 'stopped');

    const report = await engine.run({
      executionName: 'stopped-g2',
      input: { continuation: { plan: dry.output, run }, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: origin },
    });

    expect(report).toMatchObject({ status: 'FAILED', error: 'InvalidInput', cause: expect.stringContaining('ended ABORTED') });
    expect(ours(report)).toEqual([]);
  });
});

describe('parallel stages', () => {
  it('runs a group side by side, and the next entry only after every member succeeded', async () => {
    const theWorld = world([
      { name: 'P1', durationSeconds: 300 },
      { name: 'P2', durationSeconds: 1800 },
      { name: 'P3', durationSeconds: 600 },
      { name: 'P4', durationSeconds: 300 },
    ]);

    const { report } = await runTrain(theWorld, { order: ['P1', ['P2', 'P3'], 'P4'] });

    expect(report.status).toBe('SUCCEEDED');
    const byName = Object.fromEntries(ours(report).map((execution) => [execution.pipelineName, execution]));
    expect(byName.P2!.startedAt).toBe(byName.P3!.startedAt);
    expect(Date.parse(byName.P2!.startedAt)).toBeGreaterThanOrEqual(Date.parse(byName.P1!.finishedAt!));
    expect(Date.parse(byName.P4!.startedAt)).toBeGreaterThanOrEqual(Date.parse(byName.P2!.finishedAt!));
    expect(report.output).toMatchObject({ order: ['P1', ['P2', 'P3'], 'P4'] });
  });

  it('a member failing in the middle: the others are watched to their end, later entries never start, the cause names every member', async () => {
    const theWorld = world([
      { name: 'P1', durationSeconds: 300 },
      { name: 'P2', durationSeconds: 3600 },
      { name: 'P3', durationSeconds: 600, outcome: 'Failed', statusSummary: 'Integration tests failed' },
      { name: 'P4', durationSeconds: 900 },
      { name: 'P5', durationSeconds: 300 },
    ]);

    const { report } = await runTrain(theWorld, { order: ['P1', ['P2', 'P3', 'P4'], 'P5'] });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    const byName = Object.fromEntries(ours(report).map((execution) => [execution.pipelineName, execution]));
    expect(Object.keys(byName).sort()).toEqual(['P1', 'P2', 'P3', 'P4']);
    expect(byName.P2!.status).toBe('Succeeded');
    expect(byName.P4!.status).toBe('Succeeded');
    expect(report.cause).toMatch(/^P3 \(position 2 of 3, in a group of 3\) execution \S+ ended Failed: Integration tests failed\./);
    expect(report.cause).toContain(`P2 (position 2 of 3, in a group of 3) execution ${byName.P2!.pipelineExecutionId} Succeeded`);
    expect(report.cause).toContain(`P4 (position 2 of 3, in a group of 3) execution ${byName.P4!.pipelineExecutionId} Succeeded`);
    expect(report.cause).toContain('Later pipelines were not started.');
  });

  describe('a member whose start is refused after the others started (a ValidationException, once)', () => {
    const theWorld = () =>
      world(
        [
          { name: 'P1', durationSeconds: 300 },
          { name: 'P2', durationSeconds: 3600 },
          { name: 'P3', durationSeconds: 600 },
          { name: 'P4', durationSeconds: 300 },
        ],
        // CodePipeline forgets a token after some time AWS does not document: here 5 minutes, so a
        // start sent again an hour later (the redrive) would start a second execution.
        { faults: [{ operation: 'StartPipelineExecution', pipelineName: 'P3', error: 'ValidationException', count: 1 }], clientRequestTokenSeconds: 300 },
      );
    const input = { order: ['P1', ['P2', 'P3'], 'P4'] };

    it.each(['events', 'poll'] as const)('%s: the started one is watched to its end, then the run fails with the refusal by name, naming both', async (completion) => {
      const { report } = await runTrain(theWorld(), input, { settings: { completion } });

      expect(report).toMatchObject({ status: 'FAILED', error: 'AwsRequestRejected' });
      const started = ours(report);
      expect(started.map((execution) => [execution.pipelineName, execution.status])).toEqual([
        ['P1', 'Succeeded'],
        ['P2', 'Succeeded'],
      ]);
      expect(report.cause).toMatch(/^P3 \(position 2 of 3, in a group of 2\) was not started: StartPipelineExecution P3: ValidationException/);
      expect(report.cause).toContain(`P2 (position 2 of 3, in a group of 2) execution ${started[1]!.pipelineExecutionId} Succeeded`);
      expect(report.cause).toContain('Later pipelines were not started.');
    });

    it('redriven a day later, starts the refused member only: each pipeline started once, in order', async () => {
      const { report } = await runTrain(theWorld(), input, { redrive: true, redriveAfterSeconds: day });

      expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
      expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2', 'P3', 'P4']);
    });
  });

  it('a group of week-long approvals completes, sharing one history budget', async () => {
    const approvals = ['A1', 'A2', 'A3', 'A4'].map((name, index) => ({ name, durationSeconds: 7 * day - index * 3600 }));

    // Polled: one look a loop for the whole group, so four weeks in parallel cost one week's history.
    const { report } = await runTrain(world(approvals), { order: [['A1', 'A2', 'A3', 'A4']] }, { settings: { completion: 'poll' } });

    expectWholeTrain(report, ['A1', 'A2', 'A3', 'A4']);
    expect(report.stats.executions).toBe(1);
    expect(report.stats.historyEvents).toBeLessThan(historyEventLimit / 2);
  }, longTrain);

  it('shows the groups on a dry run', async () => {
    const report = await runOnce(world([{ name: 'P1', durationSeconds: 60 }, { name: 'P2', durationSeconds: 60 }]), {
      order: [['P1', 'P2']],
      dryRun: true,
    });

    expect(report.output).toMatchObject({ order: [['P1', 'P2']], count: 1, dryRun: true });
  });
});

describe('resume: from and redrive', () => {
  describe('a start CodePipeline took whose answer was lost on every attempt, redriven a day later (tokens kept 5 minutes)', () => {
    // The start function crashes after its call on the first try and on each of the Task's three
    // retries: the execution fails with the pipeline running and no run knowing its id.
    const crashedStarts = (pipelines: Record<string, unknown>[]) =>
      world(pipelines, { faults: [{ handler: 'start-pipeline', crash: 'afterCall', count: 4 }], clientRequestTokenSeconds: 300 });

    it.each(['events', 'poll'] as const)('%s: the redrive takes the execution the failed attempt started, and starts it nowhere again', async (completion) => {
      const theWorld = crashedStarts([
        { name: 'P1', durationSeconds: 600 },
        { name: 'P2', durationSeconds: 300 },
      ]);

      const { report, events } = await runTrain(theWorld, { order: ['P1', 'P2'] }, { redrive: true, redriveAfterSeconds: day, settings: { completion } });

      expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
      expect(report.earlierAttempts).toEqual([expect.objectContaining({ error: 'Lambda.Unknown', state: 'StartPipelines' })]);
      expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
      const [p1] = ours(report);
      const pipelines = (report.output as { pipelines: { pipelineName: string; pipelineExecutionId: string; status: string; startLost?: boolean }[] }).pipelines;
      expect(pipelines.map((pipeline) => [pipeline.pipelineName, pipeline.status, pipeline.startLost])).toEqual([
        ['P1', 'Succeeded', true],
        ['P2', 'Succeeded', undefined],
      ]);
      expect(pipelines[0]!.pipelineExecutionId).toBe(p1!.pipelineExecutionId);
      // P1 ended a day before the redrive, its event long gone: the redrive looks at once.
      const taken = events.filter((event) => event.type === 'started').flatMap((event) => (event.output as Run).members.filter((member) => member.startLost));
      expect(taken).toEqual([expect.objectContaining({ pipelineName: 'P1', pipelineExecutionId: p1!.pipelineExecutionId })]);
      expect(Date.parse(taken[0]!.nextLookAt!)).toBe(Date.parse(taken[0]!.watchedSince!));
    });

    it('a group: both members taken, each started once', async () => {
      const theWorld = crashedStarts([
        { name: 'P1', durationSeconds: 600 },
        { name: 'P2', durationSeconds: 3 * day },
        { name: 'P3', durationSeconds: 300 },
      ]);

      const { report, events } = await runTrain(theWorld, { order: [['P1', 'P2'], 'P3'] }, { redrive: true, redriveAfterSeconds: day });

      expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
      expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2', 'P3']);
      const taken = events.filter((event) => event.type === 'started').flatMap((event) => (event.output as Run).members.filter((member) => member.startLost));
      expect(taken.map((member) => member.pipelineName)).toEqual(['P1', 'P2']);
      // P2 was still running at the redrive: P3 started after it ended, not before.
      const byName = Object.fromEntries(ours(report).map((execution) => [execution.pipelineName, execution]));
      expect(Date.parse(byName.P3!.startedAt)).toBeGreaterThanOrEqual(Date.parse(byName.P2!.finishedAt!));
    });
  });

  it('`from` skips the entries before the named pipeline, and reports them Skipped', async () => {
    const { report } = await runTrain(world(['P1', 'P2', 'P3', 'P4'].map((name) => ({ name, durationSeconds: 300 }))), {
      order: ['P1', ['P2', 'P3'], 'P4'],
      from: 'P3',
    });

    expect(report.status).toBe('SUCCEEDED');
    expect(ours(report).map((execution) => execution.pipelineName).sort()).toEqual(['P2', 'P3', 'P4']);
    const pipelines = (report.output as { pipelines: { pipelineName: string; status: string }[] }).pipelines;
    expect(pipelines.filter((pipeline) => pipeline.status === 'Skipped').map((pipeline) => pipeline.pipelineName)).toEqual(['P1']);
  });

  it('redrive after a lone pipeline failed: starts it again once, with a new token, and goes on; succeeded ones are not rerun', async () => {
    const theWorld = world([
      { name: 'P1', durationSeconds: 300 },
      { name: 'P2', durationSeconds: 600, outcomes: ['Failed', 'Succeeded'] },
      { name: 'P3', durationSeconds: 300 },
    ]);

    const { report, lastRun } = await runTrain(theWorld, { order: ['P1', 'P2', 'P3'] }, { redrive: true });

    expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    // What the failed attempt wrote is not known to the handlers: they count an upper bound for it.
    const last = lastRun.get(report.executionName)!;
    const counted = last.history.events + last.history.pending + 5;
    expect(counted).toBeGreaterThanOrEqual(report.generations[0]!.historyEvents);
    expect(counted - report.generations[0]!.historyEvents).toBeLessThanOrEqual(redriveEvents);
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status])).toEqual([
      ['P1', 'Succeeded'],
      ['P2', 'Failed'],
      ['P2', 'Succeeded'],
      ['P3', 'Succeeded'],
    ]);
    expect(report.generations).toHaveLength(1);
  });

  it('a redrive of a continuation restarts a member a redrive of an earlier execution restarted: a new start, the pipeline runs again', async () => {
    // Prepare: P2 runs two days, polled, so the train continues as new while it runs; it fails twice, then succeeds.
    const engine = await LocalEngine.create({
      world: world([{ name: 'P1', durationSeconds: 60 }, { name: 'P2', durationSeconds: 2 * day, outcomes: ['Failed', 'Failed', 'Succeeded'] }]),
      settings: { completion: 'poll', continueAtEvents: 1_000 },
    });

    // Act: the first failure is redriven at once, in the execution it failed in; the second comes in a later one, redriven then.
    const first = await engine.run({ input: { order: ['P1', 'P2'] }, redrive: true });
    const arnOf = (generation: number) => `${executionArnPrefix(engine.stateMachineArn)}${generation === 1 ? first.executionName : successorName(first.executionName, generation)}`;
    let generation = first.generations.length;
    expect(engine.redriveExecution(arnOf(generation))).toBe(true);
    // The redriven execution goes on, and continues as new while P2 runs again: follow the train to its end.
    for (;;) {
      await untilEnded(engine, arnOf(generation));
      if (engine.emulator.stepFunctions.execution(arnOf(generation + 1)) === undefined) break;
      generation += 1;
    }

    // Assess: the second failure came after a continuation; each redrive started P2 once more.
    expect(first).toMatchObject({ status: 'FAILED', error: 'PipelineFailed', redrives: 1 });
    expect(first.generations.length).toBeGreaterThan(2);
    expect(engine.emulator.stepFunctions.execution(arnOf(generation))!.status).toBe('SUCCEEDED');
    expect(ours({ ...first, world: { executions: engine.emulator.executions() } }).map((execution) => [execution.pipelineName, execution.status])).toEqual([
      ['P1', 'Succeeded'],
      ['P2', 'Failed'],
      ['P2', 'Failed'],
      ['P2', 'Succeeded'],
    ]);
  }, longTrain);

  it('redrive after a group member failed: restarts that member only', async () => {
    const theWorld = world([
      { name: 'P1', durationSeconds: 300 },
      { name: 'P2', durationSeconds: 600, outcomes: ['Failed', 'Succeeded'] },
      { name: 'P3', durationSeconds: 900 },
      { name: 'P4', durationSeconds: 300 },
    ]);

    const { report } = await runTrain(theWorld, { order: ['P1', ['P2', 'P3'], 'P4'] }, { redrive: true });

    expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    const started = ours(report).map((execution) => execution.pipelineName);
    expect(started.filter((name) => name === 'P2')).toHaveLength(2);
    expect(started.filter((name) => name === 'P3')).toHaveLength(1);
    expect(started.at(-1)).toBe('P4');
  });

  it('without redrive the failed run stays failed, naming the pipeline', async () => {
    const theWorld = world([{ name: 'P2', durationSeconds: 600, outcomes: ['Failed', 'Succeeded'] }]);

    const { report } = await runTrain(theWorld, { order: ['P2'] });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed', redrives: 0 });
  });
});
