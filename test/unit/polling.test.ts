import { expectedDurationFrom, nextWaitSeconds, type PollingSettings } from '../../src/polling.js';

const settings: PollingSettings = { pollSeconds: 30, maxPollSeconds: 600 };
const far = 1e9;

/** Looks at a pipeline the way the state machine does until it ends; returns the looks made. */
function looksUntil(endSeconds: number, policy: (elapsed: number) => number): { looks: number; latency: number } {
  let elapsed = 0;
  let looks = 0;
  while (elapsed < endSeconds) {
    elapsed += policy(elapsed);
    looks += 1;
  }
  return { looks, latency: elapsed - endSeconds };
}

describe('adaptive polling (no history)', () => {
  it.each([
    [0, 30],
    [299, 30],
    [600, 60],
    [3600, 360],
    [6000, 600],
    [7 * 86_400, 600],
  ])('after %i s waits %i s', (elapsedSeconds, wait) => {
    expect(nextWaitSeconds({ elapsedSeconds, settings, remainingSeconds: far })).toBe(wait);
  });

  it('keeps a 7-day manual approval under the 25,000-event history limit (9 events a look)', () => {
    const { looks } = looksUntil(7 * 86_400, (elapsed) => nextWaitSeconds({ elapsedSeconds: elapsed, settings, remainingSeconds: far }));

    expect(looks * 9).toBeLessThan(25_000 - 100);
    expect(looks).toBeGreaterThan(0);
  });

  it('where a fixed 30-second poll would pass the limit within a day', () => {
    const fixed = { pollSeconds: 30, maxPollSeconds: 30 };
    const { looks } = looksUntil(86_400, (elapsed) => nextWaitSeconds({ elapsedSeconds: elapsed, settings: fixed, remainingSeconds: far }));

    expect(looks * 9).toBeGreaterThan(25_000);
  });

  it('never waits past the timeout, and always at least a second', () => {
    expect(nextWaitSeconds({ elapsedSeconds: 5000, settings, remainingSeconds: 12.2 })).toBe(13);
    expect(nextWaitSeconds({ elapsedSeconds: 5000, settings, remainingSeconds: 0 })).toBe(1);
  });
});

describe('expected-duration polling (with history)', () => {
  const expected = { fastestSeconds: 3000, slowestSeconds: 3300, samples: 3 };
  const wait = (elapsedSeconds: number) => nextWaitSeconds({ elapsedSeconds, settings, expected, remainingSeconds: far });

  it('sleeps towards a little before the fastest past run, in steps no longer than maxPollSeconds', () => {
    expect(wait(0)).toBe(600);
    expect(wait(2500)).toBe(170);
  });

  it('polls every pollSeconds from 10% before the fastest to 10% after the slowest', () => {
    expect(wait(2670)).toBe(30);
    expect(wait(3400)).toBe(30);
    expect(wait(3660)).toBe(30);
  });

  it('backs off after the window, capped', () => {
    expect(wait(4000)).toBe(34);
    expect(wait(4300)).toBe(64);
    expect(wait(20_000)).toBe(600);
  });

  it('notices an end inside the window within pollSeconds, with far fewer looks than a fixed poll', () => {
    const ours = looksUntil(3150, wait);
    const fixed = looksUntil(3150, () => 30);

    expect(ours.latency).toBeLessThanOrEqual(30);
    expect(ours.looks * 3).toBeLessThanOrEqual(fixed.looks);
  });

  it('notices a run that beat its history by 5% within pollSeconds', () => {
    expect(looksUntil(2850, wait).latency).toBeLessThanOrEqual(30);
  });

  it('spreads its looks over a wide window, so approvals that took 1 to 7 days stay far inside the history limit', () => {
    const approvals = { fastestSeconds: 86_400, slowestSeconds: 7 * 86_400, samples: 3 };
    const policy = (elapsedSeconds: number) =>
      nextWaitSeconds({ elapsedSeconds, settings, expected: approvals, remainingSeconds: far });

    const { looks, latency } = looksUntil(7 * 86_400, policy);

    expect(looks * 9).toBeLessThan(12_500);
    expect(latency).toBeLessThanOrEqual(600);
  });
});

describe('expectedDurationFrom', () => {
  it('takes the fastest and slowest of the usable durations', () => {
    expect(expectedDurationFrom([600, 540, 0, -5, Number.NaN, 640])).toEqual({ fastestSeconds: 540, slowestSeconds: 640, samples: 3 });
  });

  it('knows nothing without history', () => {
    expect(expectedDurationFrom([])).toBeUndefined();
  });
});
