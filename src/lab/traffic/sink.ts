/**
 * A traffic sink that runs inside a VM worker: takes the payload records of one flow off a NIC's
 * receive path and checks them: sequence numbers (delivered, duplicated, reordered, lost) and
 * every payload byte (corrupt). A frame may carry several records (GRO/RSC coalesced TCP
 * segments, or a whole LSO super-frame); a fragmented datagram is one record, checked fragment
 * by fragment (demux.ts). One bit per expected record, sized at setup; nothing allocates per frame.
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
      if (len < PAYLOAD_HEADER_LEN || at + len > end || getU32(b, at) !== PAYLOAD_MAGIC || getU32(b, at + 4) !== flow || !this.verifier.intact(b, at, len)) {
        // The rest of the frame cannot be walked: one corrupt record stands for it.
        this.delivered++;
        this.corrupt++;
        break;
      }
      this.record(getU32(b, at + PAYLOAD_SEQ_AT), onVlan);
      at += len;
    }
    if (records > 1) this.coalesced++;
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
