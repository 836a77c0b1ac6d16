import { HistoryCounter, type EngineEvent } from '../../local/history.js';

const types: Record<string, string> = { Start: 'Task', Wait: 'Wait', Choose: 'Choice', Done: 'Succeed', Broken: 'Fail' };
const count = (events: EngineEvent[]) => {
  const counter = new HistoryCounter((state) => types[state]);
  for (const event of events) counter.record(event);
  return { events: counter.events, transitions: counter.transitions };
};
const state = (type: string, name: string): EngineEvent => ({ type, state: { name } });

describe('HistoryCounter: what Step Functions would write', () => {
  it('a Lambda Task writes 5 events, a Wait or Choice 2, plus ExecutionStarted/Succeeded', () => {
    const run = count([
      { type: 'ExecutionStarted' },
      state('StateEntered', 'Start'),
      state('StateExited', 'Start'),
      state('StateEntered', 'Wait'),
      state('StateExited', 'Wait'),
      state('StateEntered', 'Choose'),
      state('StateExited', 'Choose'),
      state('StateEntered', 'Done'),
      state('StateExited', 'Done'),
      { type: 'ExecutionSucceeded' },
    ]);

    expect(run).toEqual({ events: 1 + 5 + 2 + 2 + 2 + 1, transitions: 4 });
  });

  it('a retried Task adds Scheduled, Started and Failed for the failed attempt, and one billed transition', () => {
    const run = count([
      state('StateEntered', 'Start'),
      state('StateFailed', 'Start'),
      state('StateRetried', 'Start'),
      state('StateExited', 'Start'),
    ]);

    expect(run).toEqual({ events: 8, transitions: 2 });
  });

  it('a Fail state writes FailStateEntered, then ExecutionFailed', () => {
    expect(count([state('StateEntered', 'Broken'), state('StateFailed', 'Broken'), { type: 'ExecutionFailed' }])).toEqual({
      events: 2,
      transitions: 1,
    });
  });
});
