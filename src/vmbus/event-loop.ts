import { Doorbell } from './signal.js';

/** How a worker's loop slept and woke (read by the lost-signal fault test across workers). */
export interface LoopWakeStats {
  readonly sleeps: number;
  readonly sleepTimeouts: number;
  readonly lostWakeupsRecovered: number;
  /** Doorbell rings this thread made that the lost-signal fault swallowed. */
  readonly ringsDropped: number;
}

/** Something the loop drives: a channel, or a producer writing into one. */
export interface Pollable {
  /** Does one batch of work; returns how much (0 = nothing to do). */
  poll(): number;
  /** About to sleep: re-arm signals (clear interrupt_mask) and return > 0 if work raced in. */
  idle(): number;
}

export interface EventLoopOptions {
  /** Doorbell polls before sleeping; spinning costs ~0.1 µs a wakeup, sleeping ~45 µs (platform.md §6c). */
  readonly spinIterations?: number;
  /** Longest stretch of work before yielding to the worker's event loop (postMessage, timers). */
  readonly yieldEveryMs?: number;
  /**
   * Longest sleep before re-polling with no doorbell: recovery from a lost wakeup (a real guest
   * re-polls its rings when an interrupt goes missing). Costs one empty pass per period when idle.
   */
  readonly maxSleepMs?: number;
}

const DEFAULTS = { spinIterations: 4000, yieldEveryMs: 2, maxSleepMs: 50 } as const;

/**
 * The loop both ends run in their worker: poll every pollable in batches; when none has work,
 * re-arm, spin on the doorbell, then Atomics.waitAsync on it so control messages still get in.
 */
export class EventLoop {
  private readonly items: Pollable[] = [];
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly spin: number;
  private readonly yieldMs: number;
  private readonly maxSleepMs: number;
  sleeps = 0;
  /** Sleeps that ended by timeout with no doorbell. */
  sleepTimeouts = 0;
  /** Of those, the ones whose re-poll found work: wakeups that were lost and recovered. */
  lostWakeupsRecovered = 0;

  constructor(
    readonly doorbell: Doorbell,
    options: EventLoopOptions = {},
  ) {
    this.spin = options.spinIterations ?? DEFAULTS.spinIterations;
    this.yieldMs = options.yieldEveryMs ?? DEFAULTS.yieldEveryMs;
    this.maxSleepMs = options.maxSleepMs ?? DEFAULTS.maxSleepMs;
  }

  /** Sleep/wake counters of this loop and the lost-signal fault of its thread. */
  wakeStats(): LoopWakeStats {
    return { sleeps: this.sleeps, sleepTimeouts: this.sleepTimeouts, lostWakeupsRecovered: this.lostWakeupsRecovered, ringsDropped: Doorbell.droppedInThread };
  }

  add(p: Pollable): void {
    this.items.push(p);
    this.doorbell.ring(); // a sleeping loop picks the newcomer up
  }

  remove(p: Pollable): void {
    const i = this.items.indexOf(p);
    if (i >= 0) this.items.splice(i, 1);
  }

  /** One pass over every pollable: the deterministic single-thread pump. */
  runOnce(): number {
    let work = 0;
    for (let i = 0; i < this.items.length; i++) work += this.items[i]!.poll();
    return work;
  }

  /** Polls until nothing has work and nothing raced in (single-thread mode). */
  drain(maxPasses = 1_000_000): number {
    let total = 0;
    for (let pass = 0; pass < maxPasses; pass++) {
      const w = this.runOnce();
      total += w;
      if (w === 0 && this.idleAll() === 0) return total;
    }
    return total;
  }

  /** Starts the loop in this worker; resolves when stop() is called. */
  start(): Promise<void> {
    this.stopped = false;
    this.running ??= this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.doorbell.ring();
    return this.running ?? Promise.resolve();
  }

  private idleAll(): number {
    let more = 0;
    for (let i = 0; i < this.items.length; i++) more += this.items[i]!.idle();
    return more;
  }

  private async loop(): Promise<void> {
    let lastYield = performance.now();
    let timedOut = false;
    while (!this.stopped) {
      // Read the doorbell before polling: a signal that lands during the poll moves seq away from
      // `seen`, so we cannot go to sleep on a wakeup we have not acted on.
      const seen = this.doorbell.seq;
      const work = this.runOnce();
      if (timedOut && work > 0) this.lostWakeupsRecovered++;
      timedOut = false;
      if (work > 0) {
        const now = performance.now();
        if (now - lastYield >= this.yieldMs) {
          await new Promise<void>((r) => setImmediate(r));
          lastYield = performance.now();
        }
        continue;
      }
      if (this.idleAll() > 0) continue;
      let spun = 0;
      while (spun < this.spin && this.doorbell.seq === seen) spun++;
      if (spun < this.spin) continue;
      this.sleeps++;
      await this.doorbell.wait(seen, this.maxSleepMs);
      timedOut = this.doorbell.seq === seen;
      if (timedOut) this.sleepTimeouts++;
      lastYield = performance.now();
    }
  }
}
