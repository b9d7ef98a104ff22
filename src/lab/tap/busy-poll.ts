/**
 * Opt-in busy-poll mode for latency (`netvsc up --busy-poll`; never the default): a Pollable that
 * keeps its worker's EventLoop from sleeping. A sleep/wake between two threads costs an estimated
 * 20–30 µs on a VM (not benched alone; bench/tap's ping RTT with and without busy-poll shows
 * the sum), and a ping through the lab crosses several threads; a polling thread notices a frame in
 * about a microsecond instead. Like a poll-mode driver it burns a core while idle, so on an empty
 * pass it gives the CPU away (sched_yield from the TAP addon) to whatever else is runnable (the
 * other lab threads, iperf3, the kernel), and every `yieldEveryMs` it lets the loop sleep once so
 * the worker's own event loop runs (control calls, timers), ringing the doorbell from a
 * setImmediate to come straight back.
 */
import { ConfigError } from '../../core/index.js';
import { tapAvailability } from '../../io/index.js';
import type { EventLoop, Pollable } from '../../vmbus/index.js';

/** What a BusyPoll did (returned when it is switched off). */
export interface BusyPollCounts {
  readonly yields: number;
  readonly breaks: number;
}

export class BusyPoll implements Pollable {
  /** Empty passes that yielded the CPU / that let the worker's event loop run. */
  yields = 0;
  breaks = 0;
  private lastBreak = performance.now();
  private readonly ring = (): void => this.loop.doorbell.ring();

  constructor(
    private readonly loop: EventLoop,
    private readonly yieldCpu: () => void,
    private readonly yieldEveryMs = 2,
  ) {}

  poll(): number {
    return 0;
  }

  /** Called by the loop only after a pass with no work: > 0 keeps it polling instead of sleeping. */
  idle(): number {
    const now = performance.now();
    if (now - this.lastBreak >= this.yieldEveryMs) {
      this.lastBreak = now;
      this.breaks++;
      setImmediate(this.ring);
      return 0;
    }
    this.yields++;
    this.yieldCpu();
    return 1;
  }
}

/**
 * Switches busy-poll on `loop` on or off: returns the BusyPoll now on it (null when off). Needs the
 * TAP addon (its sched_yield); throws ConfigError UNSUPPORTED with the reason when it is missing.
 */
export function switchBusyPoll(loop: EventLoop, current: BusyPoll | null, on: boolean): BusyPoll | null {
  if (!on) {
    if (current) loop.remove(current);
    return null;
  }
  if (current) return current;
  const a = tapAvailability();
  if (!a.ok) throw new ConfigError('UNSUPPORTED', `busy-poll: ${a.reason}`);
  const b = new BusyPoll(loop, a.addon.schedYield);
  loop.add(b);
  return b;
}
