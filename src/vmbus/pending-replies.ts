import { ProtocolError, type Clock } from '../core/index.js';

interface Pending<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  cancel: () => void;
}

/**
 * Channel messages the guest is waiting on (GPADL_CREATED, OPENCHANNEL_RESULT, ...), keyed by
 * handle or relid. Each wait ends with the reply or with ProtocolError TIMEOUT, so a host that
 * never answers cannot leave the guest blocked.
 */
export class PendingReplies<T> {
  private readonly pending = new Map<number, Pending<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly what: string,
  ) {}

  wait(key: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancel = this.clock.after(this.timeoutMs, () => {
        this.pending.delete(key);
        reject(new ProtocolError('TIMEOUT', `no ${this.what} for ${key} within ${this.timeoutMs} ms`));
      });
      this.pending.set(key, { resolve, reject, cancel });
    });
  }

  /** Resolves the wait for key; false if nobody was waiting (an unsolicited reply). */
  resolve(key: number, value: T): boolean {
    const p = this.take(key);
    p?.resolve(value);
    return p !== undefined;
  }

  reject(key: number, e: Error): boolean {
    const p = this.take(key);
    p?.reject(e);
    return p !== undefined;
  }

  private take(key: number): Pending<T> | undefined {
    const p = this.pending.get(key);
    if (!p) return undefined;
    this.pending.delete(key);
    p.cancel();
    return p;
  }
}
