import { Doorbell } from './signal.js';

/** How a worker's loop slept and woke (read by the lost-signal fault test across workers). */
export interface LoopWakeStats {
  readonly sleeps: number;
  /** Idle spins that the doorbell ended before the loop slept. */
  readonly spinHits: number;
  /** Wall time asleep (ms), wake latency included. */
  readonly sleptMs: number;
  readonly sleepTimeouts: number;
  readonly lostWakeupsRecovered: number;
  /** Doorbell rings this thread made that the lost-signal fault swallowed. */
  readonly ringsDropped: number;
  /** Sleeping peers this thread woke (Atomics.notify calls). */
  readonly notifies: number;
}

/** Something the loop drives: a channel, or a producer writing into one. */
export interface Pollable {
  /** Does one batch of work; returns how much (0 = nothing to do). */
  poll(): number;
  /** About to sleep: re-arm signals (clear interrupt_mask) and return > 0 if work raced in. */
  idle(): number;
}

export interface EventLoopOptions {
  /**
   * How long (µs) to spin on the doorbell before sleeping. Spinning costs ~0.1 µs a wakeup, a sleep
   * ~5 µs per direction here plus the event-loop turn that resolves Atomics.waitAsync (~3 µs more,
   * docs/vmbus.md). Longer spins were measured and lose on a shared 2-core machine: a spinning
   * loop holds the core the next hop's thread needs (docs/tap.md "Latency").
   */
  readonly spinUs?: number;
  /** Longest stretch of work before yielding to the worker's event loop (postMessage, timers). */
  readonly yieldEveryMs?: number;
  /**
   * Longest sleep before re-polling with no doorbell: recovery from a lost wakeup (a real guest
   * re-polls its rings when an interrupt goes missing). Costs one empty pass per period when idle.
   */
  readonly maxSleepMs?: number;
}

const DEFAULTS = { spinUs: 20, yieldEveryMs: 2, maxSleepMs: 50 } as const;
/** Doorbell polls between two clock reads while spinning (a clock read costs ~30 ns). */
const SPIN_CHECK = 64;
/** Productive passes between two clock reads for the yield deadline. */
const YIELD_CHECK = 16;

/**
 * The loop both ends run in their worker: poll every pollable in batches; when none has work,
 * re-arm, spin on the doorbell, then Atomics.waitAsync on it so control messages still get in.
 * The spin is timed (spinUs), not counted, and the clock is read once per SPIN_CHECK polls while
 * spinning and once per YIELD_CHECK productive passes while busy (a clock read is ~30 ns).
 */
export class EventLoop {
  private readonly items: Pollable[] = [];
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly spinMs: number;
  private readonly yieldMs: number;
  private readonly maxSleepMs: number;
  /** Times the loop went to sleep (Atomics.waitAsync) / a spin caught the doorbell instead. */
  sleeps = 0;
  spinHits = 0;
  /** Sleeps that ended by timeout with no doorbell. */
  sleepTimeouts = 0;
  /** Wall time spent asleep (ms), wake latency included. */
  sleptMs = 0;
  /** Of those, the ones whose re-poll found work: wakeups that were lost and recovered. */
  lostWakeupsRecovered = 0;

  constructor(
    readonly doorbell: Doorbell,
    options: EventLoopOptions = {},
  ) {
    this.spinMs = (options.spinUs ?? DEFAULTS.spinUs) / 1000;
    this.yieldMs = options.yieldEveryMs ?? DEFAULTS.yieldEveryMs;
    this.maxSleepMs = options.maxSleepMs ?? DEFAULTS.maxSleepMs;
  }

  /** Sleep/wake counters of this loop and the lost-signal fault of its thread. */
  wakeStats(): LoopWakeStats {
    return { sleeps: this.sleeps, spinHits: this.spinHits, sleptMs: this.sleptMs, sleepTimeouts: this.sleepTimeouts, lostWakeupsRecovered: this.lostWakeupsRecovered, ringsDropped: Doorbell.droppedInThread, notifies: Doorbell.notifiedInThread };
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
    let passes = 0;
    let timedOut = false;
    while (!this.stopped) {
      // Read the doorbell before polling: a signal that lands during the poll moves seq away from
      // `seen`, so we cannot go to sleep on a wakeup we have not acted on.
      const seen = this.doorbell.seq;
      const work = this.runOnce();
      if (timedOut && work > 0) this.lostWakeupsRecovered++;
      timedOut = false;
      if (work > 0) {
        if (++passes < YIELD_CHECK) continue;
        passes = 0;
        const now = performance.now();
        if (now - lastYield >= this.yieldMs) {
          await new Promise<void>((r) => setImmediate(r));
          lastYield = performance.now();
        }
        continue;
      }
      if (this.idleAll() > 0) continue;
      // `passes` is not reset here: work that alternates with short idle spins must still yield.
      if (this.spinFor(seen, performance.now(), this.spinMs)) {
        this.spinHits++;
        continue;
      }
      this.sleeps++;
      const asleep = performance.now();
      await this.doorbell.wait(seen, this.maxSleepMs);
      timedOut = this.doorbell.seq === seen;
      if (timedOut) this.sleepTimeouts++;
      lastYield = performance.now();
      this.sleptMs += lastYield - asleep;
    }
  }

  /** Polls the doorbell until it moves away from `seen` (true) or `ms` have passed (false). */
  private spinFor(seen: number, start: number, ms: number): boolean {
    const bell = this.doorbell;
    for (;;) {
      for (let i = 0; i < SPIN_CHECK; i++) if (bell.seq !== seen) return true;
      if (performance.now() - start >= ms) return false;
    }
  }
}
