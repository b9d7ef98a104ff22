// A scripted NetVSP host for guest tests: answers NVSP and RNDIS over a real VMBus (VmbusHost /
// VmbusGuest in one thread, ring-bus.ts) with bytes built by src/wire emitters, configurable per
// NVSP version, and able to misbehave. It is not src/host: it is the guest's test peer.
import {
  emitNvsp,
  emitOffload,
  emitRndis,
  emitRssCaps,
  GpaRangeIterator,
  NDIS_OBJECT_TYPE_OFFLOAD,
  NDIS_OBJECT_TYPE_RSS_CAPABILITIES,
  NETVSC_RECEIVE_BUFFER_ID,
  NVSP_MESSAGE_SIZE,
  NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE,
  NVSP_MSG1_TYPE_SEND_RNDIS_PKT,
  NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE,
  NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE,
  NVSP_MSG5_TYPE_SUBCHANNEL,
  NVSP_MSG_TYPE_INIT_COMPLETE,
  OID_GEN_RECEIVE_SCALE_CAPABILITIES,
  OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES,
  parseNvsp,
  parseRndis,
  RNDIS_MSG_INIT,
  RNDIS_MSG_INIT_C,
  RNDIS_MSG_PACKET,
  RNDIS_MSG_QUERY,
  RNDIS_MSG_QUERY_C,
  RNDIS_MSG_SET,
  RNDIS_MSG_SET_C,
  RNDIS_OID_802_3_PERMANENT_ADDRESS,
  RNDIS_OID_GEN_FRIENDLY_NAME,
  RNDIS_OID_GEN_LINK_SPEED,
  RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE,
  RNDIS_OID_GEN_MEDIA_CONNECT_STATUS,
  RndisPacketView,
  VM_PKT_COMP,
  VM_PKT_DATA_INBAND,
  VM_PKT_DATA_USING_GPA_DIRECT,
  VM_PKT_DATA_USING_XFER_PAGES,
  VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
  writeRndisPacketHeader,
  type NvspMessage,
  type RndisMessage,
} from '../../src/wire/index.js';
import type { Channel, GpadlMapping, HostDevice, VmbusPacket } from '../../src/vmbus/index.js';
import { singleThreadBus, type SingleThreadBus } from './ring-bus.js';

export const NIC_INSTANCE = 'f8615163-0000-4000-8000-000000000001';

export interface ScriptedHostOptions {
  /** Newest NVSP version the host accepts (older ones are accepted too). */
  readonly version?: number;
  readonly recvSubAlloc?: number;
  readonly sendSectionSize?: number;
  readonly maxPktPerMsg?: number;
  readonly alignFactor?: number;
  readonly numRecvQue?: number;
  readonly maxSubChannels?: number;
  readonly pages?: number;
  /** A send indirection table (type 134, 16 entries) sent in-band right after the sub-channel completion. */
  readonly sendTable?: readonly number[];
  /** Hooks to misbehave: return a replacement (or null to stay silent). */
  readonly mutate?: {
    readonly completion?: (request: NvspMessage, reply: NvspMessage) => NvspMessage | null;
    readonly rndis?: (request: RndisMessage, reply: RndisMessage) => RndisMessage | null;
  };
}

export interface HostFrame {
  readonly bytes: Uint8Array;
  readonly queue: number;
  readonly ppiLen: number;
}

/** One-thread host: owns the bus, the NIC offer and a log of everything the guest sent. */
export class ScriptedHost {
  readonly bus: SingleThreadBus;
  readonly device: HostDevice;
  readonly channels: Channel[] = [];
  /** NVSP messages the guest sent (requests and fire-and-forget), in order. */
  readonly nvsp: NvspMessage[] = [];
  readonly rndis: RndisMessage[] = [];
  /** Raw RNDIS request bytes (for size checks). */
  readonly rndisBytes: Uint8Array[] = [];
  readonly frames: HostFrame[] = [];
  /** NVSP 107 data messages received, by how they came (§3.8). */
  dataInband = 0;
  dataGpa = 0;
  /** Guest completions of our transfer-page packets: trans_id → status. */
  readonly completions = new Map<number, number>();
  /** Withhold NVSP 108 completions of data sends while true (they queue in `heldSends`). */
  holdSendCompletions = false;
  readonly heldSends: { ch: Channel; lo: number; hi: number }[] = [];
  recv: GpadlMapping | null = null;
  send: GpadlMapping | null = null;
  private nextTid = 1;
  private nextSection = 0;
  private readonly o: Required<Omit<ScriptedHostOptions, 'mutate' | 'sendTable'>> & Pick<ScriptedHostOptions, 'mutate' | 'sendTable'>;

  constructor(o: ScriptedHostOptions = {}) {
    this.o = {
      version: o.version ?? 0x60001,
      recvSubAlloc: o.recvSubAlloc ?? 1728,
      sendSectionSize: o.sendSectionSize ?? 6144,
      maxPktPerMsg: o.maxPktPerMsg ?? 8,
      alignFactor: o.alignFactor ?? 3,
      numRecvQue: o.numRecvQue ?? 1,
      maxSubChannels: o.maxSubChannels ?? 0,
      pages: o.pages ?? 4096,
      mutate: o.mutate,
      sendTable: o.sendTable,
    };
    this.bus = singleThreadBus(this.o.pages);
    this.device = this.bus.host.offerDevice({
      instanceGuid: NIC_INSTANCE,
      maxSubChannels: this.o.maxSubChannels,
      maxPktSize: 16384,
      onOpen: (ch) => {
        this.channels[ch.subChannelIndex] = ch;
        ch.onPacket = (pkt, c) => this.onPacket(pkt, c);
      },
      // Closing the primary releases the buffers as a real host does, revoked or not.
      onClose: (ch) => {
        if (ch.subChannelIndex !== 0) return;
        this.recv?.unmap();
        this.send?.unmap();
      },
    });
  }

  /** Runs a promise to completion while pumping the one-thread loop. */
  async pump<T>(p: Promise<T>, maxTurns = 20000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown = null;
    p.then((v) => ((done = true), (value = v)), (e: unknown) => ((done = true), (error = e ?? new Error('rejected'))));
    for (let i = 0; i < maxTurns && !done; i++) {
      this.bus.loop.drain();
      await new Promise<void>((r) => setImmediate(r));
    }
    if (!done) throw new Error('pump: promise did not settle');
    if (error !== null) throw error;
    return value as T;
  }

  /** Drains the loop and lets microtasks run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      this.bus.loop.drain();
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Sends frames to the guest on `queue`: one RNDIS PACKET per range, all in one transfer-page packet. */
  sendFrames(frames: readonly Uint8Array[], queue = 0): number {
    const ranges = frames.map((f) => {
      const at = this.takeSection();
      const msg = new Uint8Array(44 + f.length);
      writeRndisPacketHeader(new DataView(msg.buffer), 0, 0, f.length);
      msg.set(f, 44);
      this.recv!.write(at, msg, 0, msg.length);
      return { off: at, len: msg.length };
    });
    return this.sendXfer(ranges, queue);
  }

  /** Writes raw bytes at a receive section and returns its offset (to build attacks). */
  place(bytes: Uint8Array): number {
    const at = this.takeSection();
    this.recv!.write(at, bytes, 0, bytes.length);
    return at;
  }

  /**
   * A transfer-page packet with these ranges; `patch` may rewrite the header (offset8, pageset,
   * range_cnt) or the NVSP type. Returns its trans_id.
   */
  sendXfer(ranges: readonly { off: number; len: number }[], queue = 0, patch: { pageset?: number; nvspType?: number; rangeCount?: number; nvspLen?: number; headerLen?: number } = {}): number {
    const ch = this.channels[queue]!;
    const tid = this.nextTid++;
    const headerLen = patch.headerLen ?? 24 + 8 * ranges.length;
    const nvspLen = patch.nvspLen ?? NVSP_MESSAGE_SIZE;
    const w = ch.tx;
    if (!w.beginWrite(VM_PKT_DATA_USING_XFER_PAGES, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, tid, 0, headerLen, nvspLen)) throw new Error('host ring full');
    if (headerLen >= 24) {
      w.setU16(16, patch.pageset ?? NETVSC_RECEIVE_BUFFER_ID);
      w.setU32(20, patch.rangeCount ?? ranges.length);
      ranges.forEach((r, i) => {
        if (24 + 8 * i + 8 <= headerLen) {
          w.setU32(24 + 8 * i, r.len);
          w.setU32(28 + 8 * i, r.off);
        }
      });
    }
    const nv = new Uint8Array(NVSP_MESSAGE_SIZE);
    emitNvsp({ type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: 0xffffffff, sendBufSectionSize: 0 }, new DataView(nv.buffer), 0);
    if (patch.nvspType !== undefined) new DataView(nv.buffer).setUint32(0, patch.nvspType, true);
    if (nvspLen > 0) w.setBytes(headerLen, nv, 0, Math.min(nvspLen, NVSP_MESSAGE_SIZE));
    w.commitWrite();
    ch.flush();
    return tid;
  }

  /** Sends raw in-band bytes (NVSP) to the guest. */
  sendInband(bytes: Uint8Array, queue = 0): void {
    const ch = this.channels[queue]!;
    ch.sendInband(0, 0, bytes, 0, bytes.length);
    ch.flush();
  }

  /** Sends a raw completion to the guest (for unknown/duplicate id attacks). */
  sendCompletion(lo: number, body: Uint8Array | null, queue = 0): void {
    const ch = this.channels[queue]!;
    ch.sendCompletion(lo, 0, body, 0, body?.length ?? 0);
    ch.flush();
  }

  /** Releases the held NVSP 108 completions. */
  releaseSends(): void {
    this.holdSendCompletions = false;
    for (const h of this.heldSends.splice(0)) this.complete108(h.ch, h.lo, h.hi, 1);
  }

  private takeSection(): number {
    const n = Math.floor(this.recv!.len / this.o.recvSubAlloc);
    const at = (this.nextSection++ % n) * this.o.recvSubAlloc;
    return at;
  }

  private onPacket(pkt: VmbusPacket, ch: Channel): void {
    if (pkt.type === VM_PKT_COMP) {
      this.completions.set(pkt.transIdLo, pkt.dv.getUint32(pkt.payloadOffset + 4, true));
      return;
    }
    if (pkt.type !== VM_PKT_DATA_INBAND && pkt.type !== VM_PKT_DATA_USING_GPA_DIRECT) return;
    const msg = parseNvsp(pkt.dv, pkt.payloadOffset, pkt.payloadLen);
    this.nvsp.push(msg);
    const reply = (r: NvspMessage): void => {
      const out = this.o.mutate?.completion ? this.o.mutate.completion(msg, r) : r;
      if (!out) return;
      const b = new Uint8Array(64);
      const n = emitNvsp(out, new DataView(b.buffer), 0);
      ch.sendCompletion(pkt.transIdLo, pkt.transIdHi, b, 0, n);
      ch.flush();
    };
    switch (msg.type) {
      case 1: {
        const ok = msg.maxProtocolVer <= this.o.version;
        return reply({ type: NVSP_MSG_TYPE_INIT_COMPLETE, negotiatedProtocolVer: msg.maxProtocolVer, maxMdlChainLen: 0, status: ok ? 1 : 2 });
      }
      case 101: {
        this.recv = this.bus.host.mapGpadl(msg.gpadlHandle);
        const n = Math.floor(this.recv.len / this.o.recvSubAlloc);
        return reply({ type: NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, status: 1, numSections: 1, sections: [{ offset: 0, subAllocSize: this.o.recvSubAlloc, numSubAllocs: n, endOffset: n * this.o.recvSubAlloc }] });
      }
      case 104:
        this.send = this.bus.host.mapGpadl(msg.gpadlHandle);
        return reply({ type: NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, status: 1, sectionSize: this.o.sendSectionSize });
      case 103:
        this.recv?.unmap();
        return;
      case 106:
        this.send?.unmap();
        return;
      case NVSP_MSG5_TYPE_SUBCHANNEL: {
        if (msg.completion) return;
        const granted = Math.min(msg.numSubchannels, this.o.maxSubChannels);
        const have = this.device.relids.length - 1;
        if (granted > have) this.device.offerSubChannels(granted - have);
        reply({ type: NVSP_MSG5_TYPE_SUBCHANNEL, completion: true, status: 1, numSubchannels: granted });
        if (this.o.sendTable) {
          const t = new Uint8Array(12 + 64);
          const dv = new DataView(t.buffer);
          dv.setUint32(0, 134, true);
          dv.setUint32(4, 16, true);
          dv.setUint32(8, 12, true);
          this.o.sendTable.forEach((v, i) => dv.setUint32(12 + 4 * i, v, true));
          this.sendInband(t);
        }
        return;
      }
      case NVSP_MSG1_TYPE_SEND_RNDIS_PKT:
        return this.rndisPacket(pkt, ch, msg.channelType, msg.sendBufSectionIndex, msg.sendBufSectionSize);
      default:
        return;
    }
  }

  private rndisPacket(pkt: VmbusPacket, ch: Channel, channelType: number, section: number, sectionSize: number): void {
    // The bytes: section prefix, then each GPA range in order (§4.4 host-side interpretation).
    const parts: Uint8Array[] = [];
    if (section !== 0xffffffff) {
      const b = new Uint8Array(sectionSize);
      this.send!.read(section * this.o.sendSectionSize, b, 0, sectionSize);
      parts.push(b);
    }
    if (pkt.type === VM_PKT_DATA_USING_GPA_DIRECT) {
      const it = new GpaRangeIterator().bind(pkt.dv, 0, pkt.len);
      while (it.next()) {
        const b = new Uint8Array(it.byteCount);
        this.bus.host.gpadls.readGpa(it.pfnLo(0), it.pfnCount, it.byteOffset, it.byteCount, b, 0);
        parts.push(b);
      }
    }
    const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) all.set(p, (o += p.length) - p.length);
    const dv = new DataView(all.buffer);
    if (channelType === 1) {
      this.complete108(ch, pkt.transIdLo, pkt.transIdHi, 1);
      return this.control(all);
    }
    if (pkt.type === VM_PKT_DATA_INBAND) this.dataInband++;
    else this.dataGpa++;
    const v = new RndisPacketView();
    for (let at = 0; at < all.length; ) {
      const len = dv.getUint32(at + 4, true);
      if (dv.getUint32(at, true) !== RNDIS_MSG_PACKET) throw new Error(`not a PACKET at ${at}`);
      v.bind(dv, at, len);
      this.frames.push({ bytes: all.slice(v.dataStart, v.dataStart + v.dataLength), queue: ch.subChannelIndex, ppiLen: v.ppiLength });
      at += len;
    }
    if (this.holdSendCompletions) this.heldSends.push({ ch, lo: pkt.transIdLo, hi: pkt.transIdHi });
    else this.complete108(ch, pkt.transIdLo, pkt.transIdHi, 1);
  }

  private complete108(ch: Channel, lo: number, hi: number, status: number): void {
    const b = new Uint8Array(NVSP_MESSAGE_SIZE);
    emitNvsp({ type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status }, new DataView(b.buffer), 0);
    ch.sendCompletion(lo, hi, b, 0, 8);
    ch.flush();
  }

  private control(bytes: Uint8Array): void {
    this.rndisBytes.push(bytes);
    const req = parseRndis(new DataView(bytes.buffer), 0, bytes.length);
    this.rndis.push(req);
    let r: RndisMessage | null = null;
    if (req.ndisMsgType === RNDIS_MSG_INIT) {
      r = { ndisMsgType: RNDIS_MSG_INIT_C, msgLen: 52, reqId: req.reqId, status: 0, majorVer: 1, minorVer: 0, devFlags: 1, medium: 0, maxPktPerMsg: this.o.maxPktPerMsg, maxXferSize: 0x4000, pktAlignmentFactor: this.o.alignFactor, afListOffset: 0, afListSize: 0 };
    } else if (req.ndisMsgType === RNDIS_MSG_QUERY) {
      const info = this.queryInfo(req.oid, bytes);
      r = info
        ? { ndisMsgType: RNDIS_MSG_QUERY_C, msgLen: 24 + info.length, reqId: req.reqId, status: 0, infoBuflen: info.length, infoBufOffset: 16, infoBuf: info }
        : { ndisMsgType: RNDIS_MSG_QUERY_C, msgLen: 24, reqId: req.reqId, status: 0xc00000bb, infoBuflen: 0, infoBufOffset: 0 };
    } else if (req.ndisMsgType === RNDIS_MSG_SET) {
      r = { ndisMsgType: RNDIS_MSG_SET_C, msgLen: 16, reqId: req.reqId, status: 0 };
    }
    if (!r) return;
    const out = this.o.mutate?.rndis ? this.o.mutate.rndis(req, r) : r;
    if (out) this.sendControl(out);
  }

  /** Writes an RNDIS control message into a receive section and sends it on channel 0. */
  sendControl(m: RndisMessage): number {
    const b = new Uint8Array(Math.max(m.msgLen, 64));
    const n = emitRndis(m, new DataView(b.buffer), 0);
    const at = this.place(b.subarray(0, n));
    return this.sendXfer([{ off: at, len: n }]);
  }

  private queryInfo(oid: number, req: Uint8Array): Uint8Array | null {
    const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
    switch (oid) {
      case RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE:
        return u32(1500);
      case RNDIS_OID_802_3_PERMANENT_ADDRESS:
        return Uint8Array.of(0x00, 0x15, 0x5d, 0x01, 0x02, 0x03);
      case RNDIS_OID_GEN_FRIENDLY_NAME:
        return new Uint8Array(Buffer.from('Network Adapter\0', 'utf16le'));
      case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES: {
        const size = new DataView(req.buffer).getUint16(28 + 2, true);
        const b = new Uint8Array(size);
        emitOffload({ header: { type: NDIS_OBJECT_TYPE_OFFLOAD, revision: size === 156 ? 3 : size === 144 ? 2 : 1, size }, csum: { ip4Txcsum: 0x54, ip4Rxcsum: 0x54, ip6Txcsum: 0x55, ip6Rxcsum: 0x55 }, lsov2: { ip4Encap: 2, ip4Maxsz: 62780, ip4Minsg: 2, ip6Encap: 2, ip6Maxsz: 62780, ip6Minsg: 2, ip6Opts: 5 }, ...(size === 156 ? { rsc: { ip4: 1, ip6: 1 } } : {}) }, new DataView(b.buffer), 0);
        return b;
      }
      case RNDIS_OID_GEN_MEDIA_CONNECT_STATUS:
        return u32(0);
      case RNDIS_OID_GEN_LINK_SPEED:
        return u32(100_000_000);
      case OID_GEN_RECEIVE_SCALE_CAPABILITIES: {
        const b = new Uint8Array(18);
        emitRssCaps({ hdr: { type: NDIS_OBJECT_TYPE_RSS_CAPABILITIES, rev: 2, size: 18 }, capFlag: 0, numIntMsg: 0, numRecvQue: this.o.numRecvQue, numIndirectTabent: 128 }, new DataView(b.buffer), 0);
        return b;
      }
      default:
        return null;
    }
  }
}
