import { colourWanted, count, duration, retryLine, startedWith, utcTime } from '../../bin/format.js';
import type { SummaryRow } from '../../bin/summary.js';

describe('duration', () => {
  it.each([
    [0, '0 s'],
    [42, '42 s'],
    [600, '10 min'],
    [456, '7 min 36 s'],
    [3599.6, '1 h 00 min 00 s'],
    [3725, '1 h 02 min 05 s'],
    [7200, '2 h 00 min 00 s'],
    [7 * 86_400 + 750, '7 d 00 h 12 min 30 s'],
  ])('%d s reads "%s": exact to the second beyond an hour', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });
});

describe('count', () => {
  it('is singular only for exactly one', () => {
    expect([0, 1, 2].map((amount) => count(amount, 'state transition'))).toEqual(['0 state transitions', '1 state transition', '2 state transitions']);
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
