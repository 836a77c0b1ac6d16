import { colourWanted, count, offsetFrom, palette, ProgressPrinter, retryLine, startedWith, utcTime } from '../../bin/format.js';
import { duration } from '../../src/duration.js';
import type { SummaryRow } from '../../bin/summary.js';
import type { RunEvent } from '../../local/engine.js';
import type { Member } from '../../src/run.js';

describe('duration', () => {
  it.each([
    [0, '0 s'],
    [42, '42 s'],
    [600, '10 min'],
    [456, '7 min 36 s'],
    [301, '5 min 01 s'],
    [3599.6, '1 h'],
    [3601, '1 h 00 min 01 s'],
    [3725, '1 h 02 min 05 s'],
    [6000, '1 h 40 min'],
    [7200, '2 h'],
    [7 * 86_400 + 750, '7 d 00 h 12 min 30 s'],
    [10 * 86_400, '10 d'],
  ])('%d s reads "%s": each unit after the first in two digits, none of the zero units at the end', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });
});

describe('count', () => {
  it('is singular only for exactly one', () => {
    expect([0, 1, 2].map((amount) => count(amount, 'state transition'))).toEqual(['0 state transitions', '1 state transition', '2 state transitions']);
  });

  it('groups thousands, as the README writes 25,000', () => {
    expect([999, 1000, 4614, 100_000, 1_234_567].map((amount) => count(amount, 'event'))).toEqual(['999 events', '1,000 events', '4,614 events', '100,000 events', '1,234,567 events']);
  });
});

describe('retryLine: the backoff Step Functions would wait, from the Retry entry', () => {
  const awsUnavailable = { ErrorEquals: ['AwsUnavailable'], IntervalSeconds: 5, MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 120, JitterStrategy: 'FULL' };

  it.each([
    [1, 'attempt 2 of 6, backoff up to 5 s with full jitter'],
    [2, 'attempt 3 of 6, backoff up to 10 s with full jitter'],
    [5, 'attempt 6 of 6, backoff up to 1 min 20 s with full jitter'],
  ])('retry %d: %s', (retryNumber, text) => {
    expect(retryLine('CheckPipelines', { error: 'AwsUnavailable', retryNumber, retrier: awsUnavailable })).toBe(
      `CheckPipelines failed with AwsUnavailable; retrying (${text})`,
    );
  });

  it('caps the backoff at MaxDelaySeconds, and says no jitter when there is none', () => {
    const retrier = { ErrorEquals: ['States.ALL'], IntervalSeconds: 10, MaxAttempts: 10, BackoffRate: 3, MaxDelaySeconds: 60 };

    expect(retryLine('StartPipelines', { error: 'Lambda.Unknown', retryNumber: 4, retrier })).toBe(
      'StartPipelines failed with Lambda.Unknown; retrying (attempt 5 of 11, backoff 1 min)',
    );
  });

  it('uses the States Language defaults for what the entry leaves out (1 s, 3 retries, rate 2)', () => {
    expect(retryLine('DecideOrder', { error: 'States.Timeout', retryNumber: 3, retrier: { ErrorEquals: ['States.Timeout'] } })).toBe(
      'DecideOrder failed with States.Timeout; retrying (attempt 4 of 4, backoff 4 s)',
    );
  });
});

describe('colourWanted', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
  ])('%j on a terminal: %s → %s', (env, isTTY, wanted) => {
    expect(colourWanted(env as NodeJS.ProcessEnv, isTTY)).toBe(wanted);
  });
});

describe('utcTime', () => {
  it('shows absolute UTC to the second', () => {
    expect(utcTime(Date.parse('2026-01-01T09:10:06.400Z'))).toBe('2026-01-01T09:10:06Z');
  });
});

describe('startedWith: the values under the table', () => {
  const row = (position: number, pipelineName: string, pipelineExecutionId: string, member?: number): SummaryRow => ({
    position,
    ...(member !== undefined && { member, groupSize: 2 }),
    pipelineName,
    status: 'Succeeded',
    pipelineExecutionId,
    supersededExecutionIds: [],
    earlierExecutionIds: [],
  });

  it('lines every value up under the first, whatever the position’s and the name’s widths', () => {
    const rows = [row(1, 'build', 'a'), row(2, 'stage', 'b'), row(3, 'deploy-prod-us', 'c', 1)];

    const lines = startedWith(
      [
        { pipelineName: 'stage', pipelineExecutionId: 'b', variables: { IMAGE_TAG: '1.4.2' } },
        { pipelineName: 'deploy-prod-us', pipelineExecutionId: 'c', variables: { IMAGE_TAG: '1.4.2', STAGING_ENDPOINT: 'https://staging' } },
      ],
      rows,
    );

    expect(lines).toEqual([
      '2    stage          started with IMAGE_TAG=1.4.2',
      '3.1  deploy-prod-us started with IMAGE_TAG=1.4.2',
      '                                 STAGING_ENDPOINT=https://staging',
    ]);
  });
});

describe('the progress lines of a pipeline', () => {
  const start = Date.parse('2026-01-01T00:00:00Z');
  const iso = (seconds: number) => new Date(start + seconds * 1000).toISOString();
  const p2 = { position: 1, member: 0, pipelineName: 'P2', attempt: 0, pipelineExecutionId: 'e-2', startedAt: iso(601), polls: 0, supersededExecutionIds: [], earlierExecutionIds: [] };
  const decided = {
    type: 'decided',
    at: start,
    output: { plan: { count: 2, order: ['P1', 'P2'], source: 'order', variables: {} }, run: { generation: 1, results: [] } },
  } as unknown as RunEvent;
  const look = (type: 'started' | 'checked', seconds: number, member: Partial<Member>): RunEvent =>
    ({ type, at: start + seconds * 1000, output: { members: [{ ...p2, ...member }], results: [], history: { events: 9, pending: 2 } } }) as unknown as RunEvent;
  const printed = (events: RunEvent[], time = offsetFrom(start), first = decided) => {
    const lines: string[] = [];
    const printer = new ProgressPrinter((line) => lines.push(line), palette(false), time);
    for (const event of [first, ...events]) printer.on(event);
    return lines.slice(2).map((line) => line.trim());
  };

  it.each([
    ['an offset', offsetFrom(start), '+0:15:02  P2 Failed, waiting for a retry until +1:10:01: Unit tests failed'],
    ['UTC to the second (--timestamps)', utcTime, '2026-01-01T00:15:02Z  P2 Failed, waiting for a retry until 2026-01-01T01:10:01Z: Unit tests failed'],
  ])('a failure held for a retry tells its deadline as the lines tell times: %s', (_, time, line) => {
    // Act
    const lines = printed(
      [look('started', 601, { status: 'InProgress' }), look('checked', 902, { status: 'Failed', statusSummary: 'Unit tests failed', waitingForRetry: true, deadline: iso(4201.015) })],
      time,
    );

    // Assess
    expect(lines).toEqual([line]);
  });

  describe('an execution a redrive watches again is told again', () => {
    const redriven = { type: 'redriven', at: start + 3000 * 1000, executionName: 'run-1', state: 'CheckPipelines', redriveCount: 1 } as unknown as RunEvent;

    it('past its timeout: running on, then its second timeout', () => {
      const lines = printed([
        look('started', 601, { status: 'InProgress' }),
        look('checked', 1201, { status: 'TimedOut' }),
        redriven,
        look('checked', 3000, { status: 'InProgress' }),
        look('checked', 3601, { status: 'TimedOut' }),
      ]);

      expect(lines.filter((line) => / P2 /.test(line))).toEqual([
        '+0:20:01  P2 TimedOut after 10 min',
        '+0:50:00  P2 still InProgress after 39 min 59 s',
        '+1:00:01  P2 TimedOut after 50 min',
      ]);
    });

    it('retried in CodePipeline while the run stood failed: its success, once', () => {
      const succeeded = (seconds: number) =>
        ({
          type: 'checked',
          at: start + seconds * 1000,
          output: { members: [], results: [{ ...p2, status: 'Succeeded', finishedAt: iso(2900), detectedAt: iso(3000), detectedBy: 'redrive' }], history: { events: 9, pending: 2 } },
        }) as unknown as RunEvent;

      const lines = printed([
        look('started', 601, { status: 'InProgress' }),
        look('checked', 902, { status: 'Failed', statusSummary: 'flaky', finishedAt: iso(901), detectedAt: iso(902), detectedBy: 'event' }),
        redriven,
        succeeded(3000),
        succeeded(3001),
      ]);

      expect(lines.filter((line) => / P2 /.test(line))).toEqual(['+0:15:02  P2 Failed after 5 min (event, +1 s): flaky', '+0:50:00  P2 Succeeded after 38 min 19 s (redrive, +1 min 40 s)']);
    });
  });

  it('a pipeline elsewhere is told where it runs, from the member start-pipeline returned (a local run and status on AWS alike)', () => {
    const lines: string[] = [];
    const printer = new ProgressPrinter((line) => lines.push(line.trim()), palette(false), offsetFrom(start));

    for (const event of [
      decided,
      look('started', 601, { status: 'InProgress', location: { accountId: '222233334444', region: 'eu-west-1', pipelineName: 'deploy-api' } }),
      { ...look('started', 602, { status: 'InProgress', location: { accountId: '333344445555', region: 'us-east-1', pipelineName: 'P2' } }), output: { members: [{ ...p2, pipelineExecutionId: 'e-3', status: 'InProgress', location: { accountId: '333344445555', region: 'us-east-1', pipelineName: 'P2' } }], results: [], history: { events: 9, pending: 2 } } } as RunEvent,
    ]) {
      printer.on(event);
    }

    expect(lines.filter((line) => line.includes(' started ('))).toEqual([
      '+0:10:01  P2 started (2 of 2) in account 222233334444, eu-west-1, pipeline deploy-api, execution e-2',
      // Its own name there too: only where it is.
      '+0:10:02  P2 started (2 of 2) in account 333344445555, us-east-1, execution e-3',
    ]);
  });

  it('an execution a redrive found started by the failed attempt is told as found, not as started', () => {
    // Prepare
    const lines: string[] = [];
    const printer = new ProgressPrinter((line) => lines.push(line), palette(false), offsetFrom(start));

    // Act
    for (const event of [decided, look('started', 86_400, { status: 'InProgress', startLost: true, startedAt: iso(3) })]) printer.on(event);

    // Assess
    expect(lines.slice(1).map((line) => line.trim())).toEqual(['+1d 00:00:00  P2 found started by the attempt that failed (2 of 2), execution e-2: not started again']);
  });

  it('a failure says how long the execution ran, as the table does, then how late its end was noticed', () => {
    // Act
    const lines = printed([
      look('started', 601, { status: 'InProgress' }),
      look('checked', 902, { status: 'Failed', statusSummary: 'Unit tests failed', finishedAt: iso(901), detectedAt: iso(902), detectedBy: 'event' }),
    ]);

    // Assess
    expect(lines).toEqual(['+0:15:02  P2 Failed after 5 min (event, +1 s): Unit tests failed']);
  });

  it('a failure held for a retry until its deadline: its time is the execution’s, and the deadline, not a late look, ended the wait', () => {
    // Act
    const lines = printed([
      look('started', 601, { status: 'InProgress' }),
      look('checked', 902, { status: 'Failed', statusSummary: 'Unit tests failed', waitingForRetry: true, deadline: iso(4201) }),
      look('checked', 4202, { status: 'Failed', statusSummary: 'Unit tests failed', finishedAt: iso(901), detectedAt: iso(4202), detectedBy: 'timeout' }),
    ]);

    // Assess
    expect(lines).toEqual([
      '+0:15:02  P2 Failed, waiting for a retry until +1:10:01: Unit tests failed',
      '+1:10:02  P2 Failed after 5 min, and no retry was seen by its deadline: Unit tests failed',
    ]);
  });

  it('a failure read from Step Functions, with no end time: no duration, as its row has none', () => {
    // Act
    const lines = printed([look('started', 601, { status: 'InProgress' }), look('checked', 902, { status: 'Failed', statusSummary: 'Unit tests failed' })]);

    // Assess
    expect(lines).toEqual(['+0:15:02  P2 Failed: Unit tests failed']);
  });

  it('one left running past its timeout has no end: its time so far', () => {
    // Act
    const lines = printed([
      look('started', 601, { status: 'InProgress' }),
      look('checked', 4202, { status: 'TimedOut', error: 'PipelineTimedOut', detectedAt: iso(4202) }),
    ]);

    // Assess
    expect(lines).toEqual(['+1:10:02  P2 TimedOut after 1 h 00 min 01 s']);
  });

  it('a stopped execution says its own time too', () => {
    // Act
    const lines = printed([
      look('started', 601, { status: 'InProgress' }),
      look('checked', 1262, { status: 'Stopped', statusSummary: 'Stopped by someone', finishedAt: iso(1201), detectedAt: iso(1262), detectedBy: 'sweep' }),
    ]);

    // Assess
    expect(lines).toEqual(['+0:21:02  P2 Stopped after 10 min (sweep, +1 min 01 s): Stopped by someone']);
  });

  it('after a retry in CodePipeline, no "still InProgress" line on the same look: the retry line told it', () => {
    // Act
    const lines = printed([
      look('started', 601, { status: 'InProgress' }),
      look('checked', 1202, { status: 'Failed', statusSummary: 'flaky', waitingForRetry: true, deadline: iso(4201) }),
      look('checked', 1802, { status: 'InProgress' }),
      look('checked', 2402, { status: 'InProgress' }),
      look('checked', 3002, { status: 'InProgress' }),
    ]);

    // Assess: retried at 20 min; the next line at the next doubling past it, 40 min.
    expect(lines).toEqual([
      '+0:20:02  P2 Failed, waiting for a retry until +1:10:01: flaky',
      '+0:30:02  P2 was retried in CodePipeline, now InProgress',
      '+0:50:02  P2 still InProgress after 40 min 01 s',
    ]);
  });

  it.each([
    ['--continue-at 500', 500, '+3:45:38  history at 494 events, one more step would reach 500: the run continues as new execution local-001-g2'],
    ['no --continue-at', undefined, '+3:45:38  history at 494 events, one more step would reach 24,000: the run continues as new execution local-001-g2'],
  ])('a hand-over tells the count it was decided on and the threshold the next step would reach: %s', (_, continueAtEvents, line) => {
    // Prepare
    const plan = { count: 2, order: ['P1', 'P2'], source: 'order', variables: {}, ...(continueAtEvents !== undefined && { continueAtEvents }) };
    const decidedWith = { type: 'decided', at: start, output: { plan, run: { generation: 1, results: [] } } } as unknown as RunEvent;
    const handedOver = { type: 'continued', at: start + 13_538_000, executionName: 'local-001', successorName: 'local-001-g2' } as unknown as RunEvent;
    const continuing = {
      type: 'checked',
      at: start + 13_538_000,
      output: { phase: 'continue', members: [{ ...p2, status: 'InProgress' }], results: [], history: { events: 494, pending: 2 } },
    } as unknown as RunEvent;

    // Act
    const lines = printed([look('started', 601, { status: 'InProgress' }), continuing, handedOver], offsetFrom(start), decidedWith);

    // Assess
    expect(lines.at(-1)).toBe(line);
  });
});
