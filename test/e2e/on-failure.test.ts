import { closeLocalEngine, LocalEngine, type RunEvent, type RunReport } from '../../local/engine.js';
import { offsetFrom, palette, ProgressPrinter, summary } from '../../bin/format.js';
import { pipelinesJson, summaryRows } from '../../bin/summary.js';
import type { StageConfig } from '../../src/config.js';
import type { Plan, PipelineResult, Run } from '../../src/run.js';
import { expectSequential, ours, startTime, world } from './support.js';

/*
 * onFailure: wait, end to end in the local engine: a FAILED pipeline execution holds the train.
 * The emulator scripts RetryStageExecution (the world's `retry`): the same execution is
 * InProgress again (RESUMED, attempt 2) and then Succeeded. What a user checks: the train goes
 * on by itself without a second start, or fails at the deadline saying it waited.
 */

afterAll(closeLocalEngine);

const sweepSeconds = 60;
const timeout = 3600;
// P1 ends at 300 s; P2 starts then, fails at 600 s, is retried at 1200 s and succeeds at 1320 s.
const retried = { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'flaky integration test', retry: { afterSeconds: 600, durationSeconds: 120 } };
const neverRetried = { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'flaky integration test' };
const train = (p2: Record<string, unknown>) => [{ name: 'P1', durationSeconds: 300 }, p2, { name: 'P3', durationSeconds: 300 }];

async function run(pipelines: Record<string, unknown>[], input: Record<string, unknown>, settings: Partial<StageConfig>, extra: Record<string, unknown> = {}) {
  const engine = await LocalEngine.create({ world: world(pipelines, extra), settings: { sweepSeconds, ...settings } });
  const events: RunEvent[] = [];
  const report = await engine.run({ input: { order: ['P1', 'P2', 'P3'], pipelineTimeoutSeconds: timeout, ...input }, onEvent: (event) => events.push(event) });
  return { engine, report, events };
}

const results = (report: RunReport) => (report.output as { pipelines: PipelineResult[] }).pipelines;
const startsOf = (report: RunReport, name: string) => ours(report).filter((execution) => execution.pipelineName === name);
const heldLooks = (events: RunEvent[]) =>
  events.filter((event): event is Extract<RunEvent, { type: 'checked' }> => event.type === 'checked' && (event.output as Run).members.some((member) => member.waitingForRetry === true));

describe.each(['events', 'poll'] as const)('onFailure: wait, completion: %s', (completion) => {
  it('a failed pipeline retried in CodePipeline and then succeeding lets the train go on, with no second start', async () => {
    const { report, events } = await run(train(retried), { onFailure: 'wait' }, { completion });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    const [p2] = startsOf(report, 'P2');
    expect(p2!.status).toBe('Succeeded');
    // The retried execution's own end, not its failure, let P3 start.
    expect(p2!.finishedAt).toBe(new Date(Date.parse(p2!.startedAt) + (300 + 600 + 120) * 1000).toISOString());
    const result = results(report).find((candidate) => candidate.pipelineName === 'P2')!;
    expect(result.pipelineExecutionId).toBe(p2!.pipelineExecutionId);
    expect(result.earlierExecutionIds).toBeUndefined();
    expect(heldLooks(events).length).toBeGreaterThanOrEqual(1);
  });

  it('a failed pipeline whose failed stage a later execution ran (a push with a fix) is held no more: the run fails then, not at its deadline', async () => {
    // P2 fails at 600 s; someone starts P2 again 120 s later, whose Build stage begins 30 s after that.
    const overtaken = { ...neverRetried, rerun: { afterSeconds: 120, durationSeconds: 300 } };

    const { report } = await run(train(overtaken), { onFailure: 'wait' }, { completion });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    const rerun = report.world.executions.find((execution) => execution.pipelineName === 'P2' && execution.startedBy !== 'sequencer')!;
    expect(report.cause).toContain(`ended Failed: flaky integration test; not held for a retry: execution ${rerun.pipelineExecutionId} has since run its failed stage Build, so CodePipeline can no longer retry it`);
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
    // Noticed within a sweep (events) or a poll of the later execution entering Build at 750 s, days before the deadline.
    expect(report.stats.simulatedSeconds).toBeLessThan(750 + 600);
  });

  it('a failed pipeline nobody retries fails the run at its deadline, naming it and the wait', async () => {
    const { report, events } = await run(train(neverRetried), { onFailure: 'wait' }, { completion });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(report.cause).toContain('P2 (position 2 of 3) execution');
    expect(report.cause).toContain('ended Failed: flaky integration test');
    expect(report.cause).toContain(`waited for a retry until its deadline (pipelineTimeoutSeconds ${timeout}) and saw none`);
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
    // P2 started at 300 s: the run held it until 300 + 3600 s, and no longer than a look after.
    expect(report.stats.simulatedSeconds).toBeGreaterThanOrEqual(300 + timeout);
    expect(report.stats.simulatedSeconds).toBeLessThan(300 + timeout + 60);
    expect(heldLooks(events).length).toBeGreaterThanOrEqual(1);
    // Noticed when first held, not by the deadline's look: the table and --json say how soon.
    const lastLook = events.filter((event) => event.type === 'checked').at(-1)!.output as Run;
    const p2 = lastLook.members.find((member) => member.pipelineName === 'P2')!;
    expect(p2.detectedBy).toBe(completion === 'events' ? 'event' : 'poll');
    expect(Date.parse(p2.detectedAt!) - Date.parse(p2.finishedAt!)).toBeLessThan(completion === 'events' ? 5_000 : 10 * 60_000);
  });

  it('a held member is held no more once another member of its group ended for good (Stopped): the run fails then, not at the deadline', async () => {
    const stopped = { name: 'P2', durationSeconds: 600, outcome: 'Stopped', statusSummary: 'stopped by alice' };
    const { report, events } = await run([{ ...neverRetried, name: 'P1' }, stopped, { name: 'P3', durationSeconds: 300 }], { order: [['P1', 'P2'], 'P3'], onFailure: 'wait' }, { completion });

    expect(report.status).toBe('FAILED');
    expect(report.cause).toContain('P1 (position 1 of 2, in a group of 2) execution');
    expect(report.cause).toContain('ended Failed: flaky integration test; not held for a retry: P2 ended Stopped, so no retry can let the entry succeed');
    expect(report.cause).toContain('ended Stopped: stopped by alice');
    expect(report.cause).not.toContain('saw none');
    expect(ours(report).map((execution) => execution.pipelineName).sort()).toEqual(['P1', 'P2']);
    // P2 stopped at 600 s: noticed then, not at the deadline an hour later.
    expect(report.stats.simulatedSeconds).toBeLessThan(600 + (completion === 'events' ? 5 : 10 * 60));
    // The line says why it is held no more, not that its deadline came.
    const lines: string[] = [];
    const printer = new ProgressPrinter((line) => lines.push(line), palette(false), offsetFrom(events[0]!.at));
    for (const event of events) printer.on(event);
    expect(lines.filter((line) => / P1 Failed after /.test(line)).map((line) => line.replace(/^ *\+\S+ {2}/, ''))).toEqual(['P1 Failed after 5 min, held no more: P2 ended Stopped: flaky integration test']);
  });

  it('redriven after a release: both the stopped member and the released one start again, and the train goes on', async () => {
    const pipelines = [
      { name: 'A', durationSeconds: 300, outcomes: ['Failed', 'Succeeded'], statusSummary: 'flaky' },
      { name: 'C', durationSeconds: 600, outcomes: ['Stopped', 'Succeeded'] },
      { name: 'P3', durationSeconds: 300 },
    ];
    const engine = await LocalEngine.create({ world: world(pipelines), settings: { sweepSeconds, completion } });

    const report = await engine.run({ input: { order: [['A', 'C'], 'P3'], pipelineTimeoutSeconds: timeout, onFailure: 'wait' }, redrive: true });

    expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status])).toEqual([
      ['A', 'Failed'],
      ['C', 'Stopped'],
      ['A', 'Succeeded'],
      ['C', 'Succeeded'],
      ['P3', 'Succeeded'],
    ]);
    // Restarted at the redrive, not held until A's old deadline.
    expect(report.stats.simulatedSeconds).toBeLessThan(timeout);
  });

  it('fail (the default) is unchanged: the failure fails the run when noticed, retried later or not', async () => {
    const { report, events } = await run(train(retried), {}, { completion });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(report.cause).not.toContain('waited for a retry');
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
    // Noticed within a poll of the failure at 600 s, long before the retry at 1200 s.
    expect(report.stats.simulatedSeconds).toBeLessThan(600 + 120);
    expect(heldLooks(events)).toHaveLength(0);
  });
});

describe('onFailure: wait with completion: events', () => {
  it('is woken by RESUMED and then SUCCEEDED, and the FAILED event does not end the held wait', async () => {
    const { report, engine, events } = await run(train(retried), { onFailure: 'wait' }, { completion: 'events' });

    expect(report.status).toBe('SUCCEEDED');
    // P1 and P3 one look each; P2 three: its failure, its retry, its success. Nothing else wakes the run (no sweep of an ended watch).
    expect(events.filter((event) => event.type === 'checked')).toHaveLength(5);
    const p2 = startsOf(report, 'P2')[0]!.pipelineExecutionId;
    const delivered = engine.bus!.records.filter((record) => record.change.pipelineExecutionId === p2 && record.fate === 'delivered').map((record) => [record.change.state, record.change.attempt]);
    // The rule does not match STARTED.
    expect(delivered).toEqual([
      ['FAILED', 1],
      ['RESUMED', 2],
      ['SUCCEEDED', 2],
    ]);
    expect(results(report).find((result) => result.pipelineName === 'P2')!.detectedBy).toBe('event');
  });

  it('a retry that fails again holds the train again; a second retry that succeeds lets it go on, each told and counted', async () => {
    const twice = { ...neverRetried, retry: [{ afterSeconds: 600, durationSeconds: 120, outcome: 'Failed', statusSummary: 'still flaky' }, { afterSeconds: 300, durationSeconds: 60 }] };
    const lines: string[] = [];
    const { report, engine, events } = await run(train(twice), { onFailure: 'wait' }, { completion: 'events' });
    const printer = new ProgressPrinter((line) => lines.push(line), palette(false), offsetFrom(events[0]!.at));
    for (const event of events) printer.on(event);

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    expect(startsOf(report, 'P2')).toHaveLength(1);
    const p2 = startsOf(report, 'P2')[0]!.pipelineExecutionId;
    const delivered = engine.bus!.records.filter((record) => record.change.pipelineExecutionId === p2 && record.fate === 'delivered').map((record) => [record.change.state, record.change.attempt]);
    expect(delivered).toEqual([
      ['FAILED', 1],
      ['RESUMED', 2],
      ['FAILED', 2],
      ['RESUMED', 3],
      ['SUCCEEDED', 3],
    ]);
    expect(results(report).find((result) => result.pipelineName === 'P2')).toMatchObject({ retries: 2, detectedBy: 'event' });
    expect(lines.filter((line) => / P2 (Failed, waiting|was retried)/.test(line)).map((line) => line.replace(/^ *\+\S+ {2}/, ''))).toEqual([
      'P2 Failed, waiting for a retry until +1:05:01: flaky integration test',
      'P2 was retried in CodePipeline, now InProgress',
      'P2 Failed, waiting for a retry until +1:05:01: still flaky',
      'P2 was retried in CodePipeline (retry 2), now InProgress',
    ]);
  });

  it('a retry that fails again, and no other: the run fails at the deadline saying it was retried and failed again', async () => {
    const once = { ...neverRetried, retry: [{ afterSeconds: 600, durationSeconds: 120, outcome: 'Failed' }] };
    const lines: string[] = [];
    const { report, events } = await run(train(once), { onFailure: 'wait' }, { completion: 'events' });
    const printer = new ProgressPrinter((line) => lines.push(line), palette(false), offsetFrom(events[0]!.at));
    for (const event of events) printer.on(event);

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(report.cause).toContain(`ended Failed: flaky integration test; it was retried in CodePipeline once and failed again, then waited for another retry until its deadline (pipelineTimeoutSeconds ${timeout}) and saw none`);
    expect(lines.some((line) => /P2 Failed after .*, retried once and failed again, and no other retry was seen by its deadline: flaky integration test$/.test(line))).toBe(true);
    expect(startsOf(report, 'P2')).toHaveLength(1);
  });

  it('a retry that runs and fails again between two sweeps, its RESUMED lost: that failure was noticed at the deadline, never before it happened', async () => {
    // P2 fails at 600 s; the retry runs from 640 to 645 s, between the sweeps of 637 and 697 s, which find it Failed.
    const unseen = { ...neverRetried, retry: { afterSeconds: 40, durationSeconds: 5, outcome: 'Failed' } };

    const { report, events } = await run(train(unseen), { onFailure: 'wait' }, { completion: 'events' }, { events: { drop: { states: ['RESUMED'] } } });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    // What the summary and --json say of it, as the command line reads them.
    const decided = events.find((event): event is Extract<RunEvent, { type: 'decided' }> => event.type === 'decided')!.output as { plan: Plan };
    const lastLook = events.filter((event) => event.type === 'checked').at(-1)!.output as Run;
    const p2 = pipelinesJson(summaryRows(decided.plan, lastLook, report)).find((row) => row.pipelineName === 'P2')!;
    // It ends with the retry's failure (P2 started a second or so after P1's end, at 300 s).
    expect(Date.parse(p2.finishedAt!) - Date.parse(startTime)).toBeGreaterThanOrEqual(645_000);
    expect(p2).toMatchObject({ status: 'Failed', detectedBy: 'timeout' });
    expect(p2.detectionSeconds).toBeGreaterThan(0);
  });

  it('a retry that fails again before its late RESUMED wakes a look: that look noticed the later failure, which a release later does not date again', async () => {
    // A fails at 100 s, is retried at 110 s and fails again at 115 s; its RESUMED comes 20 s late and
    // wakes a look at about 131 s, which reads it Failed; B's stop at 300 s releases it.
    const group = [
      { name: 'A', durationSeconds: 100, outcome: 'Failed', statusSummary: 'boom', retry: [{ afterSeconds: 10, durationSeconds: 5, outcome: 'Failed' }] },
      { name: 'B', durationSeconds: 300, outcome: 'Stopped' },
    ];

    const { report, events } = await run(group, { order: [['A', 'B']], onFailure: 'wait' }, { completion: 'events' }, { events: { delaySeconds: 1, lateSeconds: { RESUMED: 20 } } });

    expect(report).toMatchObject({ status: 'FAILED' });
    const lastLook = events.filter((event) => event.type === 'checked').at(-1)!.output as Run;
    const a = lastLook.members.find((member) => member.pipelineName === 'A')!;
    const secondsIn = (iso: string) => (Date.parse(iso) - Date.parse(startTime)) / 1000;
    expect(secondsIn(a.finishedAt!)).toBeGreaterThanOrEqual(115);
    // Noticed by the look the late RESUMED woke, a few seconds after it came, not by B's release at 300 s.
    expect(secondsIn(a.detectedAt!)).toBeGreaterThan(130);
    expect(secondsIn(a.detectedAt!)).toBeLessThan(140);
    expect(a).toMatchObject({ detectedBy: 'event', retries: 1, releasedBy: expect.anything() as unknown });
  });

  it('a retry still running at the deadline: PipelineTimedOut, saying it was the retry that ran past it', async () => {
    const slowRetry = { ...neverRetried, retry: { afterSeconds: 600, durationSeconds: 7200 } };

    const { report } = await run(train(slowRetry), { onFailure: 'wait' }, { completion: 'events' });

    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineTimedOut' });
    expect(report.cause).toMatch(/^P2 \(position 2 of 3\) execution \S+ is still InProgress after 1 h, past pipelineTimeoutSeconds 3600 \(1 h\)\. The pipeline was left running \(its failed stage retried once, the last retry still running\)/);
    expect(startsOf(report, 'P2')).toHaveLength(1);
  });

  it('an out-of-order FAILED delivered after RESUMED does not end the wait', async () => {
    // FAILED at 600 s reaches the function 700 s late, after RESUMED (1200 s) and before SUCCEEDED (1320 s).
    const { report, engine } = await run(train(retried), { onFailure: 'wait' }, { completion: 'events' }, { events: { delaySeconds: 1, lateSeconds: { FAILED: 700 } } });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    const p2 = startsOf(report, 'P2');
    expect(p2).toHaveLength(1);
    const deliveredAt = (state: string) =>
      engine.bus!.records.find((record) => record.change.pipelineExecutionId === p2[0]!.pipelineExecutionId && record.change.state === state)!.deliveredAt[0]!;
    expect(deliveredAt('FAILED')).toBeGreaterThan(deliveredAt('RESUMED'));
    expect(deliveredAt('FAILED')).toBeLessThan(deliveredAt('SUCCEEDED'));
  });

  it('with every event lost, the sweeper notices the retry and the success', async () => {
    const { report, events } = await run(train(retried), { onFailure: 'wait' }, { completion: 'events' }, { events: { off: true } });

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    expect(startsOf(report, 'P2')).toHaveLength(1);
    const p2 = results(report).find((result) => result.pipelineName === 'P2')!;
    expect(p2.detectedBy).toBe('sweep');
    // What P2's looks left it as: held at its failure, running again at its retry (the sweeper's
    // RESUMED), then moved to the results at its success. A sweep that finds it still Failed wakes nothing.
    const p2AfterEachLook = events
      .filter((event) => event.type === 'checked')
      .flatMap((event) => (event.output as Run).members.filter((member) => member.pipelineName === 'P2'))
      .map((member) => (member.waitingForRetry === true ? 'held' : member.status));
    expect(p2AfterEachLook).toEqual(['held', 'InProgress']);
  });

  it('in a group, a held member keeps the entry open while the others end; its retry then lets the train go on', async () => {
    const { report } = await run([{ name: 'P1', durationSeconds: 300 }, retried, { name: 'P3', durationSeconds: 300 }], { order: [['P1', 'P2'], 'P3'], onFailure: 'wait' }, { completion: 'events' });

    expect(report.status).toBe('SUCCEEDED');
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status])).toEqual([
      ['P1', 'Succeeded'],
      ['P2', 'Succeeded'],
      ['P3', 'Succeeded'],
    ]);
    const [, p2, p3] = ours(report);
    expect(Date.parse(p3!.startedAt)).toBeGreaterThanOrEqual(Date.parse(p2!.finishedAt!));
  });

  it('takes onFailure from the stage param when the input says nothing', async () => {
    const { report } = await run(train(retried), {}, { completion: 'events', onFailure: 'wait' });

    expect(report.status).toBe('SUCCEEDED');
    expect(startsOf(report, 'P2')).toHaveLength(1);
  });
});

describe('onFailure: wait, what the user sees', () => {
  it('progress lines, the summary and --json pipelines[] say Failed, waiting for a retry', async () => {
    const lines: string[] = [];
    const { report, events } = await run(train(retried), { onFailure: 'wait' }, { completion: 'events' });
    const printer = new ProgressPrinter((line) => lines.push(line), palette(false), offsetFrom(events[0]!.at));
    for (const event of events) printer.on(event);

    expect(report.status).toBe('SUCCEEDED');

    expect(lines.some((line) => /P2 Failed, waiting for a retry until .*: flaky integration test/.test(line))).toBe(true);
    expect(lines.some((line) => /P2 was retried in CodePipeline, now InProgress/.test(line))).toBe(true);
    expect(lines.some((line) => /P2 Succeeded after/.test(line))).toBe(true);

    const decided = events.find((event): event is Extract<RunEvent, { type: 'decided' }> => event.type === 'decided')!.output as { plan: Plan };
    const held = heldLooks(events)[0]!.output as Run;
    const rows = summaryRows(decided.plan, held, { status: 'RUNNING' });
    const p2 = rows.find((row) => row.pipelineName === 'P2')!;
    expect(p2).toMatchObject({ status: 'Failed', waitingForRetry: true });
    expect(p2.reason).toMatch(/^Failed, waiting for a retry until .*: flaky integration test$/);
    expect(pipelinesJson(rows).find((row) => row.pipelineName === 'P2')).toMatchObject({ status: 'Failed', waitingForRetry: true, reason: p2.reason });
    // The table shows the deadline as it shows its other times (an offset here), the line as the progress line does.
    const heldLine = lines.find((line) => / P2 Failed, waiting for a retry until /.test(line))!;
    const table = summary({ status: 'RUNNING', stats: report.stats }, rows, palette(false), offsetFrom(events[0]!.at));
    const until = / until (\S+): /.exec(heldLine)![1]!;
    expect(until).toMatch(/^\+\d+:\d\d:\d\d$/);
    expect(table.find((line) => / P2 /.test(line))).toContain(`Failed, waiting for a retry until ${until}: flaky integration test`);
  });
});
