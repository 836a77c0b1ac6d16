import { wakesWatch } from '../../src/completion-table.js';
import { sweptState } from '../../src/retry-hold.js';

// The event function and the sweeper decide by the watch item alone whether an execution's state wakes the run.
const eventState = (status: string) => status.toUpperCase();

describe('which states wake a run (onFailure: wait)', () => {
  it.each([
    [false, 'FAILED', true],
    [false, 'SUCCEEDED', true],
    [false, 'RESUMED', false],
    [true, 'FAILED', false],
    [true, 'RESUMED', true],
    [true, 'SUCCEEDED', true],
    [true, 'STOPPED', true],
  ])('a watch held=%s is woken by %s: %s', (held, state, wakes) => {
    expect(wakesWatch({ held }, state)).toBe(wakes);
  });

  it.each([
    [false, 'InProgress', undefined],
    [false, 'Failed', 'FAILED'],
    [false, 'Succeeded', 'SUCCEEDED'],
    [true, 'Failed', undefined],
    [true, 'InProgress', 'RESUMED'],
    [true, 'Stopping', 'RESUMED'],
    [true, 'Succeeded', 'SUCCEEDED'],
  ])('the sweeper, for a watch held=%s of an execution %s, reports %s', (held, status, state) => {
    expect(sweptState({ held }, status, eventState)).toBe(state);
  });
});
