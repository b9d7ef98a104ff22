import { ProtocolError, ResourceError } from '../core/index.js';
import type { VmbusCounters } from './counters.js';

/** VMBUS_RQST_ID_NO_RESPONSE = U64_MAX − 2 (§2.11) as the two u32 halves the data path carries. */
export const RQST_ID_NO_RESPONSE_LO = 0xfffffffd;
export const RQST_ID_NO_RESPONSE_HI = 0xffffffff;

const FREE_NEVER = 0;
const IN_USE = 1;
const COMPLETED = 2;
const RECLAIMED = 3;

/**
 * The per-channel requestor (§2.11): wire trans_id = slot + 1 (never 0) for packets sent with
 * COMPLETION_REQUESTED, mapped back to the caller's numeric cookie. Free slots are reused first in,
 * first out, so a duplicate completion most likely finds its slot still free and is caught.
 * Unknown, duplicate and stale (reclaimed by close/rescind) ids throw ProtocolError BAD_TRANSACTION.
 */
export class Requestor {
  private readonly cookies: Float64Array;
  private readonly state: Uint8Array;
  private readonly freeList: Int32Array;
  private head = 0;
  private freeCount: number;

  constructor(
    readonly size: number,
    private readonly counters: VmbusCounters,
  ) {
    if (!(size > 0 && size < 0x7fffffff)) throw new ResourceError('LIMIT', `requestor size ${size}`);
    this.cookies = new Float64Array(size);
    this.state = new Uint8Array(size);
    this.freeList = new Int32Array(size);
    for (let i = 0; i < size; i++) this.freeList[i] = i;
    this.freeCount = size;
  }

  get outstanding(): number {
    return this.size - this.freeCount;
  }

  /** An id for `cookie`, or 0 when every slot is in use (the send fails with "try again", §2.11). */
  alloc(cookie: number): number {
    if (this.freeCount === 0) return 0;
    const slot = this.freeList[this.head]!;
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
    this.freeCount--;
    this.state[slot] = IN_USE;
    this.cookies[slot] = cookie;
    return slot + 1;
  }

  /** Returns an id that was allocated but never sent (the ring was full). */
  release(id: number): void {
    if (this.state[id - 1] !== IN_USE) throw new ResourceError('BAD_TRANSACTION', `release of id ${id} not in use`);
    this.free(id - 1, FREE_NEVER);
  }

  /** Matches a completion's trans_id to its request, frees the slot and returns the cookie. */
  complete(transIdLo: number, transIdHi: number): number {
    const slot = transIdLo - 1;
    if (transIdHi !== 0 || transIdLo === 0 || slot >= this.size) {
      this.counters.inc('bad_transaction');
      throw new ProtocolError('BAD_TRANSACTION', `unknown trans_id ${transIdHi.toString(16)}:${transIdLo.toString(16)}`);
    }
    const st = this.state[slot]!;
    if (st !== IN_USE) {
      this.counters.inc('bad_transaction');
      const why = st === COMPLETED ? 'duplicate' : st === RECLAIMED ? 'stale' : 'unknown';
      throw new ProtocolError('BAD_TRANSACTION', `${why} trans_id ${transIdLo}`);
    }
    const cookie = this.cookies[slot]!;
    this.free(slot, COMPLETED);
    return cookie;
  }

  /** Close or rescind: every outstanding request is handed to `fn` and its id becomes stale. */
  reclaimAll(fn: (cookie: number) => void): number {
    let n = 0;
    for (let slot = 0; slot < this.size; slot++) {
      if (this.state[slot] !== IN_USE) continue;
      this.free(slot, RECLAIMED);
      fn(this.cookies[slot]!);
      n++;
    }
    this.counters.inc('reclaimed_ids', n);
    return n;
  }

  private free(slot: number, newState: number): void {
    this.state[slot] = newState;
    let tail = this.head + this.freeCount;
    if (tail >= this.size) tail -= this.size;
    this.freeList[tail] = slot;
    this.freeCount++;
  }
}
