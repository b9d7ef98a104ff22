/**
 * The single-thread mode's engine: the host's and every VM's EventLoop live in one thread and are
 * pumped in turn, so a test sees one interleaving for one sequence of calls. Between rounds the
 * pump yields one macrotask, so bus messages (microtasks) and pacing timers get in.
 */
import { ResourceError } from '../core/index.js';
import type { EventLoop } from '../vmbus/index.js';

const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

export class Pump {
  private readonly loops: EventLoop[] = [];

  constructor(private readonly timeoutMs: number) {}

  add(loop: EventLoop): void {
    this.loops.push(loop);
  }

  remove(loop: EventLoop): void {
    const i = this.loops.indexOf(loop);
    if (i >= 0) this.loops.splice(i, 1);
  }

  /** Drains every loop in turn (bounded, so a busy generator cannot starve the others); returns work done. */
  round(): number {
    let work = 0;
    for (const loop of this.loops) work += loop.drain(256);
    return work;
  }

  /** Pumps until `p` settles; fails with TIMEOUT (naming `what`) instead of hanging. */
  async until<R>(p: Promise<R>, what: string): Promise<R> {
    let settled = false;
    const done = p.finally(() => {
      settled = true;
    });
    done.catch(() => {});
    const start = performance.now();
    while (!settled) {
      this.round();
      await yieldTurn();
      if (!settled && performance.now() - start > this.timeoutMs) {
        throw new ResourceError('TIMEOUT', `single-thread lab: ${what} did not finish in ${this.timeoutMs} ms`);
      }
    }
    return done;
  }

  /** Pumps until no loop has work for two rounds running; returns the work done. */
  async settle(): Promise<number> {
    let total = 0;
    let quiet = 0;
    const start = performance.now();
    while (quiet < 2) {
      const w = this.round();
      total += w;
      quiet = w === 0 ? quiet + 1 : 0;
      await yieldTurn();
      if (performance.now() - start > this.timeoutMs) throw new ResourceError('TIMEOUT', `single-thread lab: still busy after ${this.timeoutMs} ms`);
    }
    return total;
  }
}
