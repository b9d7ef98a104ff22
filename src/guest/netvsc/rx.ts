import { MSG_DIR_RX, MSG_LAYER_RNDIS, type MessageObserver } from '../../core/index.js';
import { alignGap, copyBytes } from '../../packet/index.js';
import {
  NETVSC_RECEIVE_BUFFER_ID,
  NVSP_MSG1_TYPE_SEND_RNDIS_PKT,
  NVSP_RSC_MAX,
  PPI_CSUM,
  PPI_HASH,
  PPI_PKTINFO_ID,
  PPI_VLAN,
  PpiSlots,
  RNDIS_MSG_INDICATE,
  RNDIS_MSG_INIT_C,
  RNDIS_MSG_PACKET,
  RNDIS_MSG_QUERY_C,
  RNDIS_MSG_SET_C,
  RNDIS_PKTINFO_1ST_FRAG,
  RNDIS_PKTINFO_LAST_FRAG,
  RNDIS_PKTINFO_SUBALLOC,
  RndisPacketView,
  TransferPageView,
  pktinfoFlag,
} from '../../wire/index.js';
import type { GuestMemory, VmbusPacket } from '../../vmbus/index.js';
import type { GuestCounters } from './counters.js';
import { RX_F_CSUM, RX_F_FRAGS, RX_F_HASH, RX_F_RSC, RX_F_VLAN, newRxMeta, type ReceiveHandler, type RxMeta } from './meta.js';
import type { RxCompletions } from './rx-completions.js';

/** Handles a control message range (responses, indications); false fails the range. */
export type ControlHandler = (u8: Uint8Array, at: number, rangeLen: number, type: number, msgLen: number) => boolean;

export interface RxQueueOptions {
  readonly queue: number;
  readonly memory: GuestMemory;
  readonly recvBufGpa: number;
  readonly recvBufSize: number;
  /** sub_alloc_size from the host's receive-buffer completion (§3.6 step 5). */
  readonly recvSectionSize: number;
  readonly completions: RxCompletions;
  readonly counters: GuestCounters;
  readonly onControl: ControlHandler;
  /** Largest reassembled RSC packet. */
  readonly rscBytes: number;
  /**
   * Guest-physical address of the RSC reassembly buffer (rscBytes, contiguous) in `memory`, where
   * the driver's receive data lives: fragments move into it with copyWithin (native, within the one
   * SharedArrayBuffer, no view made per copy) and the packet is handed up in place. Absent: a
   * private array (copyBytes).
   */
  readonly rscGpa?: number;
}

/**
 * One queue's receive path (protocol.md §2.9, §3.8, §5.6, §8 items 21–39). Every transfer-page
 * packet is completed exactly once — also the ones rejected whole (items 21–25), which Linux
 * leaves uncompleted so the host never gets that buffer space back. Each range is one RNDIS
 * message read in place in the receive buffer: a data frame goes to the handler straight from
 * there (zero copies; RSC fragments are copied once into the reassembly buffer, or with
 * `fragmentList` on handed up as a list of their places in the receive buffer, RX_F_FRAGS).
 */
export class RxQueue {
  onReceive: ReceiveHandler = () => {};
  /** Called after each transfer-page packet (the end of a host burst): GRO flushes here. */
  onBatchEnd: () => void = () => {};
  packets = 0;
  bytes = 0;
  /** Sees each RNDIS message received, a data packet's header + PPIs only (the trace, issue 7), or null. */
  observer: MessageObserver | null = null;
  /**
   * Contract B (NetvscDevice.setRxFragments): an RSC packet goes up as a fragment list in the receive
   * buffer (RX_F_FRAGS, meta.fragOff/fragLen) instead of being copied into the reassembly buffer.
   * Read at each packet's first fragment, so a change never splits one packet between the modes.
   */
  fragmentList = false;
  private readonly xfer = new TransferPageView();
  private readonly pkt = new RndisPacketView();
  private readonly slots = new PpiSlots();
  private readonly meta: RxMeta;
  private readonly rscMeta: RxMeta;
  private readonly dv: DataView;
  private readonly u8: Uint8Array;
  /** Guest memory (u8) when the options give rscGpa, else a private array. */
  private readonly rscBuf: Uint8Array;
  /** Where the reassembly buffer starts in rscBuf. */
  private readonly rscBase: number;
  private rscActive = false;
  private rscLen = 0;
  /** Where the packet being reassembled starts in rscBuf (rscBase + 0–7). */
  private rscAt = 0;
  private rscCount = 0;
  /** fragmentList as it was at this packet's first fragment. */
  private rscList = false;
  private readonly s: Readonly<Record<'badNvsp' | 'badHdr' | 'badSet' | 'badRange' | 'big' | 'badRndis' | 'unknown' | 'badRsc' | 'fail' | 'busy' | 'dropped', number>>;

  constructor(private readonly o: RxQueueOptions) {
    this.meta = newRxMeta(o.queue);
    this.rscMeta = newRxMeta(o.queue, NVSP_RSC_MAX);
    this.dv = new DataView(o.memory.sab);
    this.u8 = o.memory.u8;
    this.rscBuf = o.rscGpa !== undefined ? this.u8 : new Uint8Array(o.rscBytes);
    this.rscBase = o.rscGpa ?? 0;
    const c = o.counters;
    this.s = {
      badNvsp: c.slot('rx_bad_nvsp'),
      badHdr: c.slot('rx_bad_xfer_header'),
      badSet: c.slot('rx_bad_pageset'),
      badRange: c.slot('rx_bad_range'),
      big: c.slot('rx_range_too_big'),
      badRndis: c.slot('rx_bad_rndis'),
      unknown: c.slot('rx_unknown_rndis'),
      badRsc: c.slot('rx_bad_rsc'),
      fail: c.slot('rx_completed_fail'),
      busy: c.slot('rx_comp_busy'),
      dropped: c.slot('rx_comp_dropped'),
    };
  }

  /** Bytes of the RSC reassembly buffer (the allocation bound a hostile sub_alloc_size must not raise). */
  get rscCapacity(): number {
    return this.o.rscBytes;
  }

  /** A VM_PKT_DATA_USING_XFER_PAGES packet (its private copy). */
  receive(p: VmbusPacket): void {
    this.complete(p, this.process(p));
    this.onBatchEnd();
  }

  private process(p: VmbusPacket): boolean {
    const c = this.o.counters;
    const hdrLen = p.offset8 * 8;
    if (hdrLen < 24) return this.reject(this.s.badHdr); // item 23
    const nvspLen = p.len - hdrLen;
    if (nvspLen < 4 || p.dv.getUint32(hdrLen, true) !== NVSP_MSG1_TYPE_SEND_RNDIS_PKT) return this.reject(this.s.badNvsp); // items 21, 22
    if (p.dv.getUint16(16, true) !== NETVSC_RECEIVE_BUFFER_ID) return this.reject(this.s.badSet); // item 24
    if (24 + 8 * p.dv.getUint32(20, true) > hdrLen) return this.reject(this.s.badHdr); // item 25
    const x = this.xfer.bind(p.dv, 0, p.len); // cannot throw now: the checks above are its checks
    let ok = true;
    const n = x.rangeCount;
    for (let i = 0; i < n; i++) {
      const off = x.rangeOffset(i);
      const len = x.rangeLength(i);
      let good: boolean;
      if (off > this.o.recvBufSize || len > this.o.recvBufSize - off) good = this.reject(this.s.badRange); // item 26
      else if (len > this.o.recvSectionSize) good = this.reject(this.s.big); // item 27
      else good = this.range(this.o.recvBufGpa + off, len, i === n - 1);
      if (!good) {
        ok = false;
        this.rscActive = false; // item 28: any failure resets the RSC state
      }
    }
    if (this.rscActive) {
      // More fragments were promised but the packet ended (item 34): fragments never span packets.
      c.add(this.s.badRsc);
      this.rscActive = false;
      ok = false;
    }
    return ok;
  }

  /** One RNDIS message at absolute `at` (items 29–34). */
  private range(at: number, len: number, last: boolean): boolean {
    if (len < 8) return this.reject(this.s.badRndis); // item 29
    const type = this.dv.getUint32(at, true);
    const msgLen = this.dv.getUint32(at + 4, true);
    if (msgLen < 8 || msgLen > len) return this.reject(this.s.badRndis); // item 30
    if (this.observer !== null) {
      const n = type === RNDIS_MSG_PACKET && msgLen >= 12 ? Math.min(msgLen, 8 + this.dv.getUint32(at + 8, true)) : msgLen;
      this.observer.message(MSG_DIR_RX, this.o.queue, MSG_LAYER_RNDIS, this.u8, at, n);
    }
    switch (type) {
      case RNDIS_MSG_PACKET:
        return this.data(at, len, last);
      case RNDIS_MSG_INIT_C:
      case RNDIS_MSG_QUERY_C:
      case RNDIS_MSG_SET_C:
      case RNDIS_MSG_INDICATE:
        return this.o.onControl(this.u8, at, len, type, msgLen);
      default:
        return this.reject(this.s.unknown); // item 31: RESET_C, KEEPALIVE, … are not handled
    }
  }

  private data(at: number, len: number, last: boolean): boolean {
    const v = this.pkt;
    const slots = this.slots;
    try {
      v.bind(this.dv, at, len); // item 32
      v.readPpis(slots); // item 33: a walk that cannot advance stops with an error, never spins
    } catch {
      return this.reject(this.s.badRndis);
    }
    if ((slots.present & PPI_PKTINFO_ID) !== 0 && (pktinfoFlag(slots.pktinfoId) & RNDIS_PKTINFO_SUBALLOC) !== 0) return this.fragment(v, last);
    if (this.rscActive) return this.reject(this.s.badRsc); // a plain packet inside an RSC run
    const m = this.meta;
    fillMeta(m, slots);
    m.fragments = 1;
    this.packets++;
    this.bytes += v.dataLength;
    this.onReceive(this.u8, v.dataStart, v.dataLength, m);
    return true;
  }

  /** RSC reassembly (§5.6, item 34). */
  private fragment(v: RndisPacketView, last: boolean): boolean {
    const flag = pktinfoFlag(this.slots.pktinfoId);
    if (flag & RNDIS_PKTINFO_1ST_FRAG) {
      this.rscActive = true;
      // Reassemble from the offset that keeps the first fragment's bytes at their receive-buffer
      // address mod 8; the host cuts fragments in multiples of 8 and keeps that alignment in each,
      // so every fragment's copy runs word-wise (packet/copy alignGap).
      this.rscAt = this.rscBase + alignGap(this.u8.byteOffset + v.dataStart, this.rscBuf.byteOffset + this.rscBase);
      this.rscLen = 0;
      this.rscCount = 0;
      this.rscList = this.fragmentList;
      fillMeta(this.rscMeta, this.slots); // the first fragment's PPIs apply to the whole packet
      this.rscMeta.flags |= RX_F_RSC;
    } else if (!this.rscActive) return this.reject(this.s.badRsc);
    // The same bound in both modes (a list needs no buffer, but accepts and refuses what reassembly does).
    if (this.rscCount >= NVSP_RSC_MAX || this.rscAt + this.rscLen + v.dataLength > this.rscBase + this.o.rscBytes) {
      this.rscActive = false;
      return this.reject(this.s.badRsc);
    }
    if (this.rscList) {
      this.rscMeta.fragOff[this.rscCount] = v.dataStart;
      this.rscMeta.fragLen[this.rscCount] = v.dataLength;
    } else {
      const to = this.rscAt + this.rscLen;
      if (this.rscBuf === this.u8) this.u8.copyWithin(to, v.dataStart, v.dataStart + v.dataLength);
      else copyBytes(this.u8, v.dataStart, this.rscBuf, to, v.dataLength);
    }
    this.rscLen += v.dataLength;
    this.rscCount++;
    if ((flag & RNDIS_PKTINFO_LAST_FRAG) === 0) {
      if (!last) return true;
      this.rscActive = false;
      return this.reject(this.s.badRsc);
    }
    this.rscActive = false;
    const m = this.rscMeta;
    m.fragments = this.rscCount;
    this.packets++;
    this.bytes += this.rscLen;
    if (this.rscList) {
      // Handed up only now that the whole packet checked out; the fragments stay in the receive
      // buffer until this transfer-page packet is completed, after the handler returns.
      m.flags |= RX_F_FRAGS;
      this.onReceive(this.u8, m.fragOff[0]!, this.rscLen, m);
    } else this.onReceive(this.rscBuf, this.rscAt, this.rscLen, m);
    return true;
  }

  private reject(slot: number): false {
    this.o.counters.add(slot);
    return false;
  }

  private complete(p: VmbusPacket, ok: boolean): void {
    if (!ok) this.o.counters.add(this.s.fail);
    const r = this.o.completions.complete(p.transIdLo, p.transIdHi, ok);
    if (r === 'queued') this.o.counters.add(this.s.busy);
    else if (r === 'dropped') this.o.counters.add(this.s.dropped);
  }
}

function fillMeta(m: RxMeta, s: PpiSlots): void {
  let f = 0;
  if (s.present & PPI_CSUM) {
    f |= RX_F_CSUM;
    m.csum = s.csum;
  }
  if (s.present & PPI_VLAN) {
    f |= RX_F_VLAN;
    m.vlan = s.vlan;
  }
  if (s.present & PPI_HASH) {
    f |= RX_F_HASH;
    m.hash = s.hash;
  }
  m.flags = f;
}
