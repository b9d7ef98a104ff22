import { isNetvscError, ResourceError } from '../core/index.js';
import {
  CHANNELMSG_ALLOFFERS_DELIVERED,
  CHANNELMSG_CLOSECHANNEL,
  CHANNELMSG_GPADL_BODY,
  CHANNELMSG_GPADL_CREATED,
  CHANNELMSG_GPADL_HEADER,
  CHANNELMSG_GPADL_TEARDOWN,
  CHANNELMSG_GPADL_TORNDOWN,
  CHANNELMSG_OFFERCHANNEL,
  CHANNELMSG_OPENCHANNEL,
  CHANNELMSG_OPENCHANNEL_RESULT,
  CHANNELMSG_RELID_RELEASED,
  CHANNELMSG_REQUESTOFFERS,
  CHANNELMSG_RESCIND_CHANNELOFFER,
  emitChannelMessage,
  HV_NIC_GUID,
  parseChannelMessage,
  type ChannelMessage,
  type GpadlHeader,
  type OfferChannel,
  type OpenChannel,
} from '../wire/index.js';
import { Channel } from './channel.js';
import { newVmbusCounters, type VmbusCounters } from './counters.js';
import type { EventLoop } from './event-loop.js';
import { GpadlTable, newContiguousRun, type GpadlMapping } from './gpadl.js';
import { PAGE_SIZE } from './guest-memory.js';
import type { MessageLink } from './link.js';
import { RingMemory } from './ring-memory.js';
import { ChannelSignal, Doorbell, MAX_CHILD_RELID } from './signal.js';

/** GPADLs a guest may have half-described (header sent, bodies owed) at once; each holds ≤ 8191 PFNs. */
export const MAX_PENDING_GPADLS = 64;

/** NTSTATUS STATUS_UNSUCCESSFUL: the non-zero status of a refused open or GPADL. */
export const VMBUS_STATUS_UNSUCCESSFUL = 0xc0000001;

export interface VmbusHostOptions {
  /** The VM's guest memory; the host only ever wraps it in a GpadlTable. */
  readonly memory: SharedArrayBuffer;
  /** The VM's signal page (SIGNAL_SAB_BYTES). */
  readonly signals: SharedArrayBuffer;
  readonly link: MessageLink;
  /** Runs the host ends of open channels. */
  readonly loop: EventLoop;
  readonly counters?: VmbusCounters;
}

export interface HostDeviceOptions {
  readonly instanceGuid: string;
  /** Device class; the synthetic NIC by default. */
  readonly ifType?: string;
  /** Sub-channels the device may offer later (0 = primary only). */
  readonly maxSubChannels?: number;
  /** Private copy size for packets the host reads (§2.4). */
  readonly maxPktSize?: number;
  /** The guest opened a channel of this device (sub_channel_index 0 = primary). Set ch.onPacket here. */
  readonly onOpen: (ch: Channel) => void;
  /** The channel stopped: guest close, rescind, or failure. */
  readonly onClose?: (ch: Channel) => void;
}

interface HostOffer {
  readonly device: HostDevice;
  readonly offer: OfferChannel;
  channel: Channel | null;
  mapping: GpadlMapping | null;
}

/** One offered device: its primary channel offer and the sub-channel offers made on request. */
export class HostDevice {
  readonly relids: number[] = [];
  rescinded = false;

  constructor(
    private readonly bus: VmbusHost,
    readonly options: HostDeviceOptions,
  ) {}

  /** Open channels of this device by sub_channel_index. */
  get channels(): Channel[] {
    return this.bus.channelsOf(this);
  }

  /** Offers `count` more sub-channels (indexes continue from the last); returns their relids. */
  offerSubChannels(count: number): number[] {
    const have = this.relids.length - 1;
    const max = this.options.maxSubChannels ?? 0;
    if (this.rescinded || have + count > max) throw new ResourceError('LIMIT', `${have}+${count} sub-channels, at most ${max}`);
    const out: number[] = [];
    for (let i = 1; i <= count; i++) out.push(this.bus.offerChannel(this, have + i));
    return out;
  }

  /** Rescinds every channel of the device: writes fail CHANNEL_CLOSED at once, the guest is told. */
  rescind(): void {
    if (this.rescinded) return;
    this.rescinded = true;
    for (const relid of [...this.relids].reverse()) this.bus.rescindChannel(relid);
  }
}

/**
 * The host end of one VM's VMBus: offers devices, answers the guest's channel messages, builds
 * GPADLs (the only way the host reaches guest memory) and runs opened channels on its EventLoop.
 * A host worker serving several VMs makes one VmbusHost per VM, all on one loop and doorbell.
 */
export class VmbusHost {
  readonly gpadls: GpadlTable;
  readonly counters: VmbusCounters;
  private readonly offers = new Map<number, HostOffer>();
  private readonly pendingGpadls = new Map<number, { header: GpadlHeader; pfns: number[]; total: number }>();
  private nextRelid = 1;
  private offersRequested = false;
  private readonly guestDoorbell: Doorbell;

  constructor(private readonly o: VmbusHostOptions) {
    this.gpadls = new GpadlTable(o.memory);
    this.counters = o.counters ?? newVmbusCounters();
    this.guestDoorbell = Doorbell.guest(o.signals);
    o.link.onMessage = (m) => this.receive(m);
  }

  /** Offers a device; the guest sees it at once if it already asked for offers. */
  offerDevice(options: HostDeviceOptions): HostDevice {
    const dev = new HostDevice(this, options);
    this.offerChannel(dev, 0);
    return dev;
  }

  /** Maps a GPADL of this VM (receive/send buffers): the NetVSP host's door to guest memory. */
  mapGpadl(handle: number): GpadlMapping {
    return this.gpadls.map(handle);
  }

  /** @internal */
  channelsOf(dev: HostDevice): Channel[] {
    const out: Channel[] = [];
    for (const relid of dev.relids) {
      const ch = this.offers.get(relid)?.channel;
      if (ch) out.push(ch);
    }
    return out;
  }

  /** @internal */
  offerChannel(dev: HostDevice, subChannelIndex: number): number {
    const relid = this.nextRelid++;
    if (relid > MAX_CHILD_RELID) throw new ResourceError('LIMIT', 'out of child_relids');
    const offer: OfferChannel = {
      msgtype: CHANNELMSG_OFFERCHANNEL,
      ifType: dev.options.ifType ?? HV_NIC_GUID,
      ifInstance: dev.options.instanceGuid,
      chnFlags: 0,
      mmioMegabytes: 0,
      userDefined: new Uint8Array(120),
      subChannelIndex,
      childRelid: relid,
      monitorId: relid & 0x7f,
      monitorAllocated: false,
      isDedicatedInterrupt: false,
      connectionId: relid,
    };
    this.offers.set(relid, { device: dev, offer, channel: null, mapping: null });
    dev.relids.push(relid);
    if (this.offersRequested) this.send(offer);
    return relid;
  }

  /** @internal */
  rescindChannel(relid: number): void {
    const h = this.offers.get(relid);
    if (!h) return;
    this.stopChannel(h);
    this.send({ msgtype: CHANNELMSG_RESCIND_CHANNELOFFER, childRelid: relid });
  }

  private receive(bytes: Uint8Array): void {
    let m: ChannelMessage;
    try {
      m = parseChannelMessage(bytes);
    } catch (e) {
      this.bad(e);
      return;
    }
    switch (m.msgtype) {
      case CHANNELMSG_REQUESTOFFERS:
        this.offersRequested = true;
        for (const h of this.offers.values()) if (!h.device.rescinded) this.send(h.offer);
        this.send({ msgtype: CHANNELMSG_ALLOFFERS_DELIVERED });
        return;
      case CHANNELMSG_GPADL_HEADER:
        return this.gpadlHeader(m);
      case CHANNELMSG_GPADL_BODY: {
        const p = this.pendingGpadls.get(m.gpadl);
        if (!p) return this.bad(new ResourceError('BAD_GPADL', `GPADL_BODY for unknown GPADL ${m.gpadl}`));
        p.pfns.push(...m.pfns);
        return this.gpadlMaybeDone(m.gpadl);
      }
      case CHANNELMSG_GPADL_TEARDOWN: {
        const handle = m.gpadl;
        const done = (): void => this.send({ msgtype: CHANNELMSG_GPADL_TORNDOWN, gpadl: handle });
        if (this.pendingGpadls.delete(handle)) {
          this.counters.inc('bad_gpadl'); // torn down before its last GPADL_BODY: drop the partial PFN list
          return done();
        }
        if (!this.gpadls.has(handle)) {
          this.counters.inc('bad_gpadl');
          return done(); // answer anyway so the guest never waits on a handle we never had
        }
        this.gpadls.requestTeardown(handle, done);
        return;
      }
      case CHANNELMSG_OPENCHANNEL:
        return this.open(m);
      case CHANNELMSG_CLOSECHANNEL: {
        const h = this.offers.get(m.childRelid);
        if (!h) return this.bad(new ResourceError('CHANNEL_CLOSED', `CLOSECHANNEL for unknown relid ${m.childRelid}`));
        this.stopChannel(h);
        return;
      }
      case CHANNELMSG_RELID_RELEASED: {
        const h = this.offers.get(m.childRelid);
        if (h?.device.rescinded) this.offers.delete(m.childRelid);
        return;
      }
      default:
        this.counters.inc('bad_message');
    }
  }

  private gpadlHeader(m: GpadlHeader): void {
    const full = this.gpadls.full;
    if (full || this.pendingGpadls.has(m.gpadl) || this.gpadls.has(m.gpadl) || this.pendingGpadls.size >= MAX_PENDING_GPADLS) {
      this.counters.inc(full ? 'gpadl_limit' : 'bad_gpadl');
      this.send({ msgtype: CHANNELMSG_GPADL_CREATED, childRelid: m.childRelid, gpadl: m.gpadl, creationStatus: VMBUS_STATUS_UNSUCCESSFUL });
      return;
    }
    this.pendingGpadls.set(m.gpadl, { header: m, pfns: [...m.pfns], total: (m.rangeBufLen - 8) / 8 });
    this.gpadlMaybeDone(m.gpadl);
  }

  private gpadlMaybeDone(handle: number): void {
    const p = this.pendingGpadls.get(handle)!;
    if (p.pfns.length < p.total) return;
    this.pendingGpadls.delete(handle);
    let status = 0;
    try {
      if (p.pfns.length !== p.total || p.header.byteOffset !== 0) throw new ResourceError('BAD_GPADL', `GPADL ${handle}: ${p.pfns.length} PFNs for ${p.total}`);
      this.gpadls.create(handle, p.pfns, p.header.byteCount);
    } catch (e) {
      if (isNetvscError(e) && e.code === 'LIMIT') this.counters.inc('gpadl_limit');
      else this.bad(e);
      status = VMBUS_STATUS_UNSUCCESSFUL;
    }
    this.send({ msgtype: CHANNELMSG_GPADL_CREATED, childRelid: p.header.childRelid, gpadl: handle, creationStatus: status });
  }

  private open(m: OpenChannel): void {
    const h = this.offers.get(m.childRelid);
    const result = (status: number): void =>
      this.send({ msgtype: CHANNELMSG_OPENCHANNEL_RESULT, childRelid: m.childRelid, openId: m.openId, status });
    if (!h || h.device.rescinded || h.channel) {
      this.counters.inc('bad_message');
      return result(VMBUS_STATUS_UNSUCCESSFUL);
    }
    let mapping: GpadlMapping | null = null;
    try {
      mapping = this.gpadls.map(m.ringBufferGpadlHandle);
      const split = m.downstreamRingBufferPageOffset * PAGE_SIZE;
      const run = newContiguousRun();
      // Our rings are views over one contiguous run: Linux allocates the ring block contiguous (§2.1).
      if (mapping.contiguous(0, mapping.len, run) !== mapping.len) {
        throw new ResourceError('BAD_GPADL', `ring GPADL ${m.ringBufferGpadlHandle} is not physically contiguous`);
      }
      if (split <= 0 || split >= mapping.len) throw new ResourceError('BAD_GPADL', `downstream offset ${m.downstreamRingBufferPageOffset} pages`);
      const guestSend = new RingMemory(run.u8, run.offset, split);
      const guestRecv = new RingMemory(run.u8, run.offset + split, mapping.len - split);
      const ch = new Channel({
        relid: m.childRelid,
        subChannelIndex: h.offer.subChannelIndex,
        sendRing: guestRecv,
        recvRing: guestSend,
        signal: new ChannelSignal(this.o.signals, m.childRelid, 'host', this.guestDoorbell),
        maxPktSize: h.device.options.maxPktSize ?? 4096,
        counters: this.counters,
      });
      h.channel = ch;
      h.mapping = mapping;
      ch.onStop = () => this.stopChannel(h);
      h.device.options.onOpen(ch);
      this.o.loop.add(ch);
    } catch (e) {
      mapping?.unmap();
      h.channel = null;
      h.mapping = null;
      this.bad(e);
      return result(VMBUS_STATUS_UNSUCCESSFUL);
    }
    result(0);
  }

  /** Stops the host end, unmaps the ring GPADL (a deferred teardown may now finish). */
  private stopChannel(h: HostOffer): void {
    const ch = h.channel;
    if (!ch) return;
    h.channel = null;
    ch.close();
    this.o.loop.remove(ch);
    h.mapping?.unmap();
    h.mapping = null;
    h.device.options.onClose?.(ch);
  }

  private send(m: ChannelMessage): void {
    this.o.link.send(emitChannelMessage(m));
  }

  private bad(e: unknown): void {
    if (!isNetvscError(e)) throw e;
    this.counters.inc(e.code === 'BAD_GPADL' ? 'bad_gpadl' : e.code === 'RING_CORRUPT' ? 'ring_corrupt' : 'bad_message');
  }
}
