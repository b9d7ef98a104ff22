/**
 * A traffic sink that runs inside a VM worker: takes the payload records of one flow off a NIC's
 * receive path and checks them: sequence numbers (delivered, duplicated, reordered, lost) and
 * every payload byte (corrupt). A frame may carry several records (GRO/RSC coalesced TCP
 * segments, or a whole LSO super-frame); a fragmented datagram is one record, checked fragment
 * by fragment (demux.ts). An RSC packet the driver hands up as a fragment list (Contract B) is
 * walked in place, a record straddling two fragments checked piece by piece (takeList). One bit
 * per expected record, sized at setup; nothing allocates per frame.
 */
import { getU32, PAYLOAD_HEADER_LEN, PAYLOAD_MAGIC, PAYLOAD_SEQ_AT, PayloadVerifier } from './payload.js';
import type { SinkSpec } from './spec.js';

export interface SinkReport {
  readonly flow: number;
  readonly expected: number;
  /** Records of this flow received, duplicates included. */
  readonly delivered: number;
  readonly unique: number;
  /** expected − unique: records that never arrived (so far). */
  readonly lost: number;
  readonly duplicated: number;
  /** Records whose seq was below one already seen. */
  readonly reordered: number;
  /** Records whose payload was not byte-identical to what the generator built, or seq out of range. */
  readonly corrupt: number;
  /** Frames that carried this flow (a coalesced frame or a fragment counts once). */
  readonly frames: number;
  /** Frames that carried more than one record: coalesced by the receiver (GRO) or the host (RSC). */
  readonly coalesced: number;
  /** IP fragments taken (their datagrams count in delivered once whole). */
  readonly fragments: number;
  /** Frames that arrived on another VLAN than the spec's (their records count corrupt). */
  readonly wrongVlan: number;
  readonly bytes: number;
}

export class TrafficSink {
  delivered = 0;
  unique = 0;
  duplicated = 0;
  reordered = 0;
  corrupt = 0;
  frames = 0;
  coalesced = 0;
  fragments = 0;
  wrongVlan = 0;
  bytes = 0;
  private highest = -1;
  private readonly seen: Uint8Array;
  private readonly verifier: PayloadVerifier;
  /** takeList's cursor: the fragment it is in and the frame offset where that fragment starts. */
  private frag = 0;
  private fragBase = 0;
  /** A record header that straddles fragments, gathered. */
  private readonly hdr = new Uint8Array(PAYLOAD_HEADER_LEN);

  constructor(readonly spec: SinkSpec) {
    this.seen = new Uint8Array((spec.count + 7) >>> 3);
    this.verifier = new PayloadVerifier(spec.flow);
  }

  get complete(): boolean {
    return this.unique >= this.spec.count;
  }

  /** Whether a frame that came on `vlan` (0 = untagged) is where the spec wants it; counts it if not. */
  vlanOk(vlan: number): boolean {
    const want = this.spec.vlan;
    if (want === undefined || want === vlan) return true;
    this.wrongVlan++;
    return false;
  }

  /** One frame of this flow that came on `vlan`; its records at b[at, end). `frameLen` is the whole frame's length. */
  take(b: Uint8Array, at: number, end: number, frameLen: number, vlan = 0): void {
    this.frames++;
    this.bytes += frameLen;
    const onVlan = this.vlanOk(vlan);
    let records = 0;
    const flow = this.spec.flow;
    // The first record is always examined (a frame too short for one is corrupt); then as many
    // as follow it back to back.
    while (records === 0 || at + PAYLOAD_HEADER_LEN <= end) {
      records++;
      const len = at + PAYLOAD_HEADER_LEN <= end ? getU32(b, at + 12) : 0;
      const good = len >= PAYLOAD_HEADER_LEN && at + len <= end && getU32(b, at) === PAYLOAD_MAGIC && getU32(b, at + 4) === flow && this.verifier.intact(b, at, len);
      if (!this.verdict(good, good ? getU32(b, at + PAYLOAD_SEQ_AT) : 0, onVlan)) break;
      at += len;
    }
    if (records > 1) this.coalesced++;
  }

  /**
   * One frame of this flow as a fragment list (RX_F_FRAGS): fragment i is b[off[i], off[i] + len[i])
   * for i < n, and its records are frame bytes [start, end) (offsets from the frame's first byte).
   * Same verdicts as take() on the gathered frame.
   */
  takeList(b: Uint8Array, off: Int32Array, len: Int32Array, n: number, start: number, end: number, frameLen: number, vlan = 0): void {
    this.frames++;
    this.bytes += frameLen;
    const onVlan = this.vlanOk(vlan);
    const flow = this.spec.flow;
    this.frag = 0;
    this.fragBase = 0;
    let at = start;
    let records = 0;
    while (records === 0 || at + PAYLOAD_HEADER_LEN <= end) {
      records++;
      // The record's header, in place or gathered when it straddles two fragments.
      let hb: Uint8Array = this.hdr;
      let ha = 0;
      let ok = at + PAYLOAD_HEADER_LEN <= end && this.seek(len, n, at);
      if (ok) {
        const inFrag = at - this.fragBase;
        if (inFrag + PAYLOAD_HEADER_LEN <= len[this.frag]!) {
          hb = b;
          ha = off[this.frag]! + inFrag;
        } else ok = this.gatherHeader(b, off, len, n, at);
      }
      const recLen = ok ? getU32(hb, ha + 12) : 0;
      const good = recLen >= PAYLOAD_HEADER_LEN && at + recLen <= end && getU32(hb, ha) === PAYLOAD_MAGIC && getU32(hb, ha + 4) === flow && this.listIntact(b, off, len, n, at, recLen);
      if (!this.verdict(good, good ? getU32(hb, ha + PAYLOAD_SEQ_AT) : 0, onVlan)) break;
      at += recLen;
    }
    if (records > 1) this.coalesced++;
  }

  /** A record's verdict; false for a bad one: the rest of the frame cannot be walked, one corrupt record stands for it. */
  private verdict(good: boolean, seq: number, onVlan: boolean): boolean {
    if (good) {
      this.record(seq, onVlan);
      return true;
    }
    this.delivered++;
    this.corrupt++;
    return false;
  }

  /** Moves the cursor forward to the fragment holding frame offset `at`; false past the last. */
  private seek(len: Int32Array, n: number, at: number): boolean {
    while (this.frag < n && this.fragBase + len[this.frag]! <= at) {
      this.fragBase += len[this.frag]!;
      this.frag++;
    }
    return this.frag < n;
  }

  /** Copies the 16 header bytes at frame offset `at` into hdr across fragments; the cursor stays at `at`. */
  private gatherHeader(b: Uint8Array, off: Int32Array, len: Int32Array, n: number, at: number): boolean {
    let f = this.frag;
    let base = this.fragBase;
    for (let j = 0; j < PAYLOAD_HEADER_LEN; j++) {
      while (f < n && base + len[f]! <= at + j) base += len[f++]!;
      if (f >= n) return false;
      this.hdr[j] = b[off[f]! + at + j - base]!;
    }
    return true;
  }

  /** The pattern bytes of the record at frame offset `at` (its header already checked), piece by piece. */
  private listIntact(b: Uint8Array, off: Int32Array, len: Int32Array, n: number, at: number, recLen: number): boolean {
    if (recLen > 65536) return false;
    const stop = at + recLen;
    let from = PAYLOAD_HEADER_LEN;
    for (let p = at + PAYLOAD_HEADER_LEN; p < stop; ) {
      if (!this.seek(len, n, p)) return false;
      const k = Math.min(stop, this.fragBase + len[this.frag]!) - p;
      if (!this.verifier.piece(b, off[this.frag]! + p - this.fragBase, from, k)) return false;
      p += k;
      from += k;
    }
    return true;
  }

  /** One IP fragment of this flow arrived (its datagram is counted by datagram()). */
  fragment(frameLen: number): void {
    this.frames++;
    this.fragments++;
    this.bytes += frameLen;
  }

  /** A fragmented datagram arrived whole; `intact` = every fragment's bytes checked out. */
  datagram(seq: number, intact: boolean): void {
    this.record(seq, intact);
  }

  private record(seq: number, intact: boolean): void {
    this.delivered++;
    if (!intact || seq >= this.spec.count) {
      this.corrupt++;
      return;
    }
    const bit = 1 << (seq & 7);
    const byte = seq >>> 3;
    if ((this.seen[byte]! & bit) !== 0) {
      this.duplicated++;
      return;
    }
    this.seen[byte]! |= bit;
    this.unique++;
    if (seq < this.highest) this.reordered++;
    else this.highest = seq;
  }

  report(): SinkReport {
    return {
      flow: this.spec.flow,
      expected: this.spec.count,
      delivered: this.delivered,
      unique: this.unique,
      lost: this.spec.count - this.unique,
      duplicated: this.duplicated,
      reordered: this.reordered,
      corrupt: this.corrupt,
      frames: this.frames,
      coalesced: this.coalesced,
      fragments: this.fragments,
      wrongVlan: this.wrongVlan,
      bytes: this.bytes,
    };
  }
}
