// A scripted netvsc guest (peers.md §2.1, openvmm's TestNicChannel): raw NVSP and RNDIS over a
// real Channel pair in one thread, against the real host. It does only what a test tells it:
// every message is built with src/wire, every reply decoded with src/wire.
import {
  Doorbell, EventLoop, GuestMemory, inMemoryLinkPair, newHostDoorbellSab, PageAllocator, SIGNAL_SAB_BYTES,
  VmbusGuest, VmbusHost, PAGE_SIZE, type Channel, type VmbusPacket,
} from '../../src/vmbus/index.js';
import * as W from '../../src/wire/index.js';
import type { NvspMessage, RndisMessage } from '../../src/wire/index.js';
import { HypervHost, type HostNic, type NicOptions } from '../../src/host/index.js';

/** One VM's end: its memory, bus and open primary channel. */
export interface GuestVm {
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly host: VmbusHost;
  readonly guest: VmbusGuest;
}

/** Host + any number of VMs on one loop (single-thread mode). */
export class TestLab {
  readonly loop: EventLoop;
  readonly doorbell: Doorbell;
  constructor(readonly hv: HypervHost) {
    this.doorbell = Doorbell.host(newHostDoorbellSab());
    this.loop = new EventLoop(this.doorbell);
    this.loop.add(hv);
  }

  vm(id: string, pages = 4096): GuestVm {
    const memory = GuestMemory.create(pages);
    const allocator = new PageAllocator(pages);
    const signals = new SharedArrayBuffer(SIGNAL_SAB_BYTES);
    const [hostLink, guestLink] = inMemoryLinkPair();
    const host = new VmbusHost({ memory: memory.sab, signals, link: hostLink, loop: this.loop });
    const guest = new VmbusGuest({ memory, allocator, signals, hostDoorbell: this.doorbell, link: guestLink, loop: this.loop });
    this.hv.attachVm(id, host);
    return { memory, allocator, host, guest };
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 20; j++) await Promise.resolve();
      this.loop.drain();
    }
  }
}

/** A received transfer-page packet: its trans_id and the bytes of each range. */
export interface GuestRx {
  readonly lo: number;
  readonly hi: number;
  readonly ranges: { readonly offset: number; readonly bytes: Uint8Array }[];
}

export interface BringUpOptions {
  readonly version?: number;
  readonly mtu?: number;
  readonly recvPages?: number;
  readonly sendPages?: number;
  /** Scatter buffer pages so GPADLs are not physically contiguous. */
  readonly scatter?: boolean;
}

const NO_RESPONSE = 0xfffffffd;

export class ScriptedGuest {
  ch!: Channel;
  readonly nic: HostNic;
  readonly completions = new Map<number, Uint8Array>();
  readonly inband: Uint8Array[] = [];
  readonly rx: GuestRx[] = [];
  recvPfns: number[] = [];
  sendPfns: number[] = [];
  ctrlPfns: number[] = [];
  sendSectionSize = 0;
  recvSectionSize = 0;
  private nextCookie = 1;
  private readonly xfer = new W.TransferPageView();

  constructor(readonly lab: TestLab, readonly vm: GuestVm, nic: NicOptions & { vmId: string }) {
    this.nic = lab.hv.addNic(nic.vmId, nic);
  }

  static async create(lab: TestLab, vmId: string, nic: NicOptions): Promise<ScriptedGuest> {
    const vm = lab.vm(vmId);
    const g = new ScriptedGuest(lab, vm, { ...nic, vmId });
    const offers = await vm.guest.requestOffers();
    g.ch = await vm.guest.open(offers[0]!, { ringPages: 32, maxPktSize: W.NETVSC_MAX_PKT_SIZE });
    g.ch.onPacket = (pkt) => g.onPacket(pkt);
    return g;
  }

  /** Sends an NVSP message in-band; with `request` a completion is asked for and its cookie returned. */
  send(msg: NvspMessage, request = true, ch: Channel = this.ch): number {
    const b = new Uint8Array(W.nvspSize(msg));
    W.emitNvsp(msg, new DataView(b.buffer), 0);
    return this.sendRaw(b, request, ch);
  }

  sendRaw(b: Uint8Array, request = true, ch: Channel = this.ch): number {
    if (!request) {
      ch.sendInband(NO_RESPONSE, 0xffffffff, b, 0, b.length);
      ch.flush();
      return 0;
    }
    const cookie = this.nextCookie++;
    if (ch.sendRequest(cookie, b, 0, b.length) === 0) throw new Error('ring or requestor full');
    ch.flush();
    return cookie;
  }

  /** Sends and waits for the completion; returns its payload bytes. */
  async request(msg: NvspMessage): Promise<Uint8Array> {
    const cookie = this.send(msg);
    await this.lab.settle();
    const c = this.completions.get(cookie);
    if (!c) throw new Error(`no completion for NVSP ${msg.type}`);
    this.completions.delete(cookie);
    return c;
  }

  static parse(payload: Uint8Array, completion = false): NvspMessage {
    return W.parseNvsp(new DataView(payload.buffer, payload.byteOffset, payload.byteLength), 0, payload.length, { completion });
  }

  async bringUp(o: BringUpOptions = {}): Promise<{ init: NvspMessage; recv: NvspMessage; send: NvspMessage | null }> {
    const v = o.version ?? W.NVSP_PROTOCOL_VERSION_61;
    const init = ScriptedGuest.parse(await this.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: v, maxProtocolVer: v }));
    if (v !== W.NVSP_PROTOCOL_VERSION_1) this.send({ type: W.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, mtu: (o.mtu ?? 1500) + 14, reserved: 0, capability: { ieee8021q: 1 } }, false);
    const ndis30 = v > W.NVSP_PROTOCOL_VERSION_4;
    this.send({ type: W.NVSP_MSG1_TYPE_SEND_NDIS_VER, ndisMajorVer: 6, ndisMinorVer: ndis30 ? 30 : 1 }, false);
    this.recvPfns = this.vm.allocator.allocPages(o.recvPages ?? 64, o.scatter ?? false);
    const rh = await this.vm.guest.establishGpadl(this.recvPfns);
    const recv = ScriptedGuest.parse(await this.request({ type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: rh, id: W.NETVSC_RECEIVE_BUFFER_ID }));
    if (recv.type === W.NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE && recv.sections[0]) this.recvSectionSize = recv.sections[0].subAllocSize;
    let send: NvspMessage | null = null;
    if ((o.sendPages ?? 32) > 0) {
      this.sendPfns = this.vm.allocator.allocPages(o.sendPages ?? 32, o.scatter ?? false);
      const sh = await this.vm.guest.establishGpadl(this.sendPfns);
      send = ScriptedGuest.parse(await this.request({ type: W.NVSP_MSG1_TYPE_SEND_SEND_BUF, gpadlHandle: sh, id: 0 }));
      if (send.type === W.NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE) this.sendSectionSize = send.sectionSize;
    }
    return { init, recv, send };
  }

  /** Bytes at a GPADL offset of a buffer described by `pfns`. */
  read(pfns: readonly number[], off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const o = off + i;
      out[i] = this.vm.memory.u8[pfns[Math.floor(o / PAGE_SIZE)]! * PAGE_SIZE + (o % PAGE_SIZE)]!;
    }
    return out;
  }

  write(pfns: readonly number[], off: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const o = off + i;
      this.vm.memory.u8[pfns[Math.floor(o / PAGE_SIZE)]! * PAGE_SIZE + (o % PAGE_SIZE)] = bytes[i]!;
    }
  }

  /**
   * Sends an NVSP 107 as GPA-direct: optional section prefix, then one range per `ranges` entry
   * ({pfns, offset, count}); returns the cookie.
   */
  sendGpaDirect(channelType: number, section: number, sectionSize: number, ranges: readonly { pfns: readonly number[]; offset: number; count: number }[], ch: Channel = this.ch): number {
    const nvsp = new Uint8Array(40);
    W.emitNvsp({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType, sendBufSectionIndex: section >>> 0, sendBufSectionSize: sectionSize }, new DataView(nvsp.buffer), 0);
    let hdr = 24;
    for (const r of ranges) hdr += 8 + 8 * r.pfns.length;
    const cookie = this.nextCookie++;
    const id = ch.requestor!.alloc(cookie);
    const tx = ch.tx;
    if (!tx.beginWrite(W.VM_PKT_DATA_USING_GPA_DIRECT, W.VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, id, 0, hdr, 40)) throw new Error('ring full');
    tx.setU32(16, 0);
    tx.setU32(20, ranges.length);
    let p = 24;
    for (const r of ranges) {
      tx.setU32(p, r.count);
      tx.setU32(p + 4, r.offset);
      r.pfns.forEach((pfn, j) => {
        tx.setU32(p + 8 + 8 * j, pfn);
        tx.setU32(p + 12 + 8 * j, 0);
      });
      p += 8 + 8 * r.pfns.length;
    }
    tx.setBytes(hdr, nvsp, 0, 40);
    tx.commitWrite();
    ch.flush();
    return cookie;
  }

  /** An RNDIS control message through a fresh page (GPA-direct, §3.8); returns the decoded reply. */
  async rndis(msg: RndisMessage | Uint8Array): Promise<RndisMessage | null> {
    const bytes = msg instanceof Uint8Array ? msg : (() => {
      const b = new Uint8Array(W.rndisMessageSize(msg));
      W.emitRndis(msg, new DataView(b.buffer), 0);
      return b;
    })();
    // GPA-direct pages must lie in a GPADL of this VM (vmbus GpadlTable.readGpa), so control
    // messages come from two pages described once, like a driver's DMA-able request pool.
    if (this.ctrlPfns.length === 0) {
      this.ctrlPfns = this.vm.allocator.allocPages(2);
      await this.vm.guest.establishGpadl(this.ctrlPfns);
    }
    this.write(this.ctrlPfns, 0, bytes);
    const before = this.rx.length;
    this.sendGpaDirect(1, -1, 0, [{ pfns: this.ctrlPfns.slice(0, Math.ceil(bytes.length / PAGE_SIZE)), offset: 0, count: bytes.length }]);
    await this.lab.settle();
    const got = this.rx.slice(before);
    this.completeRx();
    await this.lab.settle();
    const r = got.flatMap((x) => x.ranges)[0];
    if (!r) return null;
    return W.parseRndis(new DataView(r.bytes.buffer), 0, r.bytes.length);
  }

  /** Completes (type 11 + NVSP 108) every received transfer-page packet, or the first `n`. */
  completeRx(n = this.rx.length, status: number = W.NVSP_STAT_SUCCESS): void {
    const body = new Uint8Array(40);
    W.emitNvsp({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status }, new DataView(body.buffer), 0);
    for (const r of this.rx.splice(0, n)) this.ch.sendCompletion(r.lo, r.hi, body, 0, 8);
    this.ch.flush();
  }

  /** The frames (RNDIS PACKET data) of every received range, decoded with RndisPacketView. */
  frames(rx: readonly GuestRx[] = this.rx): { data: Uint8Array; slots: W.PpiSlots }[] {
    const out: { data: Uint8Array; slots: W.PpiSlots }[] = [];
    const v = new W.RndisPacketView();
    for (const r of rx) {
      for (const range of r.ranges) {
        const dv = new DataView(range.bytes.buffer);
        v.bind(dv, 0, range.bytes.length);
        const slots = new W.PpiSlots();
        v.readPpis(slots);
        out.push({ data: range.bytes.slice(v.dataStart, v.dataStart + v.dataLength), slots });
      }
    }
    return out;
  }

  private onPacket(pkt: VmbusPacket): void {
    const payload = pkt.buf.slice(pkt.payloadOffset, pkt.len);
    if (pkt.type === W.VM_PKT_COMP) {
      this.completions.set(this.ch.completeRequest(pkt), payload);
    } else if (pkt.type === W.VM_PKT_DATA_INBAND) {
      this.inband.push(payload);
    } else if (pkt.type === W.VM_PKT_DATA_USING_XFER_PAGES) {
      const x = this.xfer.bind(pkt.dv, 0, pkt.len);
      const ranges: { offset: number; bytes: Uint8Array }[] = [];
      for (let i = 0; i < x.rangeCount; i++) ranges.push({ offset: x.rangeOffset(i), bytes: this.read(this.recvPfns, x.rangeOffset(i), x.rangeLength(i)) });
      this.rx.push({ lo: pkt.transIdLo, hi: pkt.transIdHi, ranges });
    }
  }
}
