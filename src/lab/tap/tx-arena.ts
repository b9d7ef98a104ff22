/**
 * Where a TAP bridge reads the kernel's frames when the NIC sends them in place (Contract A,
 * NetvscDevice.xmitInPlace): a run of this VM's guest pages, described to the host once (a GPADL,
 * mapTxPages), used as a ring. Each frame read is a record; a record's bytes stay untouched while
 * it waits to be sent (the queue was stopped: held here, never copied) and while the host may read
 * it (until onTxDone of its token). Records are reclaimed in the order they were read, so one slow
 * completion holds back the space behind it, never the other way round. Fixed arrays, no
 * allocation per frame.
 * A token is the frame's number mod 2^29 (below GEN_TOKEN_BASE); `records` is a power of two and
 * records are used in frame order, so its low bits are the record's index (a mask, no division per
 * frame) and the rest that record's use. A completion that comes late or twice for a record since
 * reused names an older use and frees nothing (counted `badDone`); a token repeats only 2^29 frames
 * later (with the old index + use count × records it did after 2^21 frames of 256 records).
 */
import { GEN_TOKEN_BASE } from '../traffic/tx-slots.js';

/** Record states. */
const FREE = 0;
/** Read, not yet taken by the NIC (queue stopped): sent first next time. */
const PENDING = 1;
/** Taken in place: the host may read it until onTxDone. */
const IN_FLIGHT = 2;
/** Free again; reclaimed once every older record is too. */
const DONE = 3;

/** The stack's transmit request of a pending frame (the mapped vnet header). */
export interface ArenaTxRequest {
  csum: boolean;
  mss: number;
}

/** Tokens stay below the generators' slots' (TxDoneRouter tells them apart by this). */
const TOKEN_LIMIT = GEN_TOKEN_BASE;
const TOKEN_MASK = TOKEN_LIMIT - 1;

export class TxArena {
  /** Records at most in use at once (a power of two); a read batch never asks for more than are free. */
  readonly records: number;
  /** records - 1: a token's or a position's record index. */
  private readonly mask: number;
  private readonly start: Int32Array;
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  private readonly state: Uint8Array;
  private readonly csum: Uint8Array;
  private readonly mss: Int32Array;
  /** Each record's current token (its frame's number mod TOKEN_LIMIT). */
  private readonly token: Int32Array;
  /** Frames added so far, mod TOKEN_LIMIT: the next frame's token. */
  private seq = 0;
  /** done() calls for a token not in flight (twice, stale, never handed out): ignored. */
  badDone = 0;
  /** Oldest record, records in use, first pending record and how many are pending. */
  private first = 0;
  private used = 0;
  private pendFirst = 0;
  pending = 0;
  /** Records taken in place and not yet done. */
  inFlight = 0;
  /** Next read position (absolute offset in guest memory). */
  private head: number;
  /** The window the next batch may read into, set by window(). */
  winStart = 0;
  winEnd = 0;

  constructor(
    /** Absolute offset of the arena in guest memory and its size in bytes. */
    readonly base: number,
    readonly size: number,
    /** Largest record a read may need (io's MAX_TAP_READ_LEN): a window is never smaller. */
    private readonly frameMax: number,
    records = 256,
  ) {
    if (!(Number.isInteger(records) && records > 0 && records <= 1 << 16 && (records & (records - 1)) === 0)) {
      throw new RangeError(`TxArena: records must be a power of two up to 65536, not ${records}`);
    }
    this.records = records;
    this.mask = records - 1;
    this.start = new Int32Array(records);
    this.off = new Int32Array(records);
    this.len = new Int32Array(records);
    this.state = new Uint8Array(records);
    this.csum = new Uint8Array(records);
    this.mss = new Int32Array(records);
    this.token = new Int32Array(records).fill(-1);
    this.head = base;
  }

  /** Records a new read may still add (as of the last window(), which reclaims). */
  get freeRecords(): number {
    return this.records - this.used;
  }

  /**
   * Finds room for one batch of reads: [winStart, winEnd), at least frameMax bytes, after the
   * newest record (or at the arena's start once the end is too close). False when there is none:
   * completions must free space first.
   */
  window(): boolean {
    this.reclaim();
    const end = this.base + this.size;
    if (this.used === 0) this.head = this.base;
    const tail = this.used === 0 ? end : this.start[this.first]!;
    if (this.used === 0 || this.head > tail) {
      // Not wrapped: the space after the newest record, else the space before the oldest.
      if (end - this.head >= this.frameMax) return this.setWindow(this.head, end);
      if (this.used === 0 || tail - this.base < this.frameMax) return false;
      this.head = this.base;
      return this.setWindow(this.base, tail);
    }
    return tail - this.head >= this.frameMax && this.setWindow(this.head, tail);
  }

  private setWindow(s: number, e: number): boolean {
    this.winStart = s;
    this.winEnd = e;
    return true;
  }

  /** The batch's reads ended at `end` (dropped frames included): the next window starts there. */
  readTo(end: number): void {
    this.head = end;
  }

  /**
   * A frame the batch read, vnet header at `start`, frame at [off, off + len), with its request:
   * a new record, PENDING until taken. Returns its token.
   */
  add(start: number, off: number, len: number, csum: boolean, mss: number): number {
    const i = (this.first + this.used) & this.mask;
    this.used++;
    this.start[i] = start;
    this.off[i] = off;
    this.len[i] = len;
    this.csum[i] = csum ? 1 : 0;
    this.mss[i] = mss;
    this.state[i] = PENDING;
    if (this.pending === 0) this.pendFirst = i;
    this.pending++;
    // The frame's number, whose low bits are i already (first + used counts frames added, mod
    // records); or-ing i in keeps a token's index right whatever the count says.
    const t = (this.seq & ~this.mask) | i;
    this.seq = (this.seq + 1) & TOKEN_MASK;
    this.token[i] = t;
    return t;
  }

  /** The oldest pending record (pending > 0): its token, frame and request. */
  headToken(): number {
    return this.token[this.pendFirst]!;
  }

  offsetOf(token: number): number {
    return this.off[token & this.mask]!;
  }

  lengthOf(token: number): number {
    return this.len[token & this.mask]!;
  }

  requestOf(token: number, out: ArenaTxRequest): ArenaTxRequest {
    const i = token & this.mask;
    out.csum = this.csum[i] === 1;
    out.mss = this.mss[i]!;
    return out;
  }

  /** The oldest pending record was taken: in place (the host reads it until done()) or copied/dropped (free now). */
  taken(inPlace: boolean): void {
    const i = this.pendFirst;
    this.state[i] = inPlace ? IN_FLIGHT : DONE;
    if (inPlace) this.inFlight++;
    this.pendFirst = (i + 1) & this.mask;
    this.pending--;
  }

  /**
   * onTxDone: an in-place record's bytes are free. A token not in flight now (completed already,
   * from an earlier use of a record since reused, never handed out) is counted and ignored: it
   * never frees space.
   */
  done(token: number): boolean {
    const i = token & this.mask;
    if (!(token >= 0 && token < TOKEN_LIMIT) || this.token[i] !== token || this.state[i] !== IN_FLIGHT) {
      this.badDone++;
      return false;
    }
    this.state[i] = DONE;
    this.inFlight--;
    return true;
  }

  /**
   * Frees every in-flight record (the device that took them is closed and never returned them:
   * TxDoneRouter.retire). Returns how many.
   */
  abandonInFlight(): number {
    let n = 0;
    for (let k = 0; k < this.used; k++) {
      const i = (this.first + k) & this.mask;
      if (this.state[i] !== IN_FLIGHT) continue;
      this.state[i] = DONE;
      n++;
    }
    this.inFlight -= n;
    return n;
  }

  /** Frees every pending record (the TAP was detached: its frames go nowhere). */
  dropPending(): void {
    while (this.pending > 0) this.taken(false);
  }

  private reclaim(): void {
    while (this.used > 0 && this.state[this.first] === DONE) {
      this.state[this.first] = FREE;
      this.first = (this.first + 1) & this.mask;
      this.used--;
    }
  }
}
