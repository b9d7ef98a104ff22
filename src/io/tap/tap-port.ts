/**
 * The NIC-side end of a TAP interface: a FramePort over the two rings, usable in any thread that
 * received the TapShared (the VM worker, or the main thread in tests). Frames arrive with the
 * vnet header parsed into FrameMeta; frames leave with meta written as the vnet header.
 */
import { ConfigError, newFrameMeta, WireError, type FrameHandler, type FrameMeta, type FramePort } from '../../core/index.js';
import { copyBytes } from '../../packet/index.js';
import { tapAvailability, type TapAddon, type TapWatchHandle } from './addon.js';
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
  /**
   * When set (TapOptions.reader 'inline'), the fd is non-blocking and the thread holding the port
   * reads kernel → NIC frames from it itself, in batches until it is empty; `rx` then only carries
   * the RX counters. TapPort.watch() wakes that thread's loop when the fd becomes readable.
   */
  readonly rxFd?: number;
}

/** Inline RX: frames read per poll at most, and the batch buffer (room for `budget` small frames or a few super-frames). */
const INLINE_MAX_BATCH = 64;
const INLINE_BUF_BYTES = 512 << 10;

export class TapPort implements FramePort {
  private readonly rx: FrameRing;
  private readonly tx: FrameRing;
  private readonly hdrLen: number;
  private readonly meta: FrameMeta = newFrameMeta();
  private readonly txFd: number;
  /** Direct TX: the vnet header of the frame being written (preallocated, reused). */
  private readonly staging: Uint8Array | null;
  /** Inline RX: the fd (-1: read the ring), the addon, a batch buffer and its [offset, length] pairs. */
  private rxFd: number;
  private readonly addon: TapAddon | null = null;
  private readonly rxBuf: Uint8Array | null = null;
  private readonly rxSpans = new Int32Array(2 * INLINE_MAX_BATCH);
  private watchHandle: TapWatchHandle | null = null;
  /** Ends a pending readable() (its one-shot watch) as not readable; close() calls it. */
  private endOneShot: (() => void) | null = null;

  private readonly name: string;

  constructor(shared: TapShared) {
    this.name = shared.name;
    this.rx = new FrameRing(shared.rx);
    this.tx = new FrameRing(shared.tx);
    this.hdrLen = shared.vnetHdrLen;
    this.txFd = shared.txFd ?? -1;
    this.staging = this.txFd >= 0 ? new Uint8Array(shared.vnetHdrLen) : null;
    this.rxFd = shared.rxFd ?? -1;
    if (this.rxFd >= 0 || this.txFd >= 0) {
      const a = tapAvailability();
      if (!a.ok) throw new ConfigError('UNSUPPORTED', a.reason);
      this.addon = a.addon;
    }
    if (this.rxFd >= 0) this.rxBuf = new Uint8Array(INLINE_BUF_BYTES);
  }

  /**
   * Inline RX: calls `onReadable` from this thread's event loop whenever the TAP has frames, so a
   * loop sleeping on its own doorbell can be rung awake (the kernel wakes this thread directly).
   * No-op for a ring-fed port. Stopped by close().
   */
  watch(onReadable: () => void): void {
    if (this.addon === null || this.rxFd < 0 || this.watchHandle !== null) return;
    this.watchHandle = this.addon.watch(this.rxFd, () => onReadable());
  }

  /** Stops the watch and inline reads (before the TAP's fd is closed). Idempotent. */
  close(): void {
    if (this.watchHandle !== null) this.addon!.unwatch(this.watchHandle);
    this.watchHandle = null;
    this.endOneShot?.(); // no watch of any kind outlives close(): the fd is closed next
    this.rxFd = -1;
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
    if (this.rxBuf !== null) return this.pollFd(this.rxBuf, handler, budget);
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
   * Inline RX: one batch of reads from the fd (until it is empty or the budget is reached), each
   * frame handed over in place in the batch buffer. A read error other than EAGAIN means the
   * interface is gone: counted once, and the port stops reading.
   */
  private pollFd(buf: Uint8Array, handler: FrameHandler, budget: number): number {
    if (this.rxFd < 0) return 0;
    const got = this.addon!.readFrames(this.rxFd, buf, this.rxSpans, Math.min(budget, INLINE_MAX_BATCH), MAX_TAP_READ_LEN);
    if (got < 0) {
      this.rx.count(RingStat.ProducerErrors);
      this.close();
      return 0;
    }
    const spans = this.rxSpans;
    let n = 0;
    for (let i = 0; i < got; i++) {
      const at = spans[2 * i]!;
      const len = spans[2 * i + 1]!;
      if (len < 0) {
        // All MAX_TAP_READ_LEN bytes taken: possibly truncated (the addon's readFrames), dropped.
        this.rx.count(RingStat.ConsumerErrors);
        continue;
      }
      this.rx.count(RingStat.Frames);
      this.rx.count(RingStat.Bytes, len);
      const frameLen = len - this.hdrLen;
      if (frameLen >= 0) readVnetHeader(buf, at, this.meta);
      if (frameLen >= 0 && vnetHeaderValid(this.meta, frameLen)) {
        handler(buf, at + this.hdrLen, frameLen, this.meta);
        n++;
      } else {
        this.rx.count(RingStat.ConsumerErrors);
      }
    }
    return n;
  }

  /**
   * One writev() straight to the TAP: the kernel takes the frame (or rejects it) before returning,
   * so there is never back-pressure to report. A rejected frame is counted and dropped, as the TX
   * worker does; a frame too large for a TAP at all is refused the same way.
   */
  private writeDirect(staging: Uint8Array, bytes: Uint8Array, off: number, len: number, meta: FrameMeta): boolean {
    const total = this.hdrLen + len;
    if (total > MAX_TAP_READ_LEN) {
      this.tx.count(RingStat.ConsumerErrors);
      return true;
    }
    writeVnetHeader(staging, 0, this.hdrLen, meta);
    // Header and frame in one writev() (the addon): the frame is never copied into a staging buffer.
    if (this.addon!.writeFrame(this.txFd, staging, this.hdrLen, bytes, off, len) < 0) {
      // EINVAL (bad vnet header) or EIO (interface down or gone): the kernel drops it, so do we.
      this.tx.count(RingStat.ConsumerErrors);
      return true;
    }
    this.tx.count(RingStat.Frames);
    this.tx.count(RingStat.Bytes, total);
    return true;
  }


  waitReadable(timeoutMs: number): boolean {
    if (this.rxBuf !== null) throw new ConfigError('UNSUPPORTED', `TAP ${this.name}: an inline-RX port cannot block; use readable() or watch()`);
    return this.rx.waitData(timeoutMs);
  }

  readable(timeoutMs: number): Promise<boolean> {
    if (this.rxBuf === null) return this.rx.waitDataAsync(timeoutMs);
    return this.fdReadable(timeoutMs);
  }

  /** Inline RX without a standing watch (tests, simple loops): a one-shot watch or the timeout. */
  private fdReadable(timeoutMs: number): Promise<boolean> {
    if (this.rxFd < 0) return Promise.resolve(false);
    if (this.watchHandle !== null) throw new ConfigError('BAD_CONFIG', `TAP ${this.name}: readable() while watch() is on; the watch already wakes the loop`);
    const addon = this.addon!;
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (readable: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        addon.unwatch(handle);
        if (this.endOneShot === end) this.endOneShot = null;
        resolve(readable);
      };
      const end = (): void => finish(false);
      const handle = addon.watch(this.rxFd, (status) => finish(status >= 0));
      const timer = setTimeout(end, timeoutMs);
      this.endOneShot = end;
    });
  }
}
