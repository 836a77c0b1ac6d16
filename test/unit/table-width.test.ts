import { offsetFrom, palette, ProgressPrinter, summary } from '../../bin/format.js';
import type { SummaryRow } from '../../bin/summary.js';
import type { RunEvent } from '../../local/engine.js';

const start = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(start + seconds * 1000).toISOString();
const day = 86_400;

const rows: SummaryRow[] = [
  { position: 1, pipelineName: 'build-api', status: 'Succeeded', pipelineExecutionId: 'd55bd430-2260-66ed-5dd6-aa3574d3bbd9', supersededExecutionIds: [], earlierExecutionIds: [], startedAt: at(0), finishedAt: at(day), detectionSeconds: 338 },
  {
    position: 2,
    pipelineName: 'deploy-api',
    status: 'Failed',
    pipelineExecutionId: 'f61b377f-20ae-38ba-4079-4d844da2e9c6',
    supersededExecutionIds: [],
    earlierExecutionIds: [],
    startedAt: at(day + 338),
    finishedAt: at(11 * day + 338),
    detectionSeconds: 12,
    reason: 'PipelineFailed: Integration tests failed after a very long manual approval that nobody answered',
  },
  { position: 3, pipelineName: 'smoke-tests', status: 'Not started', supersededExecutionIds: [], earlierExecutionIds: [], reason: 'position 2 did not succeed' },
];
const report = { status: 'FAILED' as const, error: 'PipelineFailed', cause: 'deploy-api failed', stats: { stateTransitions: 1, historyEvents: 1, lambdaInvocations: 1, simulatedSeconds: 11 * day } };
const tableOf = (lines: string[]) => lines.slice(1, lines.indexOf('', 1));

describe('the summary table', () => {
  it.each([
    [1, '(1,495 state transitions, 509 history events, 493 Lambda invocations)'],
    [9, '(1,495 state transitions, 509 history events in the largest of 9 executions, 493 Lambda invocations)'],
  ])('counts a train of %i execution(s): transitions and invocations in all, the history of the largest execution, and says so', (executions, counts) => {
    // Prepare
    const train = { ...report, stats: { stateTransitions: 1495, historyEvents: 509, lambdaInvocations: 493, simulatedSeconds: 11 * day, executions } };

    // Act
    const lines = summary(train, rows, palette(false), offsetFrom(start), { clock: 'simulated' });

    // Assess
    expect(lines.at(-1)).toBe(`after 11 d of simulated time ${counts}`);
  });

  it('keeps every column when no width is given (a CI log, a file)', () => {
    // Act
    const lines = tableOf(summary(report, rows, palette(false), offsetFrom(start), { clock: 'simulated' }));

    // Assess
    expect(lines[0]).toMatch(/^#\s+pipeline\s+status\s+started\s+finished\s+duration\s+detected\s+execution\s+reason$/);
    expect(lines).toHaveLength(4);
  });

  it.each([80, 60])('fits %i columns: the reason wraps under its row, the least useful columns go', (width) => {
    // Act
    const lines = tableOf(summary(report, rows, palette(false), offsetFrom(start), { clock: 'simulated', width }));

    // Assess
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
    expect(lines[0]).toMatch(/^#\s+pipeline\s+status\s+started/);
    expect(lines[0]).not.toContain('detected');
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('PipelineFailed: Integration tests failed after a very long manual approval that nobody answered');
    // The reason lines sit under the pipeline column, never in the position column.
    const reasonLines = lines.filter((line) => /^ {3}\S/.test(line));
    expect(reasonLines.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps the started column aligned past 10 days', () => {
    // Act
    const lines = tableOf(summary(report, rows, palette(false), offsetFrom(start), { clock: 'simulated', width: 80 }));

    // Assess
    const column = lines[0]!.indexOf('started');
    expect(lines[1]!.slice(column)).toMatch(/^\+0:00:00 /);
    expect(lines[2]!.slice(column)).toMatch(/^\+1d 00:05:38 /);
  });
});

describe('the progress lines', () => {
  it('keep the time column aligned past 99 days, and continuation lines under the text', () => {
    // Prepare
    const written: string[] = [];
    const printer = new ProgressPrinter((line) => written.push(line), palette(false), offsetFrom(start));
    const retried = (seconds: number): RunEvent => ({ type: 'retried', at: start + seconds * 1000, state: 'CheckPipelines' }) as unknown as RunEvent;
    const variables = { IMAGE_TAG: 'v42', REGION: 'eu-west-1' };
    const decided = {
      type: 'decided',
      at: start,
      output: { plan: { count: 1, order: ['smoke-tests'], source: 'order', variables: { 'smoke-tests': variables } }, run: { generation: 1, results: [] } },
    } as unknown as RunEvent;
    const started = {
      type: 'started',
      at: start + 101 * day * 1000,
      output: { members: [{ pipelineName: 'smoke-tests', pipelineExecutionId: 'e-1', member: 0, position: 0, attempt: 0, variables: {} }], results: [], history: { events: 9, pending: 2 } },
    } as unknown as RunEvent;

    // Act
    printer.on(decided);
    for (const seconds of [0, 10 * day, 100 * day, 101 * day]) printer.on(retried(seconds));
    printer.on(started);

    // Assess
    const retries = written.filter((line) => line.includes('CheckPipelines'));
    const textStarts = retries.map((line) => line.indexOf('CheckPipelines'));
    expect(retries[2]).toContain('+100d 00:00:00  CheckPipelines');
    expect(new Set(textStarts.slice(2)).size).toBe(1);
    expect(textStarts[1]).toBe(textStarts[0]);
    const startedAt = written.findIndex((line) => line.includes('smoke-tests started'));
    const continuation = written.slice(startedAt + 1);
    expect(continuation).toEqual([expect.stringMatching(/^ +with IMAGE_TAG=v42$/), expect.stringMatching(/^ +REGION=eu-west-1$/)]);
    expect(continuation[0]!.indexOf('with')).toBe(written[startedAt]!.indexOf('smoke-tests'));
    expect(continuation[1]!.indexOf('REGION')).toBe(continuation[0]!.indexOf('IMAGE_TAG'));
  });
});
