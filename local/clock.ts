/** Milliseconds since the epoch, the only thing the emulator and the handlers ask of time. */
export interface Clock {
  now(): number;
}

interface Sleeper {
  wakeAt: number;
  order: number;
  wake: () => void;
}

/** Work due at an instant of simulated time, outside any execution: an event's delivery, a sweep. */
interface Timer {
  at: number;
  order: number;
  run: () => Promise<void> | void;
}

/** A sleep that something else may end early (a callback Task's wait, ended by SendTaskSuccess). */
export interface InterruptibleSleep {
  /** Resolves `true` when the time ran out, `false` when `interrupt` ended it first. */
  done: Promise<boolean>;
  interrupt(): void;
}

/**
 * Simulated time for the local engine: a discrete-event clock.
 *
 * Each running execution joins the clock. A Wait state calls `sleep`, which never
 * waits in real time: once every joined execution is asleep, the clock jumps to the
 * earliest wake-up and wakes whoever is due. With one execution that is an immediate
 * jump; with two, their waits interleave exactly as they would in real time.
 */
export class SimulatedClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private timers: Timer[] = [];
  private participants = 0;
  private sleepOrder = 0;
  private wallTimeSince: number | undefined;

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.wallTimeSince === undefined ? this.current : this.current + (Date.now() - this.wallTimeSince);
  }

  /**
   * From now on, time passes as it does on the wall, from the simulated instant reached: the
   * emulator serves what a simulated run left, then carries on in real time. No actor may sleep after.
   */
  continueInWallTime(): void {
    this.wallTimeSince = Date.now();
  }

  /** Registers one actor whose sleeps gate the clock; call the returned function when it ends. */
  join(): () => void {
    this.participants += 1;
    let joined = true;
    return () => {
      if (!joined) return;
      joined = false;
      this.participants -= 1;
      this.advanceIfAllAsleep();
    };
  }

  /**
   * Runs `run` at simulated instant `atMs` (or now, if that has passed), once every actor sleeps.
   * It counts as an actor while it runs, so the clock waits for its work (an event function's
   * calls) before it moves on.
   */
  schedule(atMs: number, run: () => Promise<void> | void): void {
    this.timers.push({ at: Math.max(atMs, this.current), order: this.sleepOrder++, run });
    this.advanceIfAllAsleep();
  }

  /** A sleep like `sleep`, which `interrupt` can end early; the clock then counts its actor awake again. */
  interruptibleSleep(seconds: number): InterruptibleSleep {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`sleep needs a non-negative number of seconds, got ${seconds}`);
    }
    let sleeper: Sleeper | undefined;
    let settle: (timedOut: boolean) => void = () => {};
    const done = new Promise<boolean>((resolve) => {
      settle = resolve;
      sleeper = { wakeAt: this.current + seconds * 1000, order: this.sleepOrder++, wake: () => resolve(true) };
      this.sleepers.push(sleeper);
    });
    this.advanceIfAllAsleep();
    return {
      done,
      interrupt: () => {
        const index = this.sleepers.indexOf(sleeper!);
        if (index < 0) return;
        this.sleepers.splice(index, 1);
        settle(false);
      },
    };
  }

  sleep(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`sleep needs a non-negative number of seconds, got ${seconds}`);
    }
    return new Promise<void>((wake) => {
      this.sleepers.push({ wakeAt: this.current + seconds * 1000, order: this.sleepOrder++, wake });
      this.advanceIfAllAsleep();
    });
  }

  private advanceIfAllAsleep(): void {
    if (this.sleepers.length === 0 || this.sleepers.length < this.participants) return;
    this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt || a.order - b.order);
    const first = this.sleepers[0]!;
    this.timers.sort((a, b) => a.at - b.at || a.order - b.order);
    const timer = this.timers[0];
    if (timer && timer.at <= first.wakeAt) {
      // A timer's work runs as an actor: nobody moves until it is done.
      this.timers.shift();
      this.current = Math.max(this.current, timer.at);
      this.participants += 1;
      void (async () => {
        try {
          await timer.run();
        } catch (error) {
          process.emitWarning(`simulated-time work failed: ${String((error as Error)?.stack ?? error)}`);
        } finally {
          this.participants -= 1;
          this.advanceIfAllAsleep();
        }
      })();
      return;
    }
    this.current = Math.max(this.current, first.wakeAt);
    const due = this.sleepers.filter((sleeper) => sleeper.wakeAt <= this.current);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.wakeAt > this.current);
    for (const sleeper of due) sleeper.wake();
  }
}

/** Real time shifted to start at the world's startTime: for the standalone emulator. */
export class ShiftedWallClock implements Clock {
  private readonly offset: number;

  constructor(startMs: number) {
    this.offset = startMs - Date.now();
  }

  now(): number {
    return Date.now() + this.offset;
  }
}
