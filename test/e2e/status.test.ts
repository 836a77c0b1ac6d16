import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { closeLocalEngine, LocalEngine, type RunReport } from '../../local/engine.js';
import type { World } from '../../local/world.js';
import { readFileSync } from 'node:fs';
import { statusJson, statusLines as printStatus } from '../../bin/cli.js';
import { readStatusFor, type StatusReport } from '../../bin/status.js';
import { loadWorld } from '../../local/world.js';
import { ProgressPrinter, offsetFrom, palette } from '../../bin/format.js';
import { RunState, seeEvent, summaryRows, type SummaryRow } from '../../bin/summary.js';
import type { StageConfig } from '../../src/config.js';
import { world } from './support.js';

afterAll(closeLocalEngine);

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * A run through the local engine that keeps its history, as `sequencer emulator --run` does,
 * then `status` read back through the SDK from the emulator: what the run printed and
 * summarised, and what status rebuilds from Step Functions' history alone.
 */
async function runThenStatus(theWorld: World, input: unknown, options: { settings?: Partial<StageConfig>; redrive?: boolean; redriveAfterSeconds?: number } = {}) {
  const engine = await LocalEngine.create({
    world: theWorld,
    stateMachineName: 'codepipeline-sequencer-dev',
    recordHistory: true,
    ...(options.settings && { settings: options.settings }),
  });
  const lines: string[] = [];
  const state = new RunState();
  const runStart = engine.clock.now();
  const printer = new ProgressPrinter((line) => lines.push(line), palette(false), offsetFrom(runStart));
  const report = await engine.run({
    input,
    ...(options.redrive && { redrive: true }),
    ...(options.redriveAfterSeconds !== undefined && { redriveAfterSeconds: options.redriveAfterSeconds }),
    onEvent: (event) => {
      seeEvent(state, event);
      printer.on(event);
    },
  });
  const client = new SFNClient({ endpoint: engine.emulator.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const status = await readStatusFor(client, 'dev', undefined);
    const statusLines: string[] = [];
    const statusPrinter = new ProgressPrinter((line) => statusLines.push(line), palette(false), offsetFrom(status.startedAt));
    for (const event of status.events) statusPrinter.on(event);
    return { report, rows: summaryRows(state.plan, state.run, report), lines, status, statusLines, endpoint: engine.emulator.endpoint };
  } finally {
    client.destroy();
  }
}

/**
 * The run's progress lines as status prints them. Lambda reports a look that failed the run by
 * its error alone, so status has no end time for that execution: its line, as its row, gives no
 * duration, where the run's, which saw the look, gives the execution's and how late it was noticed.
 */
const asStatusTellsIt = (lines: string[]) => lines.map((line) => line.replace(/( Failed) after [^(:]+ \([a-z]+, \+[^)]+\)(?=: )/, '$1'));

const essentials = (rows: SummaryRow[]) => rows.map((row) => [row.position, row.pipelineName, row.status, row.pipelineExecutionId, row.supersededExecutionIds, row.reason]);

const sameCounts = (report: RunReport, stats: RunReport['stats']) => {
  expect({ transitions: stats.stateTransitions, events: stats.historyEvents, lambdas: stats.lambdaInvocations, executions: stats.executions }).toEqual({
    transitions: report.stats.stateTransitions,
    events: report.stats.historyEvents,
    lambdas: report.stats.lambdaInvocations,
    executions: report.stats.executions,
  });
};

describe('sequencer status, read from the emulator after emulator --run', () => {
  it('a succeeded run: the same progress lines, the same summary rows and counts as the run printed', async () => {
    const { report, rows, lines, status, statusLines } = await runThenStatus(world([{ name: 'P1', durationSeconds: 600 }, { name: 'P2', durationSeconds: 1500 }]), { order: ['P1', 'P2'] });

    expect(report.status).toBe('SUCCEEDED');
    expect(status.status).toBe('SUCCEEDED');
    expect(statusLines).toEqual(lines);
    expect(status.rows).toEqual(rows);
    sameCounts(report, status.stats);
    expect(statusJson(status).pipelines.map((row) => [row.position, row.pipelineName, row.status])).toEqual([
      [1, 'P1', 'Succeeded'],
      [2, 'P2', 'Succeeded'],
    ]);
  });

  it('a failed run: the failure read from the history matches the run’s error, later pipelines Not started', async () => {
    const theWorld = world([
      { name: 'P1', durationSeconds: 300 },
      { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'Unit tests failed' },
      { name: 'P3', durationSeconds: 300 },
    ]);

    const { report, rows, lines, status, statusLines, endpoint } = await runThenStatus(theWorld, { order: ['P1', 'P2', 'P3'] });

    expect(report.status).toBe('FAILED');
    // As on AWS, Step Functions holds the function's JSON error document as the cause; status, as the run, tells its message.
    const described = await new SFNClient({ endpoint, region: 'us-east-1', credentials }).send(new DescribeExecutionCommand({ executionArn: `${status.stateMachineArn.replace(':stateMachine:', ':execution:')}:${status.executionName}` }));
    expect(JSON.parse(described.cause!)).toEqual({ errorType: 'PipelineFailed', errorMessage: report.cause, trace: expect.arrayContaining([`PipelineFailed: ${report.cause}`]) });
    expect({ status: status.status, error: status.error, cause: status.cause }).toEqual({ status: 'FAILED', error: report.error, cause: report.cause });
    expect(lines.filter((line) => / P2 Failed after 5 min \(event, \+[\d.]+ s\): Unit tests failed$/.test(line))).toHaveLength(1);
    expect(statusLines).toEqual(asStatusTellsIt(lines));
    expect(statusLines.at(-1)).toMatch(/ P2 Failed: Unit tests failed$/);
    expect(essentials(status.rows)).toEqual(essentials(rows));
    expect(status.rows.map((row) => row.status)).toEqual(['Succeeded', 'Failed', 'Not started']);
    sameCounts(report, status.stats);
    // Never redriven: its one failure is the outcome, not an earlier attempt.
    expect(statusJson(status).earlierAttempts).toEqual([]);
    const onGitHub = printStatus(status, palette(false), false, true);
    expect(onGitHub[0]).toMatch(/^::group::codepipeline-sequencer · status · /);
    expect(onGitHub.indexOf('::endgroup::')).toBe(statusLines.length + 1);
  });

  it('superseded and followed, the newer one failed: the row names both executions and the failure', async () => {
    const theWorld = world([
      { name: 'P1', durationSeconds: 300, outcome: 'Superseded', supersededBy: { durationSeconds: 300, outcome: 'Failed', statusSummary: 'Deploy failed' } },
      { name: 'P2', durationSeconds: 300 },
    ]);

    const { report, rows, status } = await runThenStatus(theWorld, { order: ['P1', 'P2'] });

    expect(report.error).toBe('PipelineFailed');
    const [row] = status.rows;
    expect(row).toMatchObject({ status: 'Failed', reason: 'PipelineFailed: Deploy failed' });
    expect(row!.supersededExecutionIds).toHaveLength(1);
    expect(report.cause).toContain(`execution ${row!.pipelineExecutionId} ended Failed`);
    expect(essentials(status.rows)).toEqual(essentials(rows));
  });

  it(
    'a train continued across executions: status starts from the first, follows each continuation, and sums the whole train',
    async () => {
      // Four hours of looks every 30 s pass a 1,000-event handover more than once.
      const theWorld = world([
        { name: 'Long', durationSeconds: 4 * 3600 },
        { name: 'After', durationSeconds: 60 },
      ]);

      const { report, rows, lines, status, statusLines } = await runThenStatus(
        theWorld,
        { order: ['Long', 'After'] },
        { settings: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll', continueAtEvents: 1_000 } },
      );

      expect(report.status).toBe('SUCCEEDED');
      expect(report.generations.length).toBeGreaterThan(2);
      // `status` with no execution reads the latest, a continuation, and starts from the train's first.
      expect(status.executionName).toBe(report.executionName);
      expect(status.generations.map((generation) => generation.executionName)).toEqual(report.generations.map((generation) => generation.executionName));
      expect(statusLines).toEqual(lines);
      expect(statusLines.some((line) => line.includes('the run continues as new execution'))).toBe(true);
      expect(status.rows).toEqual(rows);
      sameCounts(report, status.stats);
    },
    180_000,
  );

  it('a redriven run: the history goes on with ExecutionRedriven, and status tells the redrive as the run did', async () => {
    const theWorld = world([{ name: 'P1', durationSeconds: 300, outcomes: ['Failed', 'Succeeded'], statusSummary: 'flaky test' }]);

    const { report, rows, lines, status, statusLines, endpoint } = await runThenStatus(theWorld, { order: ['P1'] }, { redrive: true });

    expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    expect(status).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    expect(statusLines).toEqual(asStatusTellsIt(lines));
    expect(statusLines.some((line) => line.includes(`${report.executionName} redriven from CheckPipelines (redrive 1)`))).toBe(true);
    expect(status.rows).toEqual(rows);
    expect(rows[0]!.status).toBe('Succeeded');
    // Succeeded now, and still saying that it failed first, and why.
    expect(status.earlierAttempts).toMatchObject([{ executionName: report.executionName, attempt: 1, status: 'FAILED', error: 'PipelineFailed', state: 'CheckPipelines', pipelines: ['P1'] }]);
    expect(status.earlierAttempts[0]!.cause).toMatch(/^P1 \(position 1 of 1\) execution \S+ ended Failed: flaky test/);
    expect(printStatus(status, palette(false), false).slice(-3)).toEqual([
      `${report.executionName} attempt 1  FAILED at +0:05:01 in CheckPipelines (P1), redriven at +0:05:01`,
      `  PipelineFailed: ${status.earlierAttempts[0]!.cause}`,
      expect.stringMatching(/^SUCCEEDED {2}1 pipeline succeeded/) as string,
    ]);
    const client = new SFNClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const { events } = await client.send(
      new GetExecutionHistoryCommand({ executionArn: `arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:${report.executionName}`, maxResults: 1000 }),
    );
    client.destroy();
    expect(events!.filter((event) => event.type === 'ExecutionRedriven').map((event) => event.executionRedrivenEventDetails)).toEqual([{ redriveCount: 1 }]);
    expect(events!.filter((event) => event.type === 'ExecutionStarted')).toHaveLength(1);
  });

  it('failed, redriven an hour later, failed again: status tells how, where and when attempt 1 ended and when it was redriven', async () => {
    const theWorld = world([
      { name: 'P1', durationSeconds: 300 },
      { name: 'P2', durationSeconds: 300, outcomes: ['Failed', 'Failed'], statusSummary: 'Unit tests failed' },
      { name: 'P3', durationSeconds: 300 },
    ]);

    const { report, status } = await runThenStatus(theWorld, { order: ['P1', 'P2', 'P3'] }, { redrive: true, redriveAfterSeconds: 3600 });

    const [firstP2] = status.rows[1]!.earlierExecutionIds;
    const firstCause = `P2 (position 2 of 3) execution ${firstP2} ended Failed: Unit tests failed. Later pipelines were not started.`;
    expect({ status: status.status, error: status.error, cause: status.cause }).toEqual({ status: 'FAILED', error: 'PipelineFailed', cause: report.cause });
    expect(status.cause).not.toBe(firstCause);
    expect(status.earlierAttempts).toEqual([
      {
        executionName: report.executionName,
        attempt: 1,
        status: 'FAILED',
        error: 'PipelineFailed',
        cause: firstCause,
        state: 'CheckPipelines',
        pipelines: ['P2'],
        endedAt: Date.parse('2026-01-01T00:10:02.045Z'),
        redrivenAt: Date.parse('2026-01-01T01:10:02.045Z'),
      },
    ]);
    const printed = printStatus(status, palette(false), false);
    expect(printed.slice(-4)).toEqual([
      `${report.executionName} attempt 1  FAILED at +0:10:02 in CheckPipelines (P2), redriven at +1:10:02`,
      `  PipelineFailed: ${firstCause}`,
      `FAILED  PipelineFailed: ${report.cause}`,
      expect.stringMatching(/^after /) as string,
    ]);
    expect(statusJson(status)).toMatchObject({
      status: 'FAILED',
      redrives: 1,
      earlierAttempts: [{ attempt: 1, status: 'FAILED', error: 'PipelineFailed', cause: firstCause, state: 'CheckPipelines', pipelines: ['P2'], endedAt: '2026-01-01T00:10:02.045Z', redrivenAt: '2026-01-01T01:10:02.045Z' }],
    });
  });

  it('a live execution: RUNNING, the pipeline in progress without a reason, the next one Not started (not yet)', async () => {
    const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 3600 }, { name: 'P2', durationSeconds: 60 }]), stateMachineName: 'codepipeline-sequencer-dev', recordHistory: true });
    const client = new SFNClient({ endpoint: engine.emulator.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    let live: Promise<StatusReport> | undefined;
    // Once P1 has started: join the simulated clock, which holds it (the run waits for P1 in
    // simulated time, and cannot move on while status reads), and read once the Wait is entered.
    const readWhileWaiting = async (leave: () => void) => {
      try {
        const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:local-live';
        for (;;) {
          const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
          // Parked: the Wait entered (completion: poll), or the callback Task's token stored (events).
          if (['WaitStateEntered', 'TaskSubmitted'].includes(events?.[0]?.type ?? '')) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return await readStatusFor(client, 'dev', undefined);
      } finally {
        leave();
      }
    };

    const report = await engine.run({
      input: { order: ['P1', 'P2'] },
      executionName: 'local-live',
      onEvent: (event) => {
        if (event.type === 'started' && !live) live = readWhileWaiting(engine.clock.join());
      },
    });
    const status = await live!;
    client.destroy();

    expect(report.status).toBe('SUCCEEDED');
    expect(status.status).toBe('RUNNING');
    expect(status.rows.map((row) => [row.pipelineName, row.status, row.reason])).toEqual([
      ['P1', 'InProgress', undefined],
      ['P2', 'Not started', 'not yet'],
    ]);
    expect(printStatus(status, palette(false), false).at(-1)).toMatch(/^RUNNING {2}0 of 2 pipelines succeeded so far, after \d+ (s|min)/);
  });

  it('prints what the README shows for emulator --run with local/worlds/failing.json (lines elided with ...)', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = /```text\n(codepipeline-sequencer · status[\s\S]*?)```/.exec(readme)![1]!.split('\n').filter((line) => line.trim() !== '' && line.trim() !== '...');

    const { status } = await runThenStatus(await loadWorld('local/worlds/failing.json'), {});

    const printed = printStatus(status, palette(false), false);
    expect(sample.length).toBeGreaterThan(5);
    for (const line of sample) expect(printed).toContain(line);
  });
});
