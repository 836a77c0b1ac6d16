/**
 * Where the handlers read the time. On AWS it is the wall clock; the local engine swaps in
 * its simulated clock so that a seven-day pipeline runs in milliseconds, deterministically.
 */
let source: () => number = Date.now;

export const nowMs = (): number => source();

export const nowIso = (): string => new Date(source()).toISOString();

export function useClock(clock: { now(): number }): void {
  source = () => clock.now();
}
