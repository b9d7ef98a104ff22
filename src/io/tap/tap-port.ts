/**
 * The NIC-side end of a TAP interface: a FramePort over the two rings, usable in any thread that
 * received the TapShared (the VM worker, or the main thread in tests). Frames arrive with the
 * vnet header parsed into FrameMeta; frames leave with meta written as the vnet header.
 */
import { newFrameMeta, WireError, type FrameHandler, type FrameMeta, type FramePort } from '../../core/index.js';
import { copyBytes } from '../copy-bytes.js';
import { FrameRing, RingStat } from './frame-ring.js';
import { readVnetHeader, vnetHeaderValid, writeVnetHeader } from './vnet-header.js';

/** Everything a thread needs to attach to a TAP (structured-cloneable). */
export interface TapShared {
  readonly name: string;
  /** Kernel → NIC frames. */
  readonly rx: SharedArrayBuffer;
  /** NIC → kernel frames. */
  readonly tx: SharedArrayBuffer;
  readonly vnetHdrLen: number;
}

export class TapPort implements FramePort {
  private readonly rx: FrameRing;
  private readonly tx: FrameRing;
  private readonly hdrLen: number;
  private readonly meta: FrameMeta = newFrameMeta();

  constructor(shared: TapShared) {
    this.rx = new FrameRing(shared.rx);
    this.tx = new FrameRing(shared.tx);
    this.hdrLen = shared.vnetHdrLen;
  }

  tryWrite(bytes: Uint8Array, off: number, len: number, meta: FrameMeta): boolean {
    if (!vnetHeaderValid(meta, len)) throw new WireError('MALFORMED', `offload metadata does not fit a ${len}-byte frame`);
    const at = this.tx.reserve(this.hdrLen + len);
    if (at < 0) return false;
    const ring = this.tx.bytes;
    writeVnetHeader(ring, at, this.hdrLen, meta);
    copyBytes(ring, this.hdrLen + at, bytes, off, len);
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

  waitReadable(timeoutMs: number): boolean {
    return this.rx.waitData(timeoutMs);
  }

  readable(timeoutMs: number): Promise<boolean> {
    return this.rx.waitDataAsync(timeoutMs);
  }
}
