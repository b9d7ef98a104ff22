/**
 * Frames a VM NIC took from its port but the device could not queue yet (the queue was stopped):
 * kept in order in a preallocated arena and retried before anything new is read from the port,
 * so back-pressure loses nothing. Fixed slots, no allocation per frame.
 */
import { copyBytes } from '../packet/index.js';

/** Largest frame a port may hand over: a 64 KiB GSO super-frame plus headers. */
const SLOT_BYTES = 65550;
const SLOTS = 32;

export class HeldFrames {
  readonly bytes = new Uint8Array(SLOT_BYTES * SLOTS);
  readonly capacity = SLOTS;
  private readonly lens = new Uint32Array(SLOTS);
  private head = 0;
  count = 0;

  /** Copies a frame in; the caller never offers more than `capacity` between shifts. */
  push(u8: Uint8Array, off: number, len: number): void {
    const slot = (this.head + this.count) % SLOTS;
    copyBytes(u8, off, this.bytes, slot * SLOT_BYTES, Math.min(len, SLOT_BYTES));
    this.lens[slot] = Math.min(len, SLOT_BYTES);
    this.count++;
  }

  headOffset(): number {
    return this.head * SLOT_BYTES;
  }

  headLength(): number {
    return this.lens[this.head]!;
  }

  shift(): void {
    this.head = (this.head + 1) % SLOTS;
    this.count--;
  }
}
