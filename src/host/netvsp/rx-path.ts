/**
 * Receive path of one queue (protocol.md §2.9, §3.8, §4.2): RNDIS messages are written straight
 * into receive sections through the GPADL and collected into a burst; flush() sends the burst as
 * ONE transfer-page packet (type 7, xfer_pageset_id 0xCAFE) with one range per RNDIS message.
 * Several small messages share a section; a section returns to the pool only when the guest
 * completes the packet. Nothing here allocates per frame.
 */
import {
  emitNvsp,
  NETVSC_INVALID_INDEX,
  NETVSC_RECEIVE_BUFFER_ID,
  NVSP_MSG1_TYPE_SEND_RNDIS_PKT,
  nvspSize,
  RNDIS_PACKET_HEADER_SIZE,
  PPI_SIZE,
  VM_PKT_DATA_USING_XFER_PAGES,
  VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
  writePpi,
  writeRndisPacketHeader,
  TCPIP_CHKSUM_PKTINFO,
  NBL_HASH_VALUE,
  IEEE_8021Q_INFO,
  NVSP_RSC_MAX,
  packPktinfoId,
  RNDIS_PKTINFO_1ST_FRAG,
  RNDIS_PKTINFO_ID,
  RNDIS_PKTINFO_ID_V1,
  RNDIS_PKTINFO_LAST_FRAG,
  RNDIS_PKTINFO_SUBALLOC,
} from '../../wire/index.js';
import { MSG_DIR_TX, MSG_LAYER_NVSP, MSG_LAYER_RNDIS, type MessageObserver } from '../../core/index.js';
import { ALIGN_MIN_LEN, alignGap, copyBytes } from '../../packet/index.js';
import { FragmentViews } from './frag-views.js';
import { RscCoalescer } from './rsc.js';
import { newContiguousRun, RingWriter, type Channel } from '../../vmbus/index.js';
import type { QueueCounters } from '../counters.js';
import type { PortFrameMeta } from '../vswitch/port.js';
import { copyToGpadl } from './guest-bytes.js';
import type { RecvBuffer } from './recv-buffer.js';

/** `vmtransfer_page_packet_header` (§2.9): pageset id @16, sender_owns_set @18, range_cnt @20, ranges @24 {byte_count, byte_offset}. */
const XFER_PAGESET_ID_AT = 16;
const XFER_RANGE_COUNT_AT = 20;
const XFER_RANGES_AT = 24;
const XFER_RANGE_SIZE = 8;

export interface RxPathOptions {
  /** Ranges per transfer-page packet; the guest's 4624-byte private copy allows up to 572. */
  readonly maxRanges?: number;
}
const DEFAULTS = { maxRanges: 64 } as const;

/** The NVSP 107 payload every transfer-page packet carries (§3.8: the guest ignores its fields). */
const NVSP_RNDIS_PKT = { type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: NETVSC_INVALID_INDEX >>> 0, sendBufSectionSize: 0 } as const;

export class RxPath {
  private recv: RecvBuffer | null = null;
  /** Sees each RNDIS message written for the guest (header + PPIs of a data packet) and each NVSP 107 sent (the trace, issue 7), or null. */
  observer: MessageObserver | null = null;
  private readonly maxRanges: number;
  private readonly rangeOff: Uint32Array;
  private readonly rangeLen: Uint32Array;
  private rangeCount = 0;
  private slot = -1;
  private section = -1;
  private fill = 0;
  /** Frames (not control messages) in the unsent burst. */
  private burstFrames = 0;
  private readonly nvsp: Uint8Array;
  private readonly nvspLen: number;
  /**
   * Header scratch. Only the header and PPIs are written here (what follows stays zero: the
   * alignment gap is copied from it), but writeRndisPacketHeader checks
   * that the whole message would fit its DataView, so it spans the largest message too.
   */
  private readonly hdr = new Uint8Array(RNDIS_PACKET_HEADER_SIZE + 4 * PPI_SIZE + 65536 + 8);
  private readonly hdrDv = new DataView(this.hdr.buffer);
  /** Where headers are being written: guest memory (memU8/memDv) or the scratch (see headerAt). */
  private hU8: Uint8Array = this.hdr;
  private hDv: DataView = this.hdrDv;
  private memU8: Uint8Array | null = null;
  private memDv: DataView = this.hdrDv;
  private readonly run = newContiguousRun();
  private readonly sPackets: number;
  private readonly sBytes: number;
  private readonly sNoSection: number;
  private readonly sRingFull: number;
  private readonly sXfer: number;

  constructor(
    private readonly ch: Channel,
    private readonly counters: QueueCounters,
    o: RxPathOptions = {},
  ) {
    this.maxRanges = o.maxRanges ?? DEFAULTS.maxRanges;
    this.fragViews = new FragmentViews(Math.min(this.maxRanges, NVSP_RSC_MAX));
    this.rangeOff = new Uint32Array(this.maxRanges);
    this.rangeLen = new Uint32Array(this.maxRanges);
    this.nvspLen = nvspSize(NVSP_RNDIS_PKT);
    this.nvsp = new Uint8Array(this.nvspLen);
    emitNvsp(NVSP_RNDIS_PKT, new DataView(this.nvsp.buffer), 0);
    this.sPackets = counters.slot('rx_packets');
    this.sBytes = counters.slot('rx_bytes');
    this.sNoSection = counters.slot('rx_dropped_no_section');
    this.sRingFull = counters.slot('rx_dropped_ring_full');
    this.sXfer = counters.slot('rx_xfer_packets');
  }

  /**
   * Attaches (or with null detaches) the receive buffer. Nothing accepted is lost silently: frames
   * of an unsent burst are counted rx_dropped_revoked, and frames in packets the guest had not
   * completed rx_unacked_revoked (a guest that drains before revoking, §1.5 / §3.7 step 2, leaves 0).
   */
  attach(recv: RecvBuffer | null): void {
    if (this.recv) {
      this.counters.inc('rx_dropped_revoked', this.burstFrames);
      this.counters.inc('rx_unacked_revoked', this.recv.framesInFlight());
    }
    if (this.recv && this.slot >= 0) this.recv.abandon(this.slot);
    this.recv = recv;
    this.resetBurst();
  }

  /** Frames copied natively through the sender's cached view (PortFrameMeta.view), not the word loop. */
  viewCopies = 0;

  /** RSC fragment layouts whose source views were built (frag-views.ts): one per steady flow. */
  get fragLayoutsBuilt(): number {
    return this.fragViews.built;
  }

  get pending(): number {
    return this.rangeCount + (this.rsc_?.held ?? 0);
  }

  private rsc_: RscCoalescer | null = null;
  private readonly fragViews: FragmentViews;
  /** The alignment gap reserve() left after the header of the message it placed last. */
  private gap = 0;
  private pktId = 0;

  /** RSC for this queue (§5.6), created on first use: frames offered here may be coalesced. */
  get rsc(): RscCoalescer {
    return (this.rsc_ ??= new RscCoalescer(this));
  }

  /**
   * One coalesced packet as RSC fragments (§5.6): consecutive ranges of this burst, each an RNDIS
   * PACKET with RNDIS_PKTINFO_ID; the first carries the packet's PPIs. All or nothing: the
   * fragments never span two transfer-page packets and a missing one would fail the whole run.
   */
  deliverFragments(frame: Uint8Array, off: number, len: number, meta: PortFrameMeta, segments: number): boolean {
    const recv = this.recv;
    if (!recv) {
      this.counters.inc('rx_dropped_no_buffer');
      return false;
    }
    const extra = (meta.csumRx !== 0 ? 1 : 0) + (meta.hashValid ? 1 : 0) + (meta.hasVlan ? 1 : 0);
    // Room for an alignment gap of up to 7 bytes; chunks stay multiples of 8, so every fragment
    // keeps the frame's bytes at the same address mod 8 as the one before (alignGap).
    const chunk = (recv.sectionSize - RNDIS_PACKET_HEADER_SIZE - (1 + extra) * PPI_SIZE - 7) & ~7;
    const n = Math.ceil(len / chunk);
    if (n > NVSP_RSC_MAX || n > this.maxRanges) {
      this.counters.inc('rx_dropped_too_big');
      return false;
    }
    if (this.rangeCount + n > this.maxRanges && !this.flush()) {
      this.counters.add(this.sRingFull);
      return false;
    }
    // Each fragment may need a section of its own; the control reserve is the buffer's own
    // (allocSection's rule: frames leave min(reserve, count - 1) free), not a flat 16, which
    // dropped every RSC packet on a small ring (-G rx 48: 40 fragments + 17 > 48).
    if (recv.sectionCount - recv.sectionsInUse - Math.min(recv.reserve, recv.sectionCount - 1) < n) {
      this.counters.add(this.sNoSection);
      return false;
    }
    const id = (this.pktId = (this.pktId + 1) & 0xffff);
    const srcBase = frame.byteOffset;
    // Whole fragments are copied natively from views made once per layout (frag-views.ts).
    const views = n > 1 ? this.fragViews.get(frame, off, chunk) : null;
    for (let i = 0, from = off; i < n; i++) {
      const c = Math.min(chunk, off + len - from);
      const ppis = 1 + (i === 0 ? extra : 0);
      const hdrLen = RNDIS_PACKET_HEADER_SIZE + ppis * PPI_SIZE;
      const at = this.reserve(hdrLen + c, false, hdrLen, srcBase + from);
      if (at < 0) return false; // cannot happen after the checks above; counted by reserve
      const gap = this.gap;
      const flag = RNDIS_PKTINFO_SUBALLOC | (i === 0 ? RNDIS_PKTINFO_1ST_FRAG : 0) | (i === n - 1 ? RNDIS_PKTINFO_LAST_FRAG : 0);
      const base = this.headerAt(at, hdrLen + gap + c);
      let p = this.writeHeader(base, ppis, c, gap);
      p = writePpi(this.hDv, p, RNDIS_PKTINFO_ID, 1, packPktinfoId(RNDIS_PKTINFO_ID_V1, flag, id));
      if (i === 0) this.writePpis(p, meta);
      if (this.observer !== null) this.observer.message(MSG_DIR_TX, this.ch.subChannelIndex, MSG_LAYER_RNDIS, this.hU8, base, hdrLen);
      this.finishHeader(at, base, hdrLen, gap);
      // (A view's length is checked too: one over a buffer that was detached since would copy nothing.)
      if (views !== null && c === chunk && i < views.length && views[i]!.length === c && this.hU8 !== this.hdr) this.hU8.set(views[i]!, base + hdrLen + gap);
      else this.copyData(at + hdrLen + gap, base + hdrLen + gap, frame, from, c);
      from += c;
    }
    this.counters.add(this.sPackets);
    this.counters.add(this.sBytes, len);
    this.counters.inc('rx_rsc_packets');
    this.counters.inc('rx_rsc_segments', segments);
    return true;
  }

  /**
   * Writes one frame as an RNDIS PACKET with the PPIs `meta` asks for (§5.5, §6.3: checksum
   * result, hash value when RSS is on, VLAN). Returns false when it was dropped (counted).
   */
  deliverFrame(frame: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean {
    const ppis = (meta.csumRx !== 0 ? 1 : 0) + (meta.hashValid ? 1 : 0) + (meta.hasVlan ? 1 : 0);
    const hdrLen = RNDIS_PACKET_HEADER_SIZE + ppis * PPI_SIZE;
    const at = this.reserve(hdrLen + len, false, hdrLen, len < ALIGN_MIN_LEN ? -1 : frame.byteOffset + off);
    if (at < 0) return false;
    const gap = this.gap;
    const base = this.headerAt(at, hdrLen + gap + len);
    this.writePpis(this.writeHeader(base, ppis, len, gap), meta);
    if (this.observer !== null) this.observer.message(MSG_DIR_TX, this.ch.subChannelIndex, MSG_LAYER_RNDIS, this.hU8, base, hdrLen);
    this.finishHeader(at, base, hdrLen, gap);
    const v = meta.viewOf(frame, off, len);
    if (v !== null && this.hU8 !== this.hdr) {
      this.hU8.set(v, base + hdrLen + gap);
      this.viewCopies++;
    } else this.copyData(at + hdrLen + gap, base + hdrLen + gap, frame, off, len);
    this.burstFrames++;
    this.counters.add(this.sPackets);
    this.counters.add(this.sBytes, len);
    return true;
  }

  /**
   * The frame bytes of a message begun at headerAt(): when headerAt() found the whole message
   * contiguous in guest memory, straight there at `memAt` (no second mapping lookup); else
   * through the GPADL at receive-buffer offset `at`.
   */
  private copyData(at: number, memAt: number, frame: Uint8Array, off: number, len: number): void {
    if (this.hU8 !== this.hdr) copyBytes(frame, off, this.hU8, memAt, len);
    else copyToGpadl(this.recv!.mapping, at, frame, off, len, this.run);
  }

  /**
   * Where the header of the message at receive-buffer offset `at` (`n` bytes: header, gap and,
   * from the data paths, the frame, so one lookup serves both) is written: straight into guest memory when the GPADL maps all n bytes contiguously there (the
   * usual case: no scratch, no copy), else into the header scratch. Sets hU8/hDv; returns the base.
   */
  private headerAt(at: number, n: number): number {
    if (this.recv!.mapping.contiguous(at, n, this.run) === n) {
      const u8 = this.run.u8;
      if (u8 !== this.memU8) {
        this.memU8 = u8;
        this.memDv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
      }
      this.hU8 = u8;
      this.hDv = this.memDv;
      return this.run.offset;
    }
    this.hU8 = this.hdr;
    this.hDv = this.hdrDv;
    return 0;
  }

  /** Completes a header begun at headerAt(): zeroes the gap in place, or copies header + gap (zeros) from the scratch. */
  private finishHeader(at: number, base: number, hdrLen: number, gap: number): void {
    if (this.hU8 === this.hdr) copyToGpadl(this.recv!.mapping, at, this.hdr, 0, hdrLen + gap, this.run);
    else for (let i = base + hdrLen; i < base + hdrLen + gap; i++) this.hU8[i] = 0; // ≤ 7 bytes: a loop, not a fill() call
  }

  /**
   * An RNDIS PACKET header at `base` of hDv for `ppis` PPIs and `len` frame bytes placed `gap`
   * bytes after the PPIs (data_offset says where, §5.2; msg_len counts the gap). Returns the first PPI's offset.
   */
  private writeHeader(base: number, ppis: number, len: number, gap: number): number {
    const dv = this.hDv;
    const p = writeRndisPacketHeader(dv, base, ppis, len, gap);
    if (gap !== 0) dv.setUint32(base + 8, dv.getUint32(base + 8, true) + gap, true);
    return p;
  }

  /** The receive PPIs `meta` asks for, at p in hDv (§6.3). */
  private writePpis(p: number, meta: PortFrameMeta): void {
    const dv = this.hDv;
    if (meta.hashValid) p = writePpi(dv, p, NBL_HASH_VALUE, 0, meta.hash);
    if (meta.hasVlan) p = writePpi(dv, p, IEEE_8021Q_INFO, 0, meta.vlanTci);
    if (meta.csumRx !== 0) writePpi(dv, p, TCPIP_CHKSUM_PKTINFO, 0, meta.csumRx);
  }

  /** Writes a whole RNDIS control message (reply or indication); false if there is no room now. */
  deliverControl(msg: Uint8Array, len: number): boolean {
    const at = this.reserve(len, true);
    if (at < 0) return false;
    copyToGpadl(this.recv!.mapping, at, msg, 0, len, this.run);
    this.observer?.message(MSG_DIR_TX, this.ch.subChannelIndex, MSG_LAYER_RNDIS, msg, 0, len);
    this.counters.inc('rx_control');
    return true;
  }

  /**
   * Sends the burst as one transfer-page packet. Returns false, keeping the burst, when the ring
   * is full; the peer is then asked (pending_send_sz) to signal once there is room.
   */
  flush(): boolean {
    if (this.rsc_ !== null && this.rsc_.held > 0) this.rsc_.flush(); // coalesced packets join this burst
    if (this.rangeCount === 0 || !this.recv) return true;
    const n = this.rangeCount;
    const headerLen = XFER_RANGES_AT + n * XFER_RANGE_SIZE;
    const tx = this.ch.tx;
    if (!tx.beginWrite(VM_PKT_DATA_USING_XFER_PAGES, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, this.slot + 1, this.recv.transIdHi(this.slot), headerLen, this.nvspLen)) {
      this.ch.waitForSpace(RingWriter.packetBytes(headerLen, this.nvspLen));
      return false;
    }
    tx.setU16(XFER_PAGESET_ID_AT, NETVSC_RECEIVE_BUFFER_ID);
    tx.setU16(XFER_PAGESET_ID_AT + 2, 0); // sender_owns_set, reserved
    tx.setU32(XFER_RANGE_COUNT_AT, n);
    for (let i = 0; i < n; i++) {
      tx.setU32(XFER_RANGES_AT + i * XFER_RANGE_SIZE, this.rangeLen[i]!);
      tx.setU32(XFER_RANGES_AT + i * XFER_RANGE_SIZE + 4, this.rangeOff[i]!);
    }
    tx.setBytes(headerLen, this.nvsp, 0, this.nvspLen);
    tx.commitWrite();
    if (this.observer !== null) this.observer.message(MSG_DIR_TX, this.ch.subChannelIndex, MSG_LAYER_NVSP, this.nvsp, 0, this.nvspLen);
    this.recv.setFrames(this.slot, this.burstFrames);
    this.counters.add(this.sXfer);
    this.resetBurst();
    return true;
  }

  /**
   * Room for a message of `len` bytes: in the current section if it fits (8-byte aligned), else a
   * new section chained to the burst's packet. -1 (counted) when there is none.
   */
  private reserve(len: number, control: boolean, hdrLen = 0, srcAbs = -1): number {
    const recv = this.recv;
    if (!recv) {
      this.counters.inc('rx_dropped_no_buffer');
      return -1;
    }
    if (len > recv.sectionSize) {
      this.counters.inc('rx_dropped_too_big');
      return -1;
    }
    if (this.rangeCount === this.maxRanges && !this.flush()) {
      this.counters.add(this.sRingFull);
      return -1;
    }
    if (this.slot < 0) {
      this.slot = recv.openPacket();
      if (this.slot < 0) {
        this.counters.add(this.sNoSection);
        return -1;
      }
    }
    // A frame copied from srcAbs gets a gap after its header so it keeps its address mod 8 (alignGap).
    let gap = srcAbs < 0 ? 0 : alignGap(srcAbs, this.section * recv.sectionSize + this.fill + hdrLen);
    if (this.section < 0 || this.fill + len + gap > recv.sectionSize) {
      const s = recv.allocSection(control);
      if (s < 0) {
        this.counters.add(this.sNoSection);
        if (this.rangeCount === 0) this.abandonSlot();
        return -1;
      }
      recv.chain(this.slot, s);
      this.section = s;
      this.fill = 0;
      gap = srcAbs < 0 ? 0 : alignGap(srcAbs, s * recv.sectionSize + hdrLen);
      if (len + gap > recv.sectionSize) gap = 0; // a frame that fills the section goes unaligned
    }
    this.gap = gap;
    len += gap;
    const at = this.section * recv.sectionSize + this.fill;
    this.fill += (len + 7) & ~7;
    this.rangeOff[this.rangeCount] = at;
    this.rangeLen[this.rangeCount] = len;
    this.rangeCount++;
    return at;
  }

  private abandonSlot(): void {
    this.recv!.abandon(this.slot);
    this.resetBurst();
  }

  private resetBurst(): void {
    this.rangeCount = 0;
    this.slot = -1;
    this.section = -1;
    this.fill = 0;
    this.burstFrames = 0;
  }
}
