import { isNetvscError, ResourceError, type NetvscError } from '../core/index.js';
import { VM_PKT_COMP, VM_PKT_DATA_INBAND, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED } from '../wire/constants.js';
import { newVmbusCounters, type VmbusCounters } from './counters.js';
import type { Pollable } from './event-loop.js';
import { RingReader } from './ring-reader.js';
import type { RingMemory } from './ring-memory.js';
import { RingWriter } from './ring-writer.js';
import { Requestor } from './requestor.js';
import { CHANNEL_STATE_CLOSED, CHANNEL_STATE_FAILED, CHANNEL_STATE_OPEN, type ChannelSignal } from './signal.js';
import type { VmbusPacket } from './vmbus-packet.js';

/** Called for every packet read; `pkt` is valid only during the call (it is the private copy). */
export type PacketHandler = (pkt: VmbusPacket, ch: Channel) => void;

export type ChannelState = 'open' | 'closed' | 'failed';

export interface ChannelOptions {
  readonly relid: number;
  readonly subChannelIndex: number;
  /** The ring this side writes. */
  readonly sendRing: RingMemory;
  /** The ring this side reads. */
  readonly recvRing: RingMemory;
  readonly signal: ChannelSignal;
  /** Private copy size (§2.4): 4624 for netvsc (NETVSC_MAX_PKT_SIZE), 4096 by default. */
  readonly maxPktSize?: number;
  /** Packets read per poll() before the read index is published. */
  readonly batch?: number;
  /** Requestor slots (guest side); 0 for none. */
  readonly requestorSize?: number;
  readonly counters?: VmbusCounters;
}

const DEFAULTS = { maxPktSize: 4096, batch: 64 } as const;

/**
 * One open VMBus channel seen from one end: a ring to write, a ring to read, the signals between
 * them and, on the guest, the requestor. It is a Pollable, so an EventLoop drives it: each poll
 * reads a batch into onPacket, publishes the read index once, flushes what the handler wrote and
 * signals the peer only where §2.3/§2.4 say so.
 */
export class Channel implements Pollable {
  readonly relid: number;
  readonly subChannelIndex: number;
  readonly tx: RingWriter;
  readonly rx: RingReader;
  readonly counters: VmbusCounters;
  readonly requestor: Requestor | null;
  onPacket: PacketHandler = () => {};
  /** Called once when the channel stops: closed here, closed/rescinded by the peer, or failed. */
  onStop: (reason: NetvscError) => void = () => {};
  /** Close/rescind hands every outstanding request's cookie here; its id becomes stale. */
  onReclaim: (cookie: number) => void = () => {};
  private state_: ChannelState = 'open';
  private masked = false;
  private readonly batch: number;
  private readonly signal: ChannelSignal;
  private readonly sSigSent: number;
  private readonly sSigRecv: number;

  constructor(o: ChannelOptions) {
    this.relid = o.relid;
    this.subChannelIndex = o.subChannelIndex;
    this.counters = o.counters ?? newVmbusCounters();
    this.signal = o.signal;
    this.batch = o.batch ?? DEFAULTS.batch;
    this.tx = new RingWriter(o.sendRing, this.counters);
    this.rx = new RingReader(o.recvRing, o.maxPktSize ?? DEFAULTS.maxPktSize, this.counters);
    this.sSigSent = this.counters.slot('signals_sent');
    this.sSigRecv = this.counters.slot('signals_received');
    this.requestor = o.requestorSize ? new Requestor(o.requestorSize, this.counters) : null;
  }

  get state(): ChannelState {
    return this.state_;
  }

  /** An in-band packet (§2.8), fire-and-forget: trans_id is the caller's (e.g. VMBUS_RQST_ID_NO_RESPONSE). */
  sendInband(transIdLo: number, transIdHi: number, src: Uint8Array, off: number, len: number): boolean {
    return this.tx.tryWritePacket(VM_PKT_DATA_INBAND, 0, transIdLo, transIdHi, src, off, len);
  }

  /**
   * An in-band packet with COMPLETION_REQUESTED and a requestor id for `cookie` (§2.11). Returns the
   * id, or 0 when the ring or the requestor is full (nothing was sent).
   */
  sendRequest(cookie: number, src: Uint8Array, off: number, len: number): number {
    const req = this.requireRequestor();
    const id = req.alloc(cookie);
    if (id === 0) return 0;
    if (this.tx.tryWritePacket(VM_PKT_DATA_INBAND, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, id, 0, src, off, len)) return id;
    req.release(id);
    return 0;
  }

  /** A completion (type 11) echoing trans_id, with a payload or none (len 0, §2.8). */
  sendCompletion(transIdLo: number, transIdHi: number, src: Uint8Array | null, off: number, len: number): boolean {
    return this.tx.tryWritePacket(VM_PKT_COMP, 0, transIdLo, transIdHi, src ?? EMPTY, off, len);
  }

  /** Looks up a completion's trans_id; returns the cookie or throws BAD_TRANSACTION (counted). */
  completeRequest(pkt: VmbusPacket): number {
    return this.requireRequestor().complete(pkt.transIdLo, pkt.transIdHi);
  }

  /** Publishes what was written and signals the peer if it needs it. */
  flush(): void {
    if (this.tx.flush()) this.signalPeer();
  }

  /** Asks the reader of our send ring to signal when `bytes` are free; false = wait for the signal. */
  waitForSpace(bytes: number): boolean {
    return this.tx.requestSpace(bytes);
  }

  poll(): number {
    if (this.state_ !== 'open') return 0;
    if (this.signal.take()) this.counters.add(this.sSigRecv);
    if (this.signal.state !== CHANNEL_STATE_OPEN) {
      this.stop(this.signal.state === CHANNEL_STATE_FAILED ? 'RING_CORRUPT' : 'CHANNEL_CLOSED', 'peer stopped the channel', false);
      return 1;
    }
    if (!this.masked) {
      this.rx.beginRead();
      this.masked = true;
    }
    let n = 0;
    try {
      const rx = this.rx;
      while (n < this.batch && rx.next()) {
        this.deliver(rx.packet);
        n++;
      }
      if (rx.commitRead()) this.signalPeer();
      this.flush();
    } catch (e) {
      this.fail(e);
      return n + 1;
    }
    return n;
  }

  idle(): number {
    if (this.state_ !== 'open') return 0;
    try {
      this.flush();
      this.masked = false;
      return this.rx.endRead();
    } catch (e) {
      this.fail(e);
      return 1;
    }
  }

  /**
   * Marks the channel failed for both ends after bad input (a typed error was already counted):
   * the shared state word tells the peer, whose loop is woken, so it never stays blocked.
   */
  fail(e: unknown): void {
    if (!isNetvscError(e)) throw e;
    this.stop(e.code === 'CHANNEL_CLOSED' ? 'CHANNEL_CLOSED' : 'RING_CORRUPT', e.message, true);
  }

  /** Local close (guest CLOSECHANNEL, host rescind): writes throw CHANNEL_CLOSED from now on. */
  close(): void {
    this.stop('CHANNEL_CLOSED', 'channel closed', true);
  }

  private stop(code: 'CHANNEL_CLOSED' | 'RING_CORRUPT', why: string, tellPeer: boolean): void {
    if (this.state_ !== 'open') return;
    this.state_ = code === 'CHANNEL_CLOSED' ? 'closed' : 'failed';
    this.tx.close(code);
    this.rx.close(code);
    this.requestor?.reclaimAll(this.onReclaim);
    if (tellPeer) this.signal.setState(code === 'CHANNEL_CLOSED' ? CHANNEL_STATE_CLOSED : CHANNEL_STATE_FAILED);
    this.onStop(new ResourceError(code, `channel ${this.relid}: ${why}`));
  }

  /**
   * A handler error about one packet's content (bad id, bad range, bytes that do not decode) drops
   * that packet, counted; the ring is sound so the channel goes on. Anything else fails the channel.
   */
  private deliver(pkt: VmbusPacket): void {
    try {
      this.onPacket(pkt, this);
    } catch (e) {
      if (isNetvscError(e) && PACKET_ERRORS.has(e.code)) {
        // The requestor counts bad ids itself; a range outside a GPADL has its own counter.
        if (e.code === 'BAD_GPADL') this.counters.inc('bad_gpadl');
        else if (e.code !== 'BAD_TRANSACTION') this.counters.inc('bad_message');
        return;
      }
      throw e;
    }
  }

  private signalPeer(): void {
    this.signal.signalPeer();
    this.counters.add(this.sSigSent);
  }

  private requireRequestor(): Requestor {
    if (!this.requestor) throw new ResourceError('LIMIT', `channel ${this.relid} has no requestor`);
    return this.requestor;
  }
}

const EMPTY = new Uint8Array(0);
const PACKET_ERRORS: ReadonlySet<string> = new Set(['BAD_TRANSACTION', 'BAD_GPADL', 'MALFORMED', 'TRUNCATED', 'UNEXPECTED_MESSAGE', 'UNSUPPORTED']);
