import { SimulatedClock } from '../../local/clock.js';

describe('SimulatedClock', () => {
  it('jumps straight to the wake-up when the only execution sleeps', async () => {
    const clock = new SimulatedClock(Date.parse('2026-01-01T00:00:00Z'));
    const leave = clock.join();

    await clock.sleep(7 * 24 * 3600);

    expect(new Date(clock.now()).toISOString()).toBe('2026-01-08T00:00:00.000Z');
    leave();
  });

  it('interleaves two executions in simulated time order', async () => {
    const clock = new SimulatedClock(0);
    const wakes: string[] = [];
    const run = async (name: string, waits: number[], leave: () => void) => {
      for (const seconds of waits) {
        await clock.sleep(seconds);
        wakes.push(`${name}@${clock.now() / 1000}`);
      }
      leave();
    };

    // Both join before either sleeps, as the runner joins each execution before it starts.
    const leaveA = clock.join();
    const leaveB = clock.join();

    await Promise.all([run('a', [10, 10, 10], leaveA), run('b', [15, 20], leaveB)]);

    expect(wakes).toEqual(['a@10', 'b@15', 'a@20', 'a@30', 'b@35']);
  });

  it('refuses a negative sleep', () => {
    expect(() => new SimulatedClock(0).sleep(-1)).toThrow(RangeError);
  });
});
