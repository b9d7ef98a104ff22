/**
 * The NIC-side end of a TAP interface: a FramePort over the two rings, usable in any thread that
 * received the TapShared (the VM worker, or the main thread in tests). Frames arrive with the
 * vnet header parsed into FrameMeta; frames leave with meta written as the vnet header.
 */
import { writeSync } from 'node:fs';
import { newFrameMeta, WireError, type FrameHandler, type FrameMeta, type FramePort } from '../../core/index.js';
import { copyBytes } from '../../packet/index.js';
import { FrameRing, RingStat } from './frame-ring.js';
import { MAX_TAP_READ_LEN } from './tap-io-loops.js';
import { readVnetHeader, vnetHeaderValid, writeVnetHeader } from './vnet-header.js';

/** Everything a thread needs to attach to a TAP (structured-cloneable). */
export interface TapShared {
  readonly name: string;
  /** Kernel → NIC frames. */
  readonly rx: SharedArrayBuffer;
  /** NIC → kernel frames. */
  readonly tx: SharedArrayBuffer;
  readonly vnetHdrLen: number;
  /**
   * When set, the thread holding the port writes NIC → kernel frames to this TAP fd itself (one
   * write() per frame) instead of through the `tx` ring and a TX worker: one thread hop and one
   * sleep/wake fewer per frame (docs/tap.md "Latency"). `tx` then only carries the TX counters.
   */
  readonly txFd?: number;
}

export class TapPort implements FramePort {
  private readonly rx: FrameRing;
  private readonly tx: FrameRing;
  private readonly hdrLen: number;
  private readonly meta: FrameMeta = newFrameMeta();
  private readonly txFd: number;
  /** Direct TX: the vnet header and frame side by side for one write() (preallocated, reused). */
  private readonly staging: Uint8Array | null;

  constructor(shared: TapShared) {
    this.rx = new FrameRing(shared.rx);
    this.tx = new FrameRing(shared.tx);
    this.hdrLen = shared.vnetHdrLen;
    this.txFd = shared.txFd ?? -1;
    this.staging = this.txFd >= 0 ? new Uint8Array(MAX_TAP_READ_LEN) : null;
  }

  tryWrite(bytes: Uint8Array, off: number, len: number, meta: FrameMeta): boolean {
    if (!vnetHeaderValid(meta, len)) throw new WireError('MALFORMED', `offload metadata does not fit a ${len}-byte frame`);
    if (this.staging !== null) return this.writeDirect(this.staging, bytes, off, len, meta);
    const at = this.tx.reserve(this.hdrLen + len);
    if (at < 0) return false;
    const ring = this.tx.bytes;
    writeVnetHeader(ring, at, this.hdrLen, meta);
    copyBytes(bytes, off, ring, this.hdrLen + at, len);
    this.tx.commit(this.hdrLen + len);
    return true;
  }

  poll(handler: FrameHandler, budget: number): number {
    let n = 0;
    while (n < budget) {
      const at = this.rx.peek();
      if (at < 0) break;
      const frameLen = this.rx.peekLen - this.hdrLen;
      if (frameLen >= 0) readVnetHeader(this.rx.bytes, at, this.meta);
      if (frameLen >= 0 && vnetHeaderValid(this.meta, frameLen)) {
        handler(this.rx.bytes, at + this.hdrLen, frameLen, this.meta);
        n++;
      } else {
        this.rx.count(RingStat.ConsumerErrors);
      }
      this.rx.release();
    }
    this.rx.publishTail(); // one publication per batch
    return n;
  }

  /**
   * One write() straight to the TAP: the kernel takes the frame (or rejects it) before returning,
   * so there is never back-pressure to report. A rejected frame is counted and dropped, as the TX
   * worker does; a frame too large for a TAP at all is refused the same way.
   */
  private writeDirect(staging: Uint8Array, bytes: Uint8Array, off: number, len: number, meta: FrameMeta): boolean {
    const total = this.hdrLen + len;
    if (total > staging.length) {
      this.tx.count(RingStat.ConsumerErrors);
      return true;
    }
    writeVnetHeader(staging, 0, this.hdrLen, meta);
    copyBytes(bytes, off, staging, this.hdrLen, len);
    try {
      writeSync(this.txFd, staging, 0, total);
      this.tx.count(RingStat.Frames);
      this.tx.count(RingStat.Bytes, total);
    } catch {
      // EINVAL (bad vnet header) or EIO (interface down or gone): the kernel drops it, so do we.
      this.tx.count(RingStat.ConsumerErrors);
    }
    return true;
  }

  waitReadable(timeoutMs: number): boolean {
    return this.rx.waitData(timeoutMs);
  }

  readable(timeoutMs: number): Promise<boolean> {
    return this.rx.waitDataAsync(timeoutMs);
  }
}
