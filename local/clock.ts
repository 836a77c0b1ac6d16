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
  /** Set once paced: simulated seconds per real second. Unset, the clock only jumps. */
  private speed: number | undefined;
  /** Paced, with no joined actor awake: the real instant time began to flow from `current`. */
  private flowingSince: number | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    if (this.speed === undefined || this.flowingSince === undefined) return this.current;
    const flowed = this.current + (Date.now() - this.flowingSince) * this.speed;
    return Math.min(flowed, this.nextDue()?.at ?? Number.POSITIVE_INFINITY);
  }

  /**
   * From now on, time passes as it does on the wall, from the simulated instant reached: the
   * emulator serves what a simulated run left, then carries on in real time.
   */
  continueInWallTime(): void {
    this.pace(1);
  }

  /**
   * From now on, time passes `speed` times as fast as on the wall whenever no joined actor is
   * awake, and stands still while one is (a handler at work, as in simulated time): a train
   * started behind the emulator's StartExecution then unfolds while clients watch it, each Wait
   * lasting its share of real time, and what it does is what it would do in simulated time.
   */
  pace(speed: number): void {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`the clock's speed must be a positive number, got ${speed}`);
    this.freeze();
    this.speed = speed;
    this.flowIfAllAsleep();
  }

  /** Registers one actor whose sleeps gate the clock; call the returned function when it ends. */
  join(): () => void {
    this.freeze();
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
    // Paced, time stops where it is while the new work is placed, then flows on towards whatever is due first.
    this.freeze();
    this.timers.push({ at: Math.max(atMs, this.current), order: this.sleepOrder++, run });
    this.advanceIfAllAsleep();
  }

  /**
   * A sleep like `sleep`, which `interrupt` can end early; the clock then counts its actor awake
   * again. An abort of `signal` (a stopped execution) interrupts it too.
   */
  interruptibleSleep(seconds: number, signal?: AbortSignal): InterruptibleSleep {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`sleep needs a non-negative number of seconds, got ${seconds}`);
    }
    let sleeper: Sleeper | undefined;
    let settle: (timedOut: boolean) => void = () => {};
    this.freeze();
    const done = new Promise<boolean>((resolve) => {
      settle = resolve;
      sleeper = { wakeAt: this.current + seconds * 1000, order: this.sleepOrder++, wake: () => resolve(true) };
      this.sleepers.push(sleeper);
    });
    this.advanceIfAllAsleep();
    const interrupt = () => {
      const index = this.sleepers.indexOf(sleeper!);
      if (index < 0) return;
      // Its actor is awake again: paced time stands still until it sleeps.
      this.freeze();
      this.sleepers.splice(index, 1);
      settle(false);
    };
    if (signal?.aborted) interrupt();
    signal?.addEventListener('abort', interrupt, { once: true });
    void done.then(() => signal?.removeEventListener('abort', interrupt));
    return { done, interrupt };
  }

  sleep(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`sleep needs a non-negative number of seconds, got ${seconds}`);
    }
    return new Promise<void>((wake) => {
      this.freeze();
      this.sleepers.push({ wakeAt: this.current + seconds * 1000, order: this.sleepOrder++, wake });
      this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt || a.order - b.order);
      this.advanceIfAllAsleep();
    });
  }

  private advanceIfAllAsleep(): void {
    if (this.speed !== undefined) {
      this.flowIfAllAsleep();
      return;
    }
    if (this.sleepers.length === 0 || this.sleepers.length < this.participants) return;
    const due = this.nextDue()!;
    this.current = Math.max(this.current, due.at);
    if (due.timer) this.runTimer(due.timer);
    else this.wakeDue();
  }

  /** What comes first: the earliest timer, or the earliest sleeper's wake-up (a timer first on a tie). */
  private nextDue(): { at: number; timer?: Timer } | undefined {
    this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt || a.order - b.order);
    this.timers.sort((a, b) => a.at - b.at || a.order - b.order);
    const [first] = this.sleepers;
    const [timer] = this.timers;
    if (timer && (first === undefined || timer.at <= first.wakeAt)) return { at: timer.at, timer };
    return first ? { at: first.wakeAt } : undefined;
  }

  /** A timer's work runs as an actor: nobody moves until it is done. */
  private runTimer(timer: Timer): void {
    this.timers.splice(this.timers.indexOf(timer), 1);
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
  }

  private wakeDue(): void {
    const due = this.sleepers.filter((sleeper) => sleeper.wakeAt <= this.current);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.wakeAt > this.current);
    for (const sleeper of due) sleeper.wake();
  }

  /** Paced: stop the flow of time where it is (someone is awake, or is about to be). */
  private freeze(): void {
    if (this.flowingSince === undefined) return;
    this.current = this.now();
    this.flowingSince = undefined;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
  }

  /**
   * Paced, and every joined actor asleep (or none joined): time flows, and when the first thing
   * due comes (a sleeper's wake-up, or a timer's work: an event's delivery, a sweep) it happens.
   */
  private flowIfAllAsleep(): void {
    if (this.speed === undefined || this.flowingSince !== undefined || this.sleepers.length < this.participants) return;
    this.flowingSince = Date.now();
    const due = this.nextDue();
    if (due === undefined) return;
    this.wakeTimer = setTimeout(
      () => {
        this.freeze();
        this.current = Math.max(this.current, due.at);
        if (due.timer) {
          // Time stands still while the work runs; it flows on when the work is done.
          this.runTimer(due.timer);
          return;
        }
        this.wakeDue();
        // Whoever woke is awake now; with nobody joined (a bare sleep), time flows on.
        this.flowIfAllAsleep();
      },
      Math.max(0, (due.at - this.current) / this.speed),
    );
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
