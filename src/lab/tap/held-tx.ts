/**
 * Frames from the TAP that the NIC could not queue yet (queue stopped, or the device is
 * re-attaching for -G/-L/MTU), with the transmit PPIs already mapped: kept in order in a
 * preallocated arena and retried before the TAP ring is read again, so back-pressure loses
 * nothing. Fixed slots, no allocation per frame.
 */
import { copyBytes } from '../../packet/index.js';
import type { TxMeta } from '../../guest/index.js';

/** A 64 KiB GSO super-frame plus Ethernet/VLAN headers (io's MAX_TAP_READ_LEN less the vnet header). */
const SLOT_BYTES = 65536 + 64;
const SLOTS = 16;

export class HeldTx {
  readonly bytes = new Uint8Array(SLOT_BYTES * SLOTS);
  readonly capacity = SLOTS;
  private readonly lens = new Uint32Array(SLOTS);
  private readonly flags = new Uint32Array(SLOTS);
  private readonly csum = new Uint32Array(SLOTS);
  private readonly lso = new Uint32Array(SLOTS);
  private head = 0;
  count = 0;

  /** Copies a frame and its PPIs in; the caller never offers more than `capacity` between shifts. */
  push(u8: Uint8Array, off: number, len: number, meta: TxMeta): void {
    const slot = (this.head + this.count) % SLOTS;
    const n = Math.min(len, SLOT_BYTES);
    copyBytes(u8, off, this.bytes, slot * SLOT_BYTES, n);
    this.lens[slot] = n;
    this.flags[slot] = meta.flags;
    this.csum[slot] = meta.csum;
    this.lso[slot] = meta.lso;
    this.count++;
  }

  headOffset(): number {
    return this.head * SLOT_BYTES;
  }

  headLength(): number {
    return this.lens[this.head]!;
  }

  /** Loads the head frame's PPIs into `meta`. */
  headMeta(meta: TxMeta): TxMeta {
    meta.flags = this.flags[this.head]!;
    meta.csum = this.csum[this.head]!;
    meta.lso = this.lso[this.head]!;
    return meta;
  }

  shift(): void {
    this.head = (this.head + 1) % SLOTS;
    this.count--;
  }
}
