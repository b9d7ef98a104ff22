/**
 * The single-thread mode's engine: the host's and every VM's EventLoop live in one thread and are
 * pumped in turn, so a test sees one interleaving for one sequence of calls. Between rounds the
 * pump yields one macrotask, so bus messages (microtasks) and pacing timers get in.
 */
import { ResourceError } from '../core/index.js';
import type { EventLoop } from '../vmbus/index.js';

const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Rejections of promises whose caller stopped waiting (the pump gave up with TIMEOUT): nobody
 * awaits them any more, so they are counted here and the last error kept, never dropped.
 */
export class AbandonedRejections {
  count = 0;
  last: unknown = undefined;

  record(e: unknown): void {
    this.count++;
    this.last = e;
  }
}

/**
 * Runs `turn(n)` (which pumps and yields) until `p` settles, then returns its value or throws its
 * error to the caller who awaits this. When `expired(n)` says to give up first, throws
 * `timeout()`; a rejection of `p` after that goes to `abandoned`.
 */
export async function pumpUntilSettled<R>(
  p: Promise<R>,
  turn: (n: number) => Promise<void>,
  expired: (n: number) => boolean,
  timeout: () => Error,
  abandoned: AbandonedRejections,
): Promise<R> {
  let state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  let value: R | undefined;
  let error: unknown;
  let gaveUp = false;
  // Handled at once, so no unhandled-rejection event fires while the pump spins.
  p.then(
    (v) => {
      state = 'fulfilled';
      value = v;
    },
    (e: unknown) => {
      state = 'rejected';
      error = e;
      if (gaveUp) abandoned.record(e);
    },
  );
  for (let n = 0; state === 'pending'; n++) {
    if (expired(n)) {
      gaveUp = true;
      throw timeout();
    }
    await turn(n);
  }
  if (state === 'rejected') throw error;
  return value as R;
}

export class Pump {
  private readonly loops: EventLoop[] = [];
  /** Promises until() gave up on (TIMEOUT) that rejected later. */
  readonly abandoned = new AbandonedRejections();

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
  until<R>(p: Promise<R>, what: string): Promise<R> {
    const start = performance.now();
    return pumpUntilSettled(
      p,
      async () => {
        this.round();
        await yieldTurn();
      },
      (n) => n > 0 && performance.now() - start > this.timeoutMs,
      () => new ResourceError('TIMEOUT', `single-thread lab: ${what} did not finish in ${this.timeoutMs} ms`),
      this.abandoned,
    );
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
