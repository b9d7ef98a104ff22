/**
 * The NIC-side end of a TAP interface: a FramePort over the two rings, usable in any thread that
 * received the TapShared (the VM worker, or the main thread in tests). Frames arrive with the
 * vnet header parsed into FrameMeta; frames leave with meta written as the vnet header.
 */
import { ConfigError, newFrameMeta, WireError, type FrameHandler, type FrameMeta, type FramePort } from '../../core/index.js';
import { copyBytes } from '../../packet/index.js';
import { ETH_P_8021Q } from '../../wire/index.js';
import { tapAvailability, type TapAddon, type TapWatchHandle } from './addon.js';
import { FrameRing, RingStat } from './frame-ring.js';
import { MAX_TAP_READ_LEN } from './tap-io-loops.js';
import { readVnetHeader, vnetHeaderValid, writeVnetHeader } from './vnet-header.js';

/** Largest frame (vnet header included) a TAP read may return: what a caller's read window must hold. */
export { MAX_TAP_READ_LEN };

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
/** An 802.1Q tag put back into a frame: the two MAC addresses go before it, the rest of the frame after. */
const MACS = 12;
const TAG = 4;

/**
 * Writes the vnet header of a frame at b[at] and, for a tagged frame (tci > 0), the frame's MAC
 * addresses from src[macAt] and the 802.1Q tag after it (hdrLen + 16 bytes in all); the header's
 * offsets then count the tag's 4 bytes. Returns the bytes written.
 */
function writeHeader(b: Uint8Array, at: number, hdrLen: number, meta: FrameMeta, tci: number, src: Uint8Array, macAt: number): number {
  writeVnetHeader(b, at, hdrLen, meta, tci > 0 ? TAG : 0);
  if (tci <= 0) return hdrLen;
  const m = at + hdrLen;
  for (let i = 0; i < MACS; i++) b[m + i] = src[macAt + i]!;
  b[m + 12] = ETH_P_8021Q >>> 8;
  b[m + 13] = ETH_P_8021Q & 0xff;
  b[m + 14] = (tci >>> 8) & 0xff;
  b[m + 15] = tci & 0xff;
  return hdrLen + MACS + TAG;
}

export class TapPort implements FramePort {
  private readonly rx: FrameRing;
  private readonly tx: FrameRing;
  private readonly hdrLen: number;
  /** Inline RX into a caller's arena (pollInto): where the last batch's reads ended (8-aligned). */
  readEnd = 0;
  private readonly meta: FrameMeta = newFrameMeta();
  private readonly txFd: number;
  /** Direct TX: the vnet header of the frame being written, and room for MACs + 802.1Q tag (preallocated, reused). */
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
    this.staging = this.txFd >= 0 ? new Uint8Array(shared.vnetHdrLen + MACS + TAG) : null;
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
    // The other order of readable()'s BUSY: a second watch of the fd would be libuv's second poll handle on it.
    if (this.endOneShot !== null) throw new ConfigError('BUSY', `TAP ${this.name}: watch() while a readable() still waits`);
    this.watchHandle = this.addon.watch(this.rxFd, () => onReadable());
  }

  /** Stops the watch and inline reads (before the TAP's fd is closed). Idempotent. */
  close(): void {
    if (this.watchHandle !== null) this.addon!.unwatch(this.watchHandle);
    this.watchHandle = null;
    this.endOneShot?.(); // no watch of any kind outlives close(): the fd is closed next
    this.rxFd = -1;
  }

  /**
   * One frame to the kernel with meta as its vnet header. `tci` > 0: the frame came with its
   * 802.1Q tag as metadata (an RNDIS PPI) and the kernel gets the tag back in the frame, after the
   * MAC addresses (the vnet header has no VLAN field); the header's offsets then count the tag.
   */
  tryWrite(bytes: Uint8Array, off: number, len: number, meta: FrameMeta, tci = 0): boolean {
    if (!vnetHeaderValid(meta, len)) throw new WireError('MALFORMED', `offload metadata does not fit a ${len}-byte frame`);
    if (len < MACS) tci = 0;
    if (this.staging !== null) return this.writeDirect(this.staging, bytes, off, len, meta, tci);
    const tag = tci > 0 ? TAG : 0;
    const at = this.tx.reserve(this.hdrLen + tag + len);
    if (at < 0) return false;
    const ring = this.tx.bytes;
    const h = writeHeader(ring, at, this.hdrLen, meta, tci, bytes, off);
    const skip = tag === 0 ? 0 : MACS;
    copyBytes(bytes, off + skip, ring, at + h, len - skip);
    this.tx.commit(this.hdrLen + tag + len);
    return true;
  }

  /** Bytes of virtio-net header before each frame read (10 or 12). */
  get vnetHdrLen(): number {
    return this.hdrLen;
  }

  /** Whether frames are read from the fd by this thread (pollInto works), not taken from a ring. */
  get readsInline(): boolean {
    return this.rxBuf !== null;
  }

  /** Whether frames are written to the fd by this thread (tryWriteFrags takes a fragment list as it lies). */
  get writesDirect(): boolean {
    return this.staging !== null;
  }

  /**
   * One frame given as ranges of `bytes` (offs[i], lens[i]; i < n; `total` bytes in all), e.g. a
   * received RSC packet's fragment list: written to the fd with its vnet header in one writev()
   * when this thread writes the TAP, else gathered into the TX ring. Same result as tryWrite().
   */
  tryWriteFrags(bytes: Uint8Array, offs: Int32Array, lens: Int32Array, n: number, total: number, meta: FrameMeta, tci = 0): boolean {
    if (!vnetHeaderValid(meta, total)) throw new WireError('MALFORMED', `offload metadata does not fit a ${total}-byte frame`);
    if (n < 1 || lens[0]! < MACS) tci = 0;
    const tag = tci > 0 ? TAG : 0;
    // A tag goes after the MAC addresses: those come from the first fragment into the header, the rest of it follows.
    const skip = tag === 0 ? 0 : MACS;
    const wire = this.hdrLen + tag + total;
    if (this.staging !== null) {
      if (wire > MAX_TAP_READ_LEN) {
        this.tx.count(RingStat.ConsumerErrors);
        return true;
      }
      const h = writeHeader(this.staging, 0, this.hdrLen, meta, tci, bytes, offs[0]!);
      // The caller's list, its first range shortened by the MACs while the write runs (no copy of the list).
      offs[0] = offs[0]! + skip;
      lens[0] = lens[0]! - skip;
      let r: number;
      try {
        r = this.addon!.writeFrags(this.txFd, this.staging, h, bytes, offs, lens, n);
      } finally {
        offs[0] = offs[0]! - skip; // also when the addon throws: the caller's list is the caller's
        lens[0] = lens[0]! + skip;
      }
      // A result short of the whole frame cannot happen on a TAP (one write is one frame); any error is a drop.
      if (r !== wire) {
        this.tx.count(RingStat.ConsumerErrors);
        return true;
      }
      this.tx.count(RingStat.Frames);
      this.tx.count(RingStat.Bytes, wire);
      return true;
    }
    const at = this.tx.reserve(wire);
    if (at < 0) return false;
    const ring = this.tx.bytes;
    let to = at + writeHeader(ring, at, this.hdrLen, meta, tci, bytes, offs[0]!);
    for (let i = 0; i < n; i++) {
      const s = i === 0 ? skip : 0;
      copyBytes(bytes, offs[i]! + s, ring, to, lens[i]! - s);
      to += lens[i]! - s;
    }
    this.tx.commit(wire);
    return true;
  }

  /**
   * Inline RX into the caller's buffer: one batch of reads into buf[start, end) (each frame's vnet
   * header first, 8-aligned, as poll() does in its own buffer), each frame handed over in place.
   * `readEnd` is then where the reads stopped, dropped frames included, so the caller knows what
   * the batch used. 0 frames (and readEnd = start) on a ring-fed or closed port.
   */
  pollInto(buf: Uint8Array, start: number, end: number, handler: FrameHandler, budget: number): number {
    this.readEnd = start;
    if (this.rxBuf === null) return 0;
    return this.pollFd(buf, start, end, handler, budget);
  }

  poll(handler: FrameHandler, budget: number): number {
    if (this.rxBuf !== null) return this.pollFd(this.rxBuf, 0, this.rxBuf.length, handler, budget);
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
  private pollFd(buf: Uint8Array, start: number, end: number, handler: FrameHandler, budget: number): number {
    this.readEnd = start;
    if (this.rxFd < 0) return 0;
    const got = this.addon!.readFrames(this.rxFd, buf, this.rxSpans, Math.min(budget, INLINE_MAX_BATCH), MAX_TAP_READ_LEN, start, end);
    if (got < 0) {
      this.rx.count(RingStat.ProducerErrors);
      this.close();
      return 0;
    }
    const spans = this.rxSpans;
    if (got > 0) {
      const last = spans[2 * got - 1]!;
      this.readEnd = spans[2 * got - 2]! + (((last < 0 ? MAX_TAP_READ_LEN : last) + 7) & ~7); // the addon's 8-byte rounding
    }
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
  private writeDirect(staging: Uint8Array, bytes: Uint8Array, off: number, len: number, meta: FrameMeta, tci: number): boolean {
    const skip = tci > 0 ? MACS : 0;
    const total = this.hdrLen + len + (tci > 0 ? TAG : 0);
    if (total > MAX_TAP_READ_LEN) {
      this.tx.count(RingStat.ConsumerErrors);
      return true;
    }
    const h = writeHeader(staging, 0, this.hdrLen, meta, tci, bytes, off);
    // Header (+ MACs and tag) and frame in one writev() (the addon): the frame is never copied into a staging buffer.
    if (this.addon!.writeFrame(this.txFd, staging, h, bytes, off + skip, len - skip) < 0) {
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
    // One waiter at a time: a second one-shot watch on the fd would replace the first's end (close()
    // could not end it) and two watches of one fd on one loop are not allowed by libuv.
    if (this.endOneShot !== null) throw new ConfigError('BUSY', `TAP ${this.name}: readable() while an earlier readable() still waits`);
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
