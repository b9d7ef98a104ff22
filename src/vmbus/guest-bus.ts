import { isNetvscError, ProtocolError, ResourceError, systemClock, type Clock } from '../core/index.js';
import {
  CHANNELMSG_ALLOFFERS_DELIVERED,
  CHANNELMSG_CLOSECHANNEL,
  CHANNELMSG_GPADL_CREATED,
  CHANNELMSG_GPADL_TEARDOWN,
  CHANNELMSG_GPADL_TORNDOWN,
  CHANNELMSG_OFFERCHANNEL,
  CHANNELMSG_OPENCHANNEL,
  CHANNELMSG_OPENCHANNEL_RESULT,
  CHANNELMSG_RELID_RELEASED,
  CHANNELMSG_REQUESTOFFERS,
  CHANNELMSG_RESCIND_CHANNELOFFER,
  emitChannelMessage,
  gpadlMessages,
  parseChannelMessage,
  type ChannelMessage,
  type OfferChannel,
} from '../wire/index.js';
import { Channel } from './channel.js';
import { newVmbusCounters, type VmbusCounters } from './counters.js';
import type { EventLoop } from './event-loop.js';
import { PAGE_SIZE, type GuestMemory, type PageAllocator } from './guest-memory.js';
import type { MessageLink } from './link.js';
import { PendingReplies } from './pending-replies.js';
import { RingMemory } from './ring-memory.js';
import { CHANNEL_STATE_OPEN, ChannelSignal, MAX_CHILD_RELID, type Doorbell } from './signal.js';

/** Linux's first GPADL handle (`next_gpadl_handle`); handles count up from here (§2.12). */
export const FIRST_GPADL_HANDLE = 0xe1e10;

export interface VmbusGuestOptions {
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  /** The VM's signal page (SIGNAL_SAB_BYTES). */
  readonly signals: SharedArrayBuffer;
  /** The host worker's doorbell, rung by vmbus_setevent (§2.5). */
  readonly hostDoorbell: Doorbell;
  readonly link: MessageLink;
  /** Runs the guest ends of open channels. */
  readonly loop: EventLoop;
  readonly counters?: VmbusCounters;
  /** How long the guest waits for each reply from the host before failing with TIMEOUT. */
  readonly replyTimeoutMs?: number;
  readonly clock?: Clock;
}

const GUEST_DEFAULTS = { replyTimeoutMs: 5_000 } as const;

export interface OpenOptions {
  /** Pages per ring, header page included (§2.1: netvsc's default is 128, 512 KiB). */
  readonly ringPages?: number;
  /** Private copy size (§2.4): NETVSC_MAX_PKT_SIZE = 4624 for netvsc. */
  readonly maxPktSize?: number;
  /** Requestor slots (§2.11); netvsc sizes it from the ring. */
  readonly requestorSize?: number;
  /** Packets read per poll. */
  readonly batch?: number;
}

const OPEN_DEFAULTS = { ringPages: 128, maxPktSize: 4096, requestorSize: 1024 } as const;

interface GuestChannelRecord {
  readonly channel: Channel;
  readonly ringGpadl: number;
  readonly firstPfn: number;
  readonly pages: number;
}

/**
 * The guest end of the VMBus: receives offers, allocates ring pages and opens channels with one
 * ring GPADL split at downstream_ringbuffer_pageoffset (send ring first, like Linux, §2.1),
 * establishes and tears down GPADLs, closes channels and handles rescinds.
 */
export class VmbusGuest {
  readonly counters: VmbusCounters;
  /** Current offers by child_relid. */
  readonly offers = new Map<number, OfferChannel>();
  /** A new offer arrived (at boot, or a sub-channel, or a re-offer after rescind). */
  onOffer: (offer: OfferChannel) => void = () => {};
  /** The host rescinded a channel; its Channel (if open) has already stopped. */
  onRescind: (relid: number) => void = () => {};
  private nextGpadl = FIRST_GPADL_HANDLE;
  private readonly open_ = new Map<number, GuestChannelRecord>();
  private readonly gpadlReplies: PendingReplies<number>;
  private readonly teardownReplies: PendingReplies<void>;
  private readonly openReplies: PendingReplies<number>;
  private readonly offerReplies: PendingReplies<void>;
  private readonly ringGpadls = new Set<number>();

  constructor(private readonly o: VmbusGuestOptions) {
    this.counters = o.counters ?? newVmbusCounters();
    const clock = o.clock ?? systemClock;
    const ms = o.replyTimeoutMs ?? GUEST_DEFAULTS.replyTimeoutMs;
    this.gpadlReplies = new PendingReplies(clock, ms, 'GPADL_CREATED');
    this.teardownReplies = new PendingReplies(clock, ms, 'GPADL_TORNDOWN');
    this.openReplies = new PendingReplies(clock, ms, 'OPENCHANNEL_RESULT');
    this.offerReplies = new PendingReplies(clock, ms, 'ALLOFFERS_DELIVERED');
    o.link.onMessage = (m) => this.receive(m);
  }

  /** REQUESTOFFERS; resolves with every offer once ALLOFFERS_DELIVERED arrives. */
  async requestOffers(): Promise<OfferChannel[]> {
    const delivered = this.offerReplies.wait(0);
    this.send({ msgtype: CHANNELMSG_REQUESTOFFERS });
    await delivered;
    return [...this.offers.values()];
  }

  /** Describes guest pages to the host; resolves with the handle once GPADL_CREATED says success. */
  async establishGpadl(pfns: readonly number[], byteCount = pfns.length * PAGE_SIZE, childRelid = 0): Promise<number> {
    const handle = this.nextGpadl++;
    const created = this.gpadlReplies.wait(handle);
    for (const m of gpadlMessages(childRelid, handle, pfns, byteCount)) this.send(m);
    const status = await created;
    if (status !== 0) throw new ResourceError('BAD_GPADL', `host refused GPADL ${handle}: status ${status.toString(16)}`);
    return handle;
  }

  /** GPADL_TEARDOWN; resolves on GPADL_TORNDOWN (which the host defers while the GPADL is mapped). */
  teardownGpadl(handle: number, childRelid = 0): Promise<void> {
    if (this.ringGpadls.has(handle)) {
      return Promise.reject(new ResourceError('BUSY', `GPADL ${handle} holds the rings of an open channel`));
    }
    const torndown = this.teardownReplies.wait(handle);
    this.send({ msgtype: CHANNELMSG_GPADL_TEARDOWN, childRelid, gpadl: handle });
    return torndown;
  }

  /** Allocates and initialises both rings, establishes their GPADL, opens the channel and starts polling it. */
  async open(offer: OfferChannel, options: OpenOptions = {}): Promise<Channel> {
    const relid = offer.childRelid;
    if (this.open_.has(relid)) throw new ProtocolError('UNEXPECTED_MESSAGE', `channel ${relid} is already open`);
    const ringPages = options.ringPages ?? OPEN_DEFAULTS.ringPages;
    const first = this.o.allocator.allocContiguous(2 * ringPages);
    const pfns = Array.from({ length: 2 * ringPages }, (_, i) => first + i);
    const base = this.o.memory.gpa(first);
    const send = new RingMemory(this.o.memory.u8, base, ringPages * PAGE_SIZE);
    const recv = new RingMemory(this.o.memory.u8, base + ringPages * PAGE_SIZE, ringPages * PAGE_SIZE);
    send.initialize();
    recv.initialize();
    let gpadl = -1;
    try {
      gpadl = await this.establishGpadl(pfns, pfns.length * PAGE_SIZE, relid);
      const signal = new ChannelSignal(this.o.signals, relid, 'guest', this.o.hostDoorbell);
      signal.setState(CHANNEL_STATE_OPEN);
      const opened = this.openReplies.wait(relid);
      this.send({
        msgtype: CHANNELMSG_OPENCHANNEL,
        childRelid: relid,
        openId: relid,
        ringBufferGpadlHandle: gpadl,
        targetVp: 0,
        downstreamRingBufferPageOffset: ringPages,
        userData: new Uint8Array(120),
      });
      const status = await opened;
      if (status !== 0) throw new ProtocolError('UNEXPECTED_MESSAGE', `host refused to open channel ${relid}: status ${status.toString(16)}`);
      const channel = new Channel({
        relid,
        subChannelIndex: offer.subChannelIndex,
        sendRing: send,
        recvRing: recv,
        signal,
        maxPktSize: options.maxPktSize ?? OPEN_DEFAULTS.maxPktSize,
        requestorSize: options.requestorSize ?? OPEN_DEFAULTS.requestorSize,
        ...(options.batch !== undefined ? { batch: options.batch } : {}),
        counters: this.counters,
      });
      this.open_.set(relid, { channel, ringGpadl: gpadl, firstPfn: first, pages: 2 * ringPages });
      this.ringGpadls.add(gpadl);
      this.o.loop.add(channel);
      return channel;
    } catch (e) {
      if (gpadl >= 0) await this.teardownGpadl(gpadl, relid).catch(() => {});
      this.o.allocator.freeRun(first, 2 * ringPages);
      throw e;
    }
  }

  /**
   * CLOSECHANNEL, then GPADL teardown of the rings and their pages freed (the VMBus ≥ 4.0 order,
   * §2.12). Outstanding requests are reclaimed through channel.onReclaim.
   */
  async close(channel: Channel): Promise<void> {
    const rec = this.open_.get(channel.relid);
    if (!rec || rec.channel !== channel) return;
    const wasOpen = channel.state === 'open';
    this.stopLocal(rec);
    if (wasOpen) this.send({ msgtype: CHANNELMSG_CLOSECHANNEL, childRelid: channel.relid });
    await this.releaseRings(rec);
  }

  private stopLocal(rec: GuestChannelRecord): void {
    this.open_.delete(rec.channel.relid);
    rec.channel.close();
    this.o.loop.remove(rec.channel);
  }

  private async releaseRings(rec: GuestChannelRecord): Promise<void> {
    this.ringGpadls.delete(rec.ringGpadl);
    await this.teardownGpadl(rec.ringGpadl, rec.channel.relid);
    this.o.allocator.freeRun(rec.firstPfn, rec.pages);
  }

  private receive(bytes: Uint8Array): void {
    let m: ChannelMessage;
    try {
      m = parseChannelMessage(bytes);
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('bad_message');
      return;
    }
    switch (m.msgtype) {
      case CHANNELMSG_OFFERCHANNEL:
        // A relid with no bit in the interrupt page could never be signalled (Linux: MAX_CHANNEL_RELIDS).
        if (!(m.childRelid > 0 && m.childRelid <= MAX_CHILD_RELID)) {
          this.counters.inc('bad_message');
          return;
        }
        this.offers.set(m.childRelid, m);
        this.onOffer(m);
        return;
      case CHANNELMSG_ALLOFFERS_DELIVERED:
        return this.expected(this.offerReplies.resolve(0, undefined));
      case CHANNELMSG_GPADL_CREATED:
        return this.expected(this.gpadlReplies.resolve(m.gpadl, m.creationStatus));
      case CHANNELMSG_GPADL_TORNDOWN:
        return this.expected(this.teardownReplies.resolve(m.gpadl, undefined));
      case CHANNELMSG_OPENCHANNEL_RESULT:
        return this.expected(this.openReplies.resolve(m.childRelid, m.status));
      case CHANNELMSG_RESCIND_CHANNELOFFER:
        return this.rescind(m.childRelid);
      default:
        this.counters.inc('bad_message');
    }
  }

  /** The host took the channel away: stop it (writes fail CHANNEL_CLOSED), free rings, release the relid. */
  private rescind(relid: number): void {
    this.offers.delete(relid);
    this.openReplies.reject(relid, new ResourceError('CHANNEL_CLOSED', `channel ${relid} rescinded while opening`));
    const rec = this.open_.get(relid);
    const release = (): void => this.send({ msgtype: CHANNELMSG_RELID_RELEASED, childRelid: relid });
    this.onRescind(relid);
    if (!rec) return release();
    this.stopLocal(rec);
    this.releaseRings(rec).then(release, (e: unknown) => {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('bad_gpadl');
    });
  }

  /** A reply nobody asked for is counted and dropped. */
  private expected(wasAwaited: boolean): void {
    if (!wasAwaited) this.counters.inc('bad_message');
  }

  private send(m: ChannelMessage): void {
    this.o.link.send(emitChannelMessage(m));
  }
}
