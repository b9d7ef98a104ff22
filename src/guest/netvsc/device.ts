import { ConfigError, ProtocolError, ResourceError, WireError, systemClock, type Clock, type MessageObserver } from '../../core/index.js';
import {
  NDIS_PACKET_TYPE_ALL_MULTICAST,
  NDIS_PACKET_TYPE_BROADCAST,
  NDIS_PACKET_TYPE_DIRECTED,
  NETVSC_DEFAULT_RX,
  NETVSC_DEFAULT_TX,
  NVSP_MSG4_TYPE_SWITCH_DATA_PATH,
  NVSP_PROTOCOL_VERSION_5,
  RNDIS_MSG_INDICATE,
  RNDIS_OID_GEN_CURRENT_PACKET_FILTER,
  VRSS_SEND_TAB_SIZE,
  HV_NIC_GUID,
  NDIS_OFFLOAD_PARAMETERS_RSC_DISABLED,
  NDIS_OFFLOAD_PARAMETERS_RSC_ENABLED,
  OID_TCP_OFFLOAD_PARAMETERS,
  type OfferChannel,
} from '../../wire/index.js';
import { PAGE_SIZE, type Channel, type EventLoop, type GuestMemory, type PageAllocator, type Pollable, type VmbusGuest, type VmbusPacket } from '../../vmbus/index.js';
import { attachNvsp, DEFAULT_SECTION_SIZES, NVSP_VERSIONS, type AttachConfig } from './attach.js';
import { newGuestCounters, type GuestCounters } from './counters.js';
import { handleInband, type VfAssociation } from './inband.js';
import { VF_TX_TAKEN, VF_TX_UNUSED, VfFailover } from './vf-failover.js';
import type { ReceiveHandler, TxMeta } from './meta.js';
import { TX_F_HASH } from './meta.js';
import { XMIT_BUSY, XMIT_COPIED, type TxQueue } from './tx.js';
import { buildAttachment, teardown, type Attachment } from './lifecycle.js';
import { LinkState } from './status.js';
import { deviceStats, type EthtoolView, ethtoolView } from './ethtool.js';
import { newTxMeta } from './meta.js';
import { TxOffloadPrep, type FlowHashClass, type TxRequest } from './tx-offload.js';
import { setRss } from './control-plane.js';

export interface NetvscOptions {
  readonly bus: VmbusGuest;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  /** The primary channel's offer; by default the first synthetic-NIC offer with sub_channel_index 0. */
  readonly offer?: OfferChannel;
  /** Where the queues' retry pollables go (the loop that runs the bus's channels). */
  readonly loop?: EventLoop;
  readonly clock?: Clock;
  /** Longest wait for any NVSP completion or RNDIS response (Linux waits forever). Default 5000 ms. */
  readonly timeoutMs?: number;
  readonly mtu?: number;
  /** Receive and send sections (ethtool -G rx / tx). */
  readonly rxSections?: number;
  readonly txSections?: number;
  /** Queues wanted (ethtool -L combined); granted per §3.6 steps 9–10. */
  readonly channels?: number;
  /** Pages per ring (Linux ring_size, 128). */
  readonly ringPages?: number;
  /** GPA-direct page-buffer slots per queue and pages per slot. */
  readonly poolSlots?: number;
  readonly poolSlotPages?: number;
  /** NVSP versions to try, newest first. */
  readonly versions?: readonly number[];
  /** Sees every NVSP and RNDIS message sent and received (the lab's trace, issue 7); none by default. */
  readonly observer?: MessageObserver | null;
}

/** The device's lifecycle as data (STYLE §2: states carry their own data). */
export type DeviceState =
  | { readonly kind: 'attached'; readonly att: Attachment; readonly open: boolean }
  | { readonly kind: 'reconfiguring'; readonly why: string }
  | { readonly kind: 'detached' };

/**
 * The netvsc guest device: control plane (bring-up, RNDIS, link, reconfiguration) over one Queue
 * per VMBus channel (the data planes). See docs/guest.md for the sequence and the API.
 */
export class NetvscDevice {
  readonly counters: GuestCounters;
  readonly link: LinkState;
  /** Frames from every queue; `meta.queue` says which. */
  onReceive: ReceiveHandler = () => {};
  onLinkChange: (up: boolean) => void = () => {};
  /** A stopped TX queue woke up: send() will take frames again. */
  onWritable: (queue: number) => void = () => {};
  /**
   * Contract A: an xmitInPlace() frame's bytes are free again (its completion came, or the device
   * detached with it in flight). Called once per XMIT_IN_PLACE, never from inside xmitInPlace().
   */
  onTxDone: (token: number) => void = () => {};
  private readonly txDone = (token: number): void => this.onTxDone(token);
  vf: VfAssociation = { allocated: false, serial: 0 };
  onVfAssociation: (vf: VfAssociation) => void = () => {};
  /** SR-IOV VF failover (§6.8, docs/vf.md): feed it the VM's VF netdev events with vfEvent(). */
  readonly failover: VfFailover;
  /** Host send indirection table (§3.9), reduced modulo the queue count at use. */
  readonly txTable = new Uint32Array(VRSS_SEND_TAB_SIZE);
  /** InbandTarget: the host sent a send table during the current attach. */
  txTableFromHost = false;
  /** Transmit offload decisions for xmit() (tx-offload.ts): checksum, LSO, VLAN pop, TX hash. */
  readonly txPrep = new TxOffloadPrep((Math.random() * 0x100000000) >>> 0);
  private readonly xmitMeta = newTxMeta();
  /** A key set by ethtool -X, kept across re-attaches (ethtool -L). */
  private rssKey: Uint8Array | null = null;
  /** ethtool -K lro (Linux's default on); a re-attach re-plans with LRO on, so off is re-sent. */
  private lroOn = true;
  /** ethtool -K gro (on by default, kept across re-attaches). */
  private groOn = true;
  /** setRxFragments (off by default, kept across re-attaches). */
  private rxFragsOn = false;
  /** NVSP version of the attach in progress (0 when none). */
  private attachingVersion = 0;
  private state_: DeviceState = { kind: 'detached' };
  private cfg: AttachConfig & { channels: number; poolSlots: number; poolSlotPages: number };
  private readonly loop: EventLoop | null;

  private constructor(o: NetvscOptions, offer: OfferChannel) {
    this.counters = newGuestCounters();
    const clock = o.clock ?? systemClock;
    this.link = new LinkState(clock, this.counters);
    this.link.onChange = (up) => this.onLinkChange(up);
    this.failover = new VfFailover({
      clock,
      counters: this.counters,
      isAttached: () => this.state_.kind === 'attached',
      permanentMac: () => (this.state_.kind === 'attached' ? this.state_.att.info.mac : null),
      sendSwitch: (toVf) => this.sendSwitch(toVf),
      drainSynthetic: () => {
        // Frames the host delivered on any channel before it took the switch (§6.8, no reordering).
        if (this.state_.kind === 'attached') for (const q of this.state_.att.queues) for (let i = 0; i < 64 && q.poll() > 0; i++);
      },
      deliver: (u8, off, len, meta) => this.onReceive(u8, off, len, meta),
    });
    this.loop = o.loop ?? null;
    this.cfg = {
      bus: o.bus,
      offer,
      memory: o.memory,
      allocator: o.allocator,
      clock,
      counters: this.counters,
      timeoutMs: o.timeoutMs ?? 5000,
      ringPages: o.ringPages ?? 128,
      mtu: o.mtu ?? 1500,
      rxSections: o.rxSections ?? NETVSC_DEFAULT_RX,
      txSections: o.txSections ?? NETVSC_DEFAULT_TX,
      recvSectionSize: DEFAULT_SECTION_SIZES.recv,
      sendSectionSize: DEFAULT_SECTION_SIZES.send,
      versions: o.versions ?? NVSP_VERSIONS,
      observer: o.observer ?? null,
      channels: o.channels ?? 1,
      poolSlots: o.poolSlots ?? 8,
      poolSlotPages: o.poolSlotPages ?? 17,
    };
  }

  /** Opens the primary channel and runs the whole bring-up of §3.6; rejects (typed) on any failure. */
  static async probe(o: NetvscOptions): Promise<NetvscDevice> {
    const offer = o.offer ?? [...o.bus.offers.values()].find((x) => x.ifType === HV_NIC_GUID && x.subChannelIndex === 0);
    if (!offer) throw new ConfigError('BAD_CONFIG', 'no synthetic NIC offer on the bus');
    const dev = new NetvscDevice(o, offer);
    await dev.attach();
    return dev;
  }

  get state(): DeviceState {
    return this.state_;
  }

  /** The current attachment; throws when detached or reconfiguring. */
  get att(): Attachment {
    if (this.state_.kind !== 'attached') throw new ResourceError('CHANNEL_CLOSED', `device is ${this.state_.kind}`);
    return this.state_.att;
  }

  /** The negotiated NVSP version; also during an attach (in-band messages arrive before it ends). */
  get version(): number {
    return this.state_.kind !== 'attached' && this.attachingVersion > 0 ? this.attachingVersion : this.att.nv.version;
  }
  get ndisVersion(): { major: number; minor: number } {
    return { major: this.att.nv.ndisMajor, minor: this.att.nv.ndisMinor };
  }
  get mac(): Uint8Array {
    return this.att.info.mac;
  }
  get mtu(): number {
    return this.cfg.mtu;
  }
  get queueCount(): number {
    return this.state_.kind === 'attached' ? this.state_.att.queues.length : 0;
  }
  /** This VM's guest memory (u8 offset = guest physical address) and its page allocator. */
  get memory(): GuestMemory {
    return this.cfg.memory;
  }
  get allocator(): PageAllocator {
    return this.cfg.allocator;
  }

  /**
   * Describes pages of guest memory to the host by a GPADL of their own (a DMA mapping: our host,
   * like Hyper-V for isolated VMs, reads GPA ranges only inside described pages), so frames built
   * there can go out with xmitInPlace(). Kept across re-attaches; unmapTxPages() ends it.
   */
  mapTxPages(pfns: readonly number[]): Promise<number> {
    return this.cfg.bus.establishGpadl(pfns, pfns.length * PAGE_SIZE, this.cfg.offer.childRelid);
  }

  unmapTxPages(handle: number): Promise<void> {
    return this.cfg.bus.teardownGpadl(handle, this.cfg.offer.childRelid);
  }

  /** Packet filter DIRECTED | ALL_MULTICAST | BROADCAST (§3.6 step 11). */
  async open(): Promise<void> {
    const att = this.att;
    const st = await att.rndis.set(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, 4, { newFilter: NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_ALL_MULTICAST | NDIS_PACKET_TYPE_BROADCAST });
    if (st !== 0) throw new ProtocolError('UNEXPECTED_MESSAGE', `packet filter refused: 0x${st.toString(16)}`);
    att.rndis.state = 'data-initialized';
    this.state_ = { kind: 'attached', att, open: true };
  }

  /** Filter 0 and flush (§1.5 close); the channels stay open. */
  async close(): Promise<void> {
    const att = this.att;
    this.flush();
    await att.rndis.set(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, 4, { newFilter: 0 });
    att.rndis.state = 'initialized';
    this.state_ = { kind: 'attached', att, open: false };
  }

  /**
   * Transmits one frame; `more` = another follows at once (batch it, like xmit_more). Returns false
   * when the queue is stopped or out of room (or the device is reconfiguring): nothing was taken;
   * retry after onWritable. Throws LIMIT (tx_too_big) for a frame no path can carry.
   */
  send(frame: Uint8Array, off: number, len: number, meta: TxMeta | null = null, more = false): boolean {
    if (this.state_.kind !== 'attached') {
      this.counters.inc('tx_busy');
      return false;
    }
    if (this.failover.vf !== null) {
      // §1.3 step 2: on the VF while it runs with carrier; otherwise synthetic at once.
      const r = this.failover.transmit(frame, off, len, meta);
      if (r !== VF_TX_UNUSED) return r === VF_TX_TAKEN;
    }
    const tx = this.txQueue(meta);
    return tx !== null && tx.send(frame, off, len, meta, more);
  }

  /** The TX queue for `meta`'s hash (§6.6), or null (counted tx_busy) when its channel is not open. */
  private txQueue(meta: TxMeta | null): TxQueue | null {
    const qs = this.att.queues;
    let q = 0;
    if (meta !== null && (meta.flags & TX_F_HASH) !== 0 && qs.length > 1) q = this.txTable[meta.hash & (VRSS_SEND_TAB_SIZE - 1)]! % qs.length;
    const queue = qs[q]!;
    // A rescinded or failed channel takes nothing: refuse like a stopped queue rather than let the
    // ring throw CHANNEL_CLOSED after a section was taken (fuzz seed hostile-host-rescind-send-more).
    if (queue.channel.state !== 'open') {
      this.counters.inc('tx_busy');
      return null;
    }
    return queue.tx;
  }

  /**
   * The stack's transmit (§6.2): `req` says whether the L4 checksum is wanted and the GSO segment
   * size; TxOffloadPrep turns that into PPIs or software checksums (editing the frame in place),
   * the transmit hash picks the queue (§6.6). Returns false like send(), with the frame as given.
   * Throws WireError('UNSUPPORTED') for a GSO frame the host cannot segment.
   */
  xmit(frame: Uint8Array, off: number, len: number, req: TxRequest, more = false): boolean {
    if (this.state_.kind !== 'attached') {
      this.counters.inc('tx_busy');
      return false;
    }
    const p = this.prepare(frame, off, len, req, this.state_.att);
    let ok: boolean;
    try {
      ok = this.send(frame, p.off, p.len, this.xmitMeta, more);
    } catch (e) {
      p.undo(frame); // refused by a throw (tx_too_big, a failed ring): the frame goes back as given
      throw e;
    }
    if (ok) return true;
    p.undo(frame);
    return false;
  }

  /**
   * Contract A, transmit in place: xmit() for a frame that already lives in this VM's guest memory,
   * memory.u8[off, off+len) (the stack's edits are made there). A frame that goes GPA-direct is not
   * copied: its header + PPIs go in a header cell (or end the open batch, §4.4's partial copy) and
   * the frame's own pages follow as a range, as Linux sends an skb's pages. XMIT_BUSY: nothing
   * taken, retry after onWritable; XMIT_COPIED: copied (a small frame into a send section, or the
   * VF took it), the bytes are free now; XMIT_IN_PLACE: the caller must not touch them until
   * onTxDone(token). The pages must be described to the host (mapTxPages). Throws like xmit().
   */
  xmitInPlace(off: number, len: number, req: TxRequest, more: boolean, token: number): number {
    if (this.state_.kind !== 'attached') {
      this.counters.inc('tx_busy');
      return XMIT_BUSY;
    }
    const u8 = this.cfg.memory.u8;
    if (!(Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len > 0 && off + len <= u8.length)) {
      throw new ResourceError('LIMIT', `xmitInPlace: [${off}, +${len}) outside guest memory of ${u8.length} B`);
    }
    const p = this.prepare(u8, off, len, req, this.state_.att);
    const meta = this.xmitMeta;
    let r = XMIT_BUSY;
    try {
      const vf = this.failover.vf !== null ? this.failover.transmit(u8, p.off, p.len, meta) : VF_TX_UNUSED;
      if (vf !== VF_TX_UNUSED) r = vf === VF_TX_TAKEN ? XMIT_COPIED : XMIT_BUSY;
      else {
        const tx = this.txQueue(meta);
        if (tx !== null) r = tx.sendInPlace(p.off, p.len, meta, more, token);
      }
    } catch (e) {
      p.undo(u8); // as xmit(): a throw leaves the frame as it was given
      throw e;
    }
    if (r === XMIT_BUSY) p.undo(u8);
    return r;
  }

  /** xmit()/xmitInPlace(): TxOffloadPrep into xmitMeta, or a throw with the frame as given (a GSO frame the host cannot segment). */
  private prepare(frame: Uint8Array, off: number, len: number, req: TxRequest, att: Attachment): TxOffloadPrep {
    const p = this.txPrep;
    if (!p.prepare(frame, off, len, req, att.info.offload, att.queues.length, this.xmitMeta)) {
      p.undo(frame);
      throw new WireError('UNSUPPORTED', `GSO of ${len} B: not TCP, or no LSOv2 for its IP version`);
    }
    return p;
  }

  /** ethtool -K gro on|off (§6.5): held packets are delivered when it goes off. */
  setGro(on: boolean): void {
    this.groOn = on;
    if (this.state_.kind === 'attached') for (const g of this.state_.att.gro) g.setEnabled(on);
  }

  /**
   * Contract B: a consumer that takes scatter lists (a stack with receive scatter-gather, a TAP
   * written with writev) turns this on, and every RSC packet (§5.6) then comes to onReceive without
   * reassembly: `meta.flags & RX_F_FRAGS`, fragment i = u8[meta.fragOff[i], + meta.fragLen[i]) for
   * i < meta.fragments, in the receive buffer, `len` the total, `off` = fragOff[0]; valid only during
   * the call. GRO passes such packets on unmerged (the host already coalesced them). Any other
   * frame, and every frame with this off (the default), is contiguous as before. gatherRx() copies
   * either kind into one run. Kept across re-attaches.
   */
  setRxFragments(on: boolean): void {
    this.rxFragsOn = on;
    if (this.state_.kind === 'attached') for (const q of this.state_.att.queues) q.rx.fragmentList = on;
  }

  /**
   * ethtool -K lro on|off (§6.5): host RSC through OFFLOAD_PARAMETERS carrying only the RSC fields
   * (2 = enabled, 1 = disabled; every other field 0 = no change). Needs a host that offers RSC.
   */
  async setLro(on: boolean): Promise<void> {
    const att = this.att;
    const plan = att.info.offload;
    if (plan.size < 28 || plan.params.rscIpV4 === undefined) throw new ConfigError('BAD_CONFIG', 'lro: the host offers no RSC (NVSP 6.1 hosts with RSC caps)');
    const v = on ? NDIS_OFFLOAD_PARAMETERS_RSC_ENABLED : NDIS_OFFLOAD_PARAMETERS_RSC_DISABLED;
    const st = await att.rndis.set(OID_TCP_OFFLOAD_PARAMETERS, plan.size, { offloadParams: { header: plan.params.header, rscIpV4: v, rscIpV6: v } });
    if (st !== 0) throw new ProtocolError('UNEXPECTED_MESSAGE', `lro: offload parameters refused: 0x${st.toString(16)}`);
    this.lroOn = on;
  }

  /** ethtool -N rx-flow-hash tcp4|tcp6|udp4|udp6 sd|sdfn (§6.6): the TX hash level per class. */
  setRxFlowHash(cls: FlowHashClass, fields: 'sd' | 'sdfn'): void {
    this.txPrep.setFlowHash(cls, fields);
  }

  /**
   * ethtool -X (§6.4): a new key and/or indirection table (each entry < queue count, the table
   * keeps its size), sent as DISABLE then the new parameters. Needs more than one queue.
   */
  async setRxfh(o: { readonly key?: Uint8Array; readonly indir?: readonly number[] }): Promise<void> {
    const att = this.att;
    const n = att.queues.length;
    const indir = o.indir ?? att.rxTable;
    const key = o.key ?? att.key;
    if (n < 2) throw new ConfigError('BAD_CONFIG', 'rxfh: RSS needs more than one channel');
    if (indir.length !== att.rxTable.length || indir.some((q) => !Number.isInteger(q) || q < 0 || q >= n)) {
      throw new ConfigError('BAD_CONFIG', `rxfh: ${att.rxTable.length} entries each below ${n}`);
    }
    if (key.length !== att.key.length) throw new ConfigError('BAD_CONFIG', `rxfh: key of ${att.key.length} bytes`);
    if (!(await setRss(att.rndis, indir, key))) throw new ProtocolError('UNEXPECTED_MESSAGE', 'rxfh: the host refused the RSS parameters');
    if (o.key) this.rssKey = o.key.slice();
    if (this.state_.kind === 'attached') this.state_ = { ...this.state_, att: { ...att, rxTable: [...indir], key: key.slice() } };
  }

  /** Sends every open batch (the end of a burst). */
  flush(): void {
    if (this.state_.kind !== 'attached') return;
    const qs = this.state_.att.queues; // an index loop: for..of made an iterator per flush (alloc-sites)
    for (let i = 0; i < qs.length; i++) if (qs[i]!.channel.state === 'open') qs[i]!.tx.flush();
  }

  /** The per-queue pollables (receive-completion and TX retries); also added to options.loop. */
  pollables(): Pollable[] {
    return this.state_.kind === 'attached' ? [...this.state_.att.queues] : [];
  }

  stats(): Record<string, number> {
    return { ...deviceStats(this.counters, this.state_.kind === 'attached' ? this.state_.att.queues : []), ...this.failover.counters.snapshot() };
  }

  ethtool(): EthtoolView {
    return ethtoolView(this.att, this.cfg, this.txTable, this.link);
  }

  /** ethtool -G (§4.7): clamp to [10, max]; detach and re-attach with the new section counts. */
  async setRingParams(p: { rx?: number; tx?: number }): Promise<void> {
    const v = this.ethtool().ringparam;
    const clamp = (x: number | undefined, cur: number, max: number): number => (x === undefined ? cur : Math.max(10, Math.min(max, Math.floor(x))));
    const rx = clamp(p.rx, v.rxPending, v.rxMaxPending);
    const tx = clamp(p.tx, v.txPending, v.txMaxPending);
    if (rx === v.rxPending && tx === v.txPending) return;
    await this.reconfigure('ringparam', { rxSections: rx, txSections: tx, recvSectionSize: this.att.nv.recv.sectionSize, sendSectionSize: this.att.nv.send.sectionSize });
  }

  /** ethtool -L combined n (§6.4): NVSP ≥ 5, 1 ≤ n ≤ max_chn. */
  async setChannels(n: number): Promise<void> {
    const e = this.ethtool().channels;
    if (this.version < NVSP_PROTOCOL_VERSION_5 || !(Number.isInteger(n) && n >= 1 && n <= e.maxCombined)) {
      throw new ConfigError('BAD_CONFIG', `channels ${n}: 1..${e.maxCombined} on NVSP ≥ 5`);
    }
    if (n === e.combined) return;
    await this.reconfigure('channels', { channels: n });
  }

  /** MTU change (§6.9): 68…65521, 1500 on NVSP 1. */
  async setMtu(mtu: number): Promise<void> {
    const max = this.version >= 0x30002 ? 65521 : 1500;
    if (!(Number.isInteger(mtu) && mtu >= 68 && mtu <= max)) throw new ConfigError('BAD_CONFIG', `MTU ${mtu} outside 68..${max}`);
    if (mtu === this.cfg.mtu) return;
    await this.reconfigure('mtu', { mtu });
  }

  /** Tears the device down (§3.7). */
  async remove(): Promise<void> {
    if (this.state_.kind !== 'attached') return;
    const att = this.state_.att;
    const wasOpen = this.state_.open;
    this.state_ = { kind: 'detached' };
    this.failover.reset();
    this.link.stop();
    await teardown(att, this.cfg, this.loop, wasOpen).finally(() => releaseTxTokens(att));
  }

  /**
   * Detach then attach (§1.5) with a changed configuration; on failure the old one is restored.
   * send() returns false meanwhile, so the caller keeps its frames; frames already accepted are
   * flushed and completed before the detach.
   */
  private async reconfigure(why: string, change: Partial<NetvscDevice['cfg']>): Promise<void> {
    const att = this.att;
    const wasOpen = this.state_.kind === 'attached' && this.state_.open;
    this.state_ = { kind: 'reconfiguring', why };
    this.failover.reset();
    await teardown(att, this.cfg, this.loop, wasOpen).finally(() => releaseTxTokens(att));
    const old = this.cfg;
    this.cfg = { ...old, ...change };
    try {
      await this.attach();
    } catch (e) {
      this.cfg = old;
      await this.attach();
      if (wasOpen) await this.open();
      throw e;
    }
    if (wasOpen) await this.open();
    for (let i = 0; i < this.queueCount; i++) this.onWritable(i);
  }

  /** SWITCH_DATA_PATH (§3.10) and its empty completion; a full ring is retried (Linux: 2000 × 5–10 ms). */
  private async sendSwitch(toVf: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.att.nv.nvsp.requestEmpty({ type: NVSP_MSG4_TYPE_SWITCH_DATA_PATH, activeDatapath: toVf ? 1 : 0 });
      } catch (e) {
        if (!(e instanceof ResourceError && e.code === 'LIMIT') || attempt >= 2000) throw e;
      }
      await new Promise<void>((r) => this.cfg.clock.after(5, r));
    }
  }

  private async attach(): Promise<void> {
    const nv = await attachNvsp(this.cfg);
    this.attachingVersion = nv.version;
    // The host's send table (§3.9) comes while the sub-channels open, inside buildAttachment:
    // a flag (not a sentinel value the host could send) keeps the default below from overwriting it.
    this.txTableFromHost = false;
    const att = await buildAttachment(nv, this.cfg, {
      receive: (u8, off, len, meta) => {
        // Frames the host steered to the VF before this one go first (§6.8 failover, no reordering).
        if (this.failover.vf !== null) this.failover.drainRx();
        this.onReceive(u8, off, len, meta);
      },
      wake: (q) => this.onWritable(q),
      indicate: (dv, at, rangeLen, msgLen) => this.link.indicate(dv, at, rangeLen, msgLen),
      inband: (pkt: VmbusPacket, ch: Channel) => {
        const before = this.vf;
        handleInband(this, pkt, ch);
        if (this.vf !== before) this.failover.onAssociation(this.vf);
      },
      indicateType: RNDIS_MSG_INDICATE,
      gro: () => this.groOn,
    }, this.loop).finally(() => (this.attachingVersion = 0));
    this.cfg = { ...this.cfg, mtu: att.info.mtu };
    for (const q of att.queues) q.tx.onTxDone = this.txDone;
    for (const q of att.queues) q.rx.fragmentList = this.rxFragsOn; // before open(): no data frame came yet
    this.link.speedMbps = att.info.linkSpeedMbps;
    this.link.set(att.info.linkUp);
    if (!this.txTableFromHost) this.txTable.set(att.defaultTxTable);
    this.state_ = { kind: 'attached', att, open: false };
    if (this.rssKey && att.queues.length > 1 && (await setRss(att.rndis, att.rxTable, this.rssKey))) {
      this.state_ = { kind: 'attached', att: { ...att, key: this.rssKey }, open: false };
    }
    if (!this.lroOn && att.info.offload.lro) await this.setLro(false);
    this.failover.attached();
  }
}

/** In-place frames a detach left in flight (a drain that timed out): each token handed back once. */
function releaseTxTokens(att: Attachment): void {
  for (const q of att.queues) q.tx.releaseTokens();
}
