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

  it('ends an interruptible sleep, untimed and where time stands, when its signal aborts (a stopped execution)', async () => {
    // Prepare: one actor sleeps a day; another, awake, holds time still.
    const clock = new SimulatedClock(0);
    const sleeper = clock.join();
    const awake = clock.join();
    const stopper = new AbortController();
    const day = clock.interruptibleSleep(86_400, stopper.signal);

    // Act
    stopper.abort();
    const timedOut = await day.done;
    const stoppedAlready = await clock.interruptibleSleep(86_400, stopper.signal).done;
    awake();
    sleeper();

    // Assess
    expect([timedOut, stoppedAlready, clock.now()]).toEqual([false, false, 0]);
  });

  it('refuses a negative sleep', () => {
    expect(() => new SimulatedClock(0).sleep(-1)).toThrow(RangeError);
  });
});

describe('SimulatedClock, paced (sequencer emulator --speed)', () => {
  it('lets time flow at the speed while every joined actor sleeps, and wakes the sleeper when its time comes', async () => {
    const clock = new SimulatedClock(0);
    // Joined before pacing: paced with nobody joined, time flows at once, and a millisecond lost
    // before the join on a loaded machine is 100 simulated seconds (it failed so in CI, at 200,000).
    const leave = clock.join();
    clock.pace(100_000);

    // 100 simulated seconds at 100,000 times the wall clock: a millisecond of real time.
    await clock.sleep(100);
    const woke = clock.now();
    leave();

    expect(woke).toBe(100_000);
  });

  it('runs timed work (an event delivery) when its simulated time comes, and an interrupted sleep ends there', async () => {
    // Prepare: an actor parked on a long interruptible sleep (a callback wait), and work scheduled
    // before its end. A second actor stays awake while both are placed, so time stands still until
    // it leaves: at this speed one real millisecond is 1,000 simulated seconds. Both join before
    // the pace: paced with nobody joined, time flows at once, and the 4 ms a loaded machine took
    // between the pace and the join put the work at 4,000,000 instead of 60,000.
    const clock = new SimulatedClock(0);
    const leave = clock.join();
    const placing = clock.join();
    clock.pace(1_000_000);
    const wait = clock.interruptibleSleep(86_400);
    const ran: number[] = [];
    clock.schedule(60_000, () => {
      ran.push(clock.now());
      wait.interrupt();
    });
    placing();

    // Act
    const timedOut = await wait.done;
    const woke = clock.now();
    leave();

    // Assess: the work ran at its instant, and the sleep ended there rather than a day later.
    expect(ran).toEqual([60_000]);
    expect(timedOut).toBe(false);
    expect(woke).toBe(60_000);
  });

  it('stands still while a joined actor is awake, whatever the speed: what it does happens at one instant', async () => {
    const clock = new SimulatedClock(0);
    clock.pace(1_000_000);
    const leave = clock.join();

    const before = clock.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = clock.now();
    leave();

    expect(after).toBe(before);
  });

  it('interleaves two paced actors in simulated time order, as unpaced', async () => {
    const clock = new SimulatedClock(0);
    // Joined before the pace: paced with nobody joined, time flows at once (a millisecond of a
    // loaded machine is 1,000 simulated seconds at this speed).
    const leaveA = clock.join();
    const leaveB = clock.join();
    clock.pace(1_000_000);
    const wakes: string[] = [];
    const run = async (name: string, waits: number[], leave: () => void) => {
      for (const seconds of waits) {
        await clock.sleep(seconds);
        wakes.push(`${name}@${clock.now() / 1000}`);
      }
      leave();
    };

    await Promise.all([run('a', [10, 10, 10], leaveA), run('b', [15, 20], leaveB)]);

    expect(wakes).toEqual(['a@10', 'b@15', 'a@20', 'a@30', 'b@35']);
  });

  it('with nobody joined, flows like a wall clock at the speed', async () => {
    const clock = new SimulatedClock(0);
    clock.pace(1000);
    const paced = Date.now();

    await new Promise((resolve) => setTimeout(resolve, 20));
    const reading = Date.now();
    const simulated = clock.now();

    // At least the real time that passed between the two readings, times the speed (a timer may fire a millisecond early).
    expect(simulated).toBeGreaterThan(0);
    expect(simulated).toBeGreaterThanOrEqual((reading - paced) * 1000);
  });

  it('refuses a speed that is not a positive number', () => {
    for (const speed of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new SimulatedClock(0).pace(speed)).toThrow(RangeError);
  });
});
