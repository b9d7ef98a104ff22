/**
 * A traffic sink that runs inside a VM worker: takes the frames of one flow off a NIC's receive
 * path and checks them: sequence numbers (delivered, duplicated, reordered, lost) and every
 * payload byte (corrupt). One bit per expected frame, sized at setup; nothing allocates per frame.
 */
import { getU32, PAYLOAD_SEQ_AT, PayloadVerifier } from './payload.js';
import type { SinkSpec } from './spec.js';

export interface SinkReport {
  readonly flow: number;
  readonly expected: number;
  /** Frames of this flow received, duplicates included. */
  readonly delivered: number;
  readonly unique: number;
  /** expected − unique: frames that never arrived (so far). */
  readonly lost: number;
  readonly duplicated: number;
  /** Frames whose seq was below one already seen. */
  readonly reordered: number;
  /** Frames whose payload was not byte-identical to what the generator built, or seq out of range. */
  readonly corrupt: number;
  readonly bytes: number;
}

export class TrafficSink {
  delivered = 0;
  unique = 0;
  duplicated = 0;
  reordered = 0;
  corrupt = 0;
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

  /** One frame of this flow; payload at b[at, end). `frameLen` is the whole frame's length. */
  take(b: Uint8Array, at: number, end: number, frameLen: number): void {
    this.delivered++;
    this.bytes += frameLen;
    const seq = getU32(b, at + PAYLOAD_SEQ_AT);
    if (seq >= this.spec.count || !this.verifier.intact(b, at, end - at)) {
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
      bytes: this.bytes,
    };
  }
}
