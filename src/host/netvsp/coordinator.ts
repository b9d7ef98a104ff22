/**
 * The coordinator of one synthetic NIC (STYLE §2; peers.md §1.6): the NVSP init state machine on
 * the primary channel, the receive and send buffers, sub-channels and the send indirection
 * table, the RNDIS control plane and link indications. Queue workers hand it every NVSP message
 * that is not data. States carry their own data; an event illegal in the current state is
 * counted and completed with a failure status where the message has one.
 */
import * as W from '../../wire/index.js';
import type { NvspMessage } from '../../wire/index.js';
import { isNetvscError, MSG_DIR_TX, MSG_LAYER_NVSP, ProtocolError, type MessageObserver } from '../../core/index.js';
import type { Channel, HostDevice, VmbusHost, VmbusPacket } from '../../vmbus/index.js';
import { newNicCounters, type NicCounters } from '../counters.js';
import type { PortFrameMeta } from '../vswitch/port.js';
import { RndisControl, type RndisState } from './control.js';
import type { NicState } from './nic-state.js';
import type { HostProfile } from '../profiles.js';
import type { OidStats } from './oids.js';
import { RecvBuffer, recvSectionSize } from './recv-buffer.js';
import { QueueWorker, type QueueOwner } from './queue-worker.js';
import { SendBuffer } from './send-buffer.js';

/** NVSP versions a guest may ask for, newest first (§3.1, §3.6 step 2): the one table in wire. */
export const NVSP_VERSIONS: readonly number[] = W.NVSP_VERSIONS;
/** Pending control replies are capped (peers.md §1.6: openvmm's 100 KiB). */
const CONTROL_BACKLOG_BYTES = 100 * 1024;
const VRSS_SEND_TAB_SIZE = 16;

/** The NVSP state of the NIC (which message is accepted when: docs/host.md). */
export type NvspState =
  | { readonly kind: 'awaitInit' }
  | { readonly kind: 'negotiated'; readonly version: number; readonly ndisConfig: boolean; readonly ndisVersion: boolean }
  | { readonly kind: 'ready'; readonly version: number; readonly sendBuffer: boolean };

export interface CoordinatorOptions {
  readonly state: NicState;
  readonly bus: VmbusHost;
  readonly device: () => HostDevice;
  /** Frames from the guest go here (the switch). */
  readonly forward: (bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta) => void;
  /** Whether a unicast frame to bytes[off..off+6) goes to a port that takes super-frames whole. */
  readonly peerTakesSuperFrames?: (bytes: Uint8Array, off: number) => boolean;
  /** The guest's SWITCH_DATA_PATH (§3.10, 1 = VF): the NIC's VF steers the switch (issue 6). */
  readonly switchDataPath?: (toVf: boolean) => void;
}

export class Coordinator implements QueueOwner {
  nvspState: NvspState = { kind: 'awaitInit' };
  readonly counters: NicCounters = newNicCounters();
  readonly rndis: RndisControl;
  /** Open queues by sub_channel_index. */
  readonly queues: QueueWorker[] = [];
  /**
   * Counters of the queues that have closed (each -G/-L/MTU re-attach closes them all), summed by
   * name: a drop counted on a queue that is gone stays visible (NicStats.closedQueues).
   */
  readonly closedQueues: Record<string, number> = {};
  recv: RecvBuffer | null = null;
  send: SendBuffer | null = null;
  /** Sub-channels granted by the last SUBCHANNEL request (0 = none). */
  subChannelsGranted = 0;
  private tableSent = false;
  /** The NIC's host-side message trace (issue 7), or null: queue workers report through it too. */
  observer: MessageObserver | null = null;
  private readonly scratch = new Uint8Array(256);
  private readonly scratchDv = new DataView(this.scratch.buffer);
  private readonly controlBacklog: Uint8Array[] = [];
  private controlBacklogBytes = 0;
  private readonly initBacklog: { ch: Channel; lo: number; hi: number; bytes: Uint8Array }[] = [];

  constructor(private readonly o: CoordinatorOptions) {
    this.rndis = new RndisControl(o.state, this.counters, () => this.oidStats());
  }

  get profile(): HostProfile {
    return this.o.state.profile;
  }

  peerTakesSuperFrames(bytes: Uint8Array, off: number): boolean {
    return this.o.peerTakesSuperFrames?.(bytes, off) ?? false;
  }

  get ready(): boolean {
    return this.nvspState.kind === 'ready' && this.recv !== null;
  }

  get rndisState(): RndisState {
    return this.rndis.state;
  }

  /** VmbusHost opened a channel of this NIC. */
  channelOpened(ch: Channel): QueueWorker {
    const q = new QueueWorker(ch, this, this.o.bus.gpadls);
    this.queues[ch.subChannelIndex] = q;
    q.attachRecv(this.recv);
    q.tx.send = this.send;
    this.o.state.channelCount = this.openQueues().length;
    this.maybeSendIndirectionTable();
    return q;
  }

  /** A channel stopped. The primary going away resets the NIC to its pre-init state (§3.7). */
  channelClosed(ch: Channel): void {
    const q = this.queues[ch.subChannelIndex];
    if (q?.ch !== ch) return;
    q.attachRecv(null);
    for (const [k, v] of Object.entries(q.counters.snapshot())) this.closedQueues[k] = (this.closedQueues[k] ?? 0) + v;
    delete this.queues[ch.subChannelIndex];
    this.o.state.channelCount = Math.max(1, this.openQueues().length);
    if (ch.subChannelIndex === 0) this.reset();
  }

  openQueues(): QueueWorker[] {
    return this.queues.filter((q): q is QueueWorker => q !== undefined);
  }

  poll(): number {
    let work = 0;
    while (this.initBacklog.length > 0) {
      const c = this.initBacklog[0]!;
      if (c.ch.state !== 'open') this.initBacklog.shift();
      else if (c.ch.sendCompletion(c.lo, c.hi, c.bytes, 0, c.bytes.length)) {
        this.initBacklog.shift();
        c.ch.flush();
        work++;
      } else break;
    }
    work += this.drainControlBacklog();
    // Index loops here and in backlog (both run every pass): for..of makes an iterator object
    // wherever the loop is not optimised (alloc-sites: ~3 B a frame).
    const qs = this.queues;
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i];
      if (q) work += q.poll();
    }
    return work;
  }

  get backlog(): number {
    let n = this.initBacklog.length + this.controlBacklog.length;
    const qs = this.queues;
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i];
      if (q) n += q.backlog;
    }
    return n;
  }

  // ---- TxSink ----

  frame(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): void {
    this.o.forward(bytes, off, len, meta);
  }

  control(dv: DataView, at: number, len: number): void {
    let reply: Uint8Array | null;
    try {
      reply = this.rndis.handle(dv, at, len);
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('control_bad');
      throw e; // the send path completes the packet with INVALID_RNDIS_PKT
    }
    // Filter 0 is the guest closing (§1.5): publish every frame already written before the
    // SET_C, so the guest, draining once it has the reply, finds them all in its rings.
    if (this.o.state.packetFilter === 0) for (const q of this.openQueues()) if (q.rx.pending > 0 && q.rx.flush()) q.ch.flush();
    if (reply) this.sendControl(reply);
  }

  /** Queues an RNDIS message (reply or indication) for the guest on the primary's receive path. */
  sendControl(msg: Uint8Array): void {
    if (this.controlBacklogBytes + msg.length > CONTROL_BACKLOG_BYTES) {
      this.counters.inc('control_dropped');
      return;
    }
    this.controlBacklog.push(msg.slice());
    this.controlBacklogBytes += msg.length;
    this.drainControlBacklog();
  }

  /** A status indication (§5.7) if the guest's RNDIS is initialized. */
  indicate(status: number, speed100bps?: number): void {
    const m = this.rndis.indication(status, speed100bps);
    if (m) this.sendControl(m);
  }

  // ---- NVSP control messages (§3.6) ----

  nvsp(pkt: VmbusPacket, q: QueueWorker): void {
    this.counters.inc('nvsp_messages');
    if (pkt.type !== W.VM_PKT_DATA_INBAND) {
      this.counters.inc('nvsp_unexpected');
      return;
    }
    let msg: NvspMessage;
    try {
      msg = W.parseNvsp(pkt.dv, pkt.payloadOffset, pkt.payloadLen);
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('nvsp_bad_message');
      this.completeIfAsked(q.ch, pkt, null);
      return;
    }
    if (q.index !== 0 && msg.type !== W.NVSP_MSG5_TYPE_SUBCHANNEL) {
      // Init and buffer messages belong on the primary channel.
      this.counters.inc('nvsp_unexpected');
      return;
    }
    this.onNvsp(msg, pkt, q.ch);
  }

  private onNvsp(msg: NvspMessage, pkt: VmbusPacket, ch: Channel): void {
    const s = this.nvspState;
    switch (msg.type) {
      case W.NVSP_MSG_TYPE_INIT:
        return this.onInit(msg.minProtocolVer, msg.maxProtocolVer, pkt, ch);
      case W.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG:
        if (s.kind !== 'negotiated' || s.version < W.NVSP_PROTOCOL_VERSION_2) return this.unexpected(msg.type, pkt, ch);
        if (msg.mtu < W.NETVSC_MTU_MIN + 14 || msg.mtu > W.NETVSC_MTU + 14) {
          this.counters.inc('nvsp_bad_message');
          return this.completeIfAsked(ch, pkt, null);
        }
        this.o.state.ndisMtu = msg.mtu;
        this.o.state.ndisCapability = msg.capability.data ?? 0n;
        this.nvspState = { ...s, ndisConfig: true };
        return this.completeIfAsked(ch, pkt, null);
      case W.NVSP_MSG1_TYPE_SEND_NDIS_VER:
        if (s.kind !== 'negotiated') return this.unexpected(msg.type, pkt, ch);
        this.o.state.ndisMajor = msg.ndisMajorVer;
        this.o.state.ndisMinor = msg.ndisMinorVer;
        this.nvspState = { ...s, ndisVersion: true };
        return this.completeIfAsked(ch, pkt, null);
      case W.NVSP_MSG1_TYPE_SEND_RECV_BUF:
        return this.onRecvBuf(msg.gpadlHandle, pkt, ch);
      case W.NVSP_MSG1_TYPE_SEND_SEND_BUF:
        return this.onSendBuf(msg.gpadlHandle, pkt, ch);
      case W.NVSP_MSG1_TYPE_REVOKE_RECV_BUF:
        if (s.kind !== 'ready' || !this.recv) return this.unexpected(msg.type, pkt, ch);
        this.detachRecv();
        return;
      case W.NVSP_MSG1_TYPE_REVOKE_SEND_BUF:
        if (s.kind !== 'ready' || !this.send) return this.unexpected(msg.type, pkt, ch);
        this.detachSend();
        this.nvspState = { ...s, sendBuffer: false };
        return;
      case W.NVSP_MSG5_TYPE_SUBCHANNEL:
        if (msg.completion || s.kind !== 'ready' || s.version < W.NVSP_PROTOCOL_VERSION_5) return this.unexpected(msg.type, pkt, ch);
        return this.onSubchannel(msg.op, msg.numSubchannels, pkt, ch);
      case W.NVSP_MSG4_TYPE_SWITCH_DATA_PATH:
        // Only SYNTHETIC (0) and VF (1) are defined: another value switches nothing, is counted,
        // and still gets its empty completion (the guest waits for it, §3.10).
        if (msg.activeDatapath !== W.NVSP_DATAPATH_SYNTHETIC && msg.activeDatapath !== W.NVSP_DATAPATH_VF) {
          this.counters.inc('nvsp_bad_message');
          return this.complete(ch, pkt, null);
        }
        // The VF owner steers (and counts a request illegal in its state); the guest waits for an
        // empty completion either way (§3.10), so it is always sent. Frames already switched to
        // this NIC go out first: a burst still held would reach the guest after the completion,
        // behind the first frames on the VF (reordering at the switch, issue 6).
        for (const q of this.openQueues()) if (q.rx.pending > 0 && q.rx.flush()) q.ch.flush();
        // Likewise what the guest sent on other channels before this request goes into the switch
        // before its first VF frame can (bounded: a guest switching to the VF holds its TX).
        if (msg.activeDatapath === W.NVSP_DATAPATH_VF) for (const q of this.openQueues()) if (q.ch !== ch) for (let i = 0; i < 64 && q.ch.poll() > 0; i++);
        this.o.switchDataPath?.(msg.activeDatapath === W.NVSP_DATAPATH_VF);
        return this.complete(ch, pkt, null);
      default:
        return this.unexpected(msg.type, pkt, ch);
    }
  }

  /** §3.6 step 2: SUCCESS for a version in [0x2, profile max] inside [min, max]; else a failure status. */
  private onInit(min: number, max: number, pkt: VmbusPacket, ch: Channel): void {
    if (this.nvspState.kind !== 'awaitInit') {
      this.counters.inc('nvsp_unexpected');
      return this.complete(ch, pkt, { type: W.NVSP_MSG_TYPE_INIT_COMPLETE, negotiatedProtocolVer: 0, maxMdlChainLen: 0, status: W.NVSP_STAT_FAIL });
    }
    const v = NVSP_VERSIONS.find((x) => x <= this.o.state.profile.maxNvspVersion && x >= min && x <= max);
    if (v === undefined) {
      this.counters.inc('nvsp_bad_version');
      const status = min > this.o.state.profile.maxNvspVersion ? W.NVSP_STAT_PROTOCOL_TOO_NEW : W.NVSP_STAT_FAIL;
      return this.complete(ch, pkt, { type: W.NVSP_MSG_TYPE_INIT_COMPLETE, negotiatedProtocolVer: 0, maxMdlChainLen: 0, status });
    }
    this.o.state.nvspVersion = v;
    this.nvspState = { kind: 'negotiated', version: v, ndisConfig: false, ndisVersion: false };
    // max_mdl_chain_len is not checked by the guest (§8 "Not validated"); we report 0.
    this.complete(ch, pkt, { type: W.NVSP_MSG_TYPE_INIT_COMPLETE, negotiatedProtocolVer: v, maxMdlChainLen: 0, status: W.NVSP_STAT_SUCCESS });
  }

  private onRecvBuf(gpadl: number, pkt: VmbusPacket, ch: Channel): void {
    const s = this.nvspState;
    const failed = { type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, status: W.NVSP_STAT_FAIL, numSections: 0, sections: [] } as const;
    // peers.md §1.6: for v2+ the sub-allocation size needs the MTU, so NDIS config comes first.
    if (s.kind !== 'negotiated' || (s.version >= W.NVSP_PROTOCOL_VERSION_2 && !s.ndisConfig)) {
      this.counters.inc('nvsp_unexpected');
      return this.complete(ch, pkt, failed);
    }
    let recv: RecvBuffer;
    try {
      recv = new RecvBuffer(this.o.bus.mapGpadl(gpadl), recvSectionSize(this.o.state.ndisMtu));
      if (recv.sectionCount < 1) {
        recv.mapping.unmap();
        throw new ProtocolError('MALFORMED', `receive buffer of ${recv.mapping.len} B holds no section`);
      }
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('nvsp_bad_buffer');
      return this.complete(ch, pkt, failed);
    }
    this.recv = recv;
    for (const q of this.openQueues()) q.attachRecv(recv);
    this.nvspState = { kind: 'ready', version: s.version, sendBuffer: false };
    const size = recv.sectionSize;
    this.complete(ch, pkt, {
      type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, status: W.NVSP_STAT_SUCCESS, numSections: 1,
      sections: [{ offset: 0, subAllocSize: size, numSubAllocs: recv.sectionCount, endOffset: size * recv.sectionCount }],
    });
  }

  private onSendBuf(gpadl: number, pkt: VmbusPacket, ch: Channel): void {
    const s = this.nvspState;
    const failed = { type: W.NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, status: W.NVSP_STAT_FAIL, sectionSize: 0 } as const;
    if (s.kind !== 'ready' || this.send) {
      this.counters.inc('nvsp_unexpected');
      return this.complete(ch, pkt, failed);
    }
    const sectionSize = this.o.state.profile.sendSectionSizeBytes;
    try {
      const send = new SendBuffer(this.o.bus.mapGpadl(gpadl), sectionSize);
      if (send.sectionCount < 1) {
        send.mapping.unmap();
        throw new ProtocolError('MALFORMED', `send buffer of ${send.mapping.len} B holds no section`);
      }
      this.send = send;
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('nvsp_bad_buffer');
      return this.complete(ch, pkt, failed);
    }
    for (const q of this.openQueues()) q.tx.send = this.send;
    this.nvspState = { ...s, sendBuffer: true };
    this.complete(ch, pkt, { type: W.NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, status: W.NVSP_STAT_SUCCESS, sectionSize });
  }

  /** §3.6 step 10: grant min(requested, maxQueues − 1), offer them, complete with the count. */
  private onSubchannel(op: number, requested: number, pkt: VmbusPacket, ch: Channel): void {
    const max = this.o.state.profile.maxQueues - 1;
    const have = this.o.device().relids.length - 1;
    const grant = op === W.NVSP_SUBCHANNEL_ALLOCATE ? Math.max(0, Math.min(requested, max - have)) : 0;
    if (op !== W.NVSP_SUBCHANNEL_ALLOCATE || grant === 0) {
      this.counters.inc('nvsp_unexpected');
      return this.complete(ch, pkt, { type: W.NVSP_MSG5_TYPE_SUBCHANNEL, completion: true, status: W.NVSP_STAT_FAIL, numSubchannels: 0 });
    }
    this.complete(ch, pkt, { type: W.NVSP_MSG5_TYPE_SUBCHANNEL, completion: true, status: W.NVSP_STAT_SUCCESS, numSubchannels: grant });
    this.subChannelsGranted = have + grant;
    this.counters.inc('subchannels_granted', grant);
    this.tableSent = false;
    this.o.device().offerSubChannels(grant);
  }

  /** §3.9: once every granted sub-channel is open, tell the guest the default send table (i mod n). */
  private maybeSendIndirectionTable(): void {
    if (this.tableSent || this.subChannelsGranted === 0) return;
    const n = this.openQueues().length;
    const primary = this.queues[0];
    if (n < 1 + this.subChannelsGranted || !primary) return;
    const txTable = Array.from({ length: VRSS_SEND_TAB_SIZE }, (_, i) => i % n);
    // offset 12 puts the table right after the header; the 76-byte message is below the 104-byte
    // threshold at which ≤ v6 guests would assume offset 40 (§3.9).
    const len = W.emitNvsp({ type: W.NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE, count: VRSS_SEND_TAB_SIZE, offset: 12, txTable }, this.scratchDv, 0);
    this.observer?.message(MSG_DIR_TX, 0, MSG_LAYER_NVSP, this.scratch, 0, len);
    if (primary.ch.sendInband(0, 0, this.scratch, 0, len)) {
      primary.ch.flush();
      this.tableSent = true;
    }
  }

  private unexpected(_type: number, pkt: VmbusPacket, ch: Channel): void {
    this.counters.inc('nvsp_unexpected');
    this.completeIfAsked(ch, pkt, null);
  }

  private completeIfAsked(ch: Channel, pkt: VmbusPacket, msg: NvspMessage | null): void {
    if ((pkt.flags & W.VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED) !== 0) this.complete(ch, pkt, msg);
  }

  /** A completion echoing trans_id (empty when msg is null); kept for the next poll if the ring is full. */
  private complete(ch: Channel, pkt: VmbusPacket, msg: NvspMessage | null): void {
    const len = msg ? W.emitNvsp(msg, this.scratchDv, 0) : 0;
    if (len > 0) this.observer?.message(MSG_DIR_TX, ch.subChannelIndex, MSG_LAYER_NVSP, this.scratch, 0, len);
    if (this.initBacklog.length === 0 && ch.sendCompletion(pkt.transIdLo, pkt.transIdHi, this.scratch, 0, len)) return;
    this.counters.inc('completion_deferred');
    this.initBacklog.push({ ch, lo: pkt.transIdLo, hi: pkt.transIdHi, bytes: this.scratch.slice(0, len) });
    ch.waitForSpace(len + 64);
  }

  private drainControlBacklog(): number {
    const q = this.queues[0];
    if (!q || !this.recv) return 0;
    let n = 0;
    while (this.controlBacklog.length > 0) {
      const m = this.controlBacklog[0]!;
      if (!q.rx.deliverControl(m, m.length)) break;
      this.controlBacklog.shift();
      this.controlBacklogBytes -= m.length;
      n++;
    }
    if (n > 0 && q.rx.flush()) q.ch.flush();
    return n;
  }

  private detachRecv(): void {
    for (const q of this.openQueues()) q.attachRecv(null);
    this.recv?.mapping.unmap();
    this.recv = null;
  }

  private detachSend(): void {
    for (const q of this.openQueues()) q.tx.send = null;
    this.send?.mapping.unmap();
    this.send = null;
  }

  /** Back to the state of a freshly offered device; buffer mappings are released so GPADL teardown completes. */
  private reset(): void {
    this.detachRecv();
    this.detachSend();
    this.nvspState = { kind: 'awaitInit' };
    this.rndis.state = { kind: 'uninitialized' };
    this.controlBacklog.length = 0;
    this.controlBacklogBytes = 0;
    this.initBacklog.length = 0;
    this.subChannelsGranted = 0;
    this.tableSent = false;
  }

  private oidStats(): OidStats {
    let xmitOk = 0, rcvOk = 0, xmitError = 0, rcvNoBuffer = 0;
    for (const q of this.openQueues()) {
      const c = q.counters;
      xmitOk += c.get('tx_packets');
      rcvOk += c.get('rx_packets');
      xmitError += c.get('tx_bad_rndis') + c.get('tx_bad_range') + c.get('tx_bad_section');
      rcvNoBuffer += c.get('rx_dropped_no_section') + c.get('rx_dropped_ring_full') + c.get('rx_dropped_no_buffer');
    }
    return { xmitOk, rcvOk, xmitError, rcvError: 0, rcvNoBuffer };
  }
}
