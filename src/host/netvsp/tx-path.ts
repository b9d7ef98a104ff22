/**
 * Send path of one queue (protocol.md §3.8, §4.4): the bytes of one NVSP 107 message are the
 * send-buffer section prefix [0, section_size) followed by the GPA-direct ranges in order; they
 * are parsed as RNDIS messages back to back, advancing by msg_len (which includes the batch
 * padding). Data frames go to the switch with their PPIs; control messages go to the
 * coordinator. Every guest field is range-checked; a bad packet gets a failure completion
 * (NVSP 108) and a counter, and the channel carries on.
 */
import { isNetvscError, MSG_DIR_RX, MSG_LAYER_RNDIS, ResourceError, WireError, type MessageObserver } from '../../core/index.js';
import {
  GpaRangeIterator,
  HV_PAGE_SIZE,
  NETVSC_INVALID_INDEX,
  PPI_CSUM,
  PPI_LSO,
  PPI_VLAN,
  PpiSlots,
  RndisPacketView,
  VM_PKT_DATA_USING_GPA_DIRECT,
} from '../../wire/index.js';
import { ALIGN_MIN_LEN, alignGap, checksumArena, copyBytes } from '../../packet/index.js';
import { newContiguousRun, type GpadlTable, type VmbusPacket } from '../../vmbus/index.js';
import type { QueueCounters } from '../counters.js';
import { PortFrameMeta } from '../vswitch/port.js';
import { copyFromGpadl } from './guest-bytes.js';
import type { SendBuffer } from './send-buffer.js';
import { ViewCache } from './view-cache.js';
import type { FrameOut, TxOffload } from './tx-offload.js';

/** NVSP 107 body (§3.4): channel_type @4, send_buf_section_index @8, send_buf_section_size @12. */
const RNDIS_PKT_CHANNEL_TYPE = 4;
const RNDIS_PKT_SECTION_INDEX = 8;
const RNDIS_PKT_SECTION_SIZE = 12;
const RNDIS_PKT_MIN_LEN = 16;
/** channel_type 1 = RMC_CONTROL (§3.8). */
const RMC_CONTROL = 1;
/** An LSOv2 super-frame (≤ 64 KiB) plus its RNDIS header and PPIs. */
export const TX_SCRATCH_BYTES = 65536 + 4096;

/** Gathered ranges from this size on are copied through cached views (below it, copyBytes' word loop is as quick). */
const GATHER_VIEW_MIN = 4096;

/** How a packet ended: the NVSP 108 status to complete it with. */
export const TX_OK = 0;
export const TX_BAD_PACKET = 1;
export const TX_BAD_RNDIS = 2;

export interface TxSink {
  /** A frame from the guest: bytes[off, +len) and meta valid during the call. */
  frame(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): void;
  /** An RNDIS control message (channel_type 1). */
  control(dv: DataView, at: number, len: number): void;
}

export class TxPath {
  send: SendBuffer | null = null;
  /** GPA ranges gathered natively through a cached view (view-cache.ts), not copyBytes. */
  gatherViewCopies = 0;
  /** Most RNDIS messages seen in one NVSP 107 packet (aggregation evidence). */
  maxPerPacket = 0;
  /** A checksumArena: LSO finishes super-frames in place here, summed by SIMD (packet/checksum-simd). */
  private readonly scratch = checksumArena(TX_SCRATCH_BYTES);
  private readonly scratchDv = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.byteLength);
  private readonly view = new RndisPacketView();
  private readonly slots = new PpiSlots();
  private readonly gpa = new GpaRangeIterator();
  private readonly meta = new PortFrameMeta();
  private readonly run = newContiguousRun();
  private readonly views = new ViewCache();
  private readonly gatherViews = new ViewCache(8);
  /** Sees each RNDIS message read from the guest, a data packet's header + PPIs only (the trace, issue 7), or null. */
  observer: MessageObserver | null = null;
  /** The channel's sub_channel_index, for the trace. */
  queue = 0;
  private readonly sPackets: number;
  private readonly sBytes: number;

  private readonly out: FrameOut;

  constructor(
    private readonly counters: QueueCounters,
    private readonly gpadls: GpadlTable,
    private readonly sink: TxSink,
    /** Checksum and LSO work the profile offers (§6.1–6.2); frames pass through it to the sink. */
    private readonly offload: TxOffload,
  ) {
    this.out = (b, o, l, m) => sink.frame(b, o, l, m);
    this.sPackets = counters.slot('tx_packets');
    this.sBytes = counters.slot('tx_bytes');
  }

  /** Handles one NVSP 107 packet (in-band or GPA-direct); returns TX_OK / TX_BAD_*. Never throws for guest input. */
  handle(pkt: VmbusPacket): number {
    try {
      return this.process(pkt);
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      if (e.code === 'BAD_GPADL') {
        this.counters.inc('tx_bad_range');
        return TX_BAD_PACKET;
      }
      if (e.code === 'LIMIT') {
        this.counters.inc('tx_bad_section');
        return TX_BAD_PACKET;
      }
      this.counters.inc('tx_bad_rndis');
      return TX_BAD_RNDIS;
    }
  }

  private process(pkt: VmbusPacket): number {
    const p = pkt.payloadOffset;
    if (pkt.payloadLen < RNDIS_PKT_MIN_LEN) throw new WireError('TRUNCATED', `NVSP 107 of ${pkt.payloadLen} bytes`);
    const control = pkt.dv.getUint32(p + RNDIS_PKT_CHANNEL_TYPE, true) === RMC_CONTROL;
    const index = pkt.dv.getUint32(p + RNDIS_PKT_SECTION_INDEX, true);
    const used = index === NETVSC_INVALID_INDEX >>> 0 ? 0 : pkt.dv.getUint32(p + RNDIS_PKT_SECTION_SIZE, true);
    let secOff = 0;
    if (index !== NETVSC_INVALID_INDEX >>> 0) {
      const s = this.send;
      if (!s) throw new ResourceError('LIMIT', `section ${index} named but no send buffer is registered`);
      if (index >= s.sectionCount || used > s.sectionSize || used === 0) {
        throw new ResourceError('LIMIT', `section ${index} size ${used} outside ${s.sectionCount} × ${s.sectionSize}`);
      }
      secOff = index * s.sectionSize;
    }
    this.walked = 0;
    if (pkt.type === VM_PKT_DATA_USING_GPA_DIRECT) {
      // Section prefix, then every range, read as one byte string (§4.4 host-side interpretation).
      // Data messages that lie wholly inside a contiguous prefix are walked where they are (a
      // partial copy leaves several there, §4.4 step 4); only the message that runs on into the
      // ranges, and what follows, is gathered into scratch.
      let skip = 0;
      if (used > 0 && !control && this.send!.mapping.contiguous(secOff, used, this.run) === used) {
        const s = this.send!;
        this.walk(s.memDv, s.mem, this.run.offset, this.run.offset + used, false, true);
        skip = this.stoppedAt - this.run.offset;
      }
      this.gpa.bind(pkt.dv, 0, pkt.len);
      let more = this.gpa.next();
      // Start the gather where the first range's bytes keep their guest address mod 8: the
      // range copy (up to 64 KB, out of a SharedArrayBuffer) then runs word-wise (alignGap).
      const start = more ? alignGap(this.gpa.byteOffset, used - skip) : 0;
      let n = start;
      if (used > skip) {
        copyFromGpadl(this.send!.mapping, secOff + skip, this.scratch, start, used - skip, this.run);
        n += used - skip;
      }
      for (; more; more = this.gpa.next()) n = this.gatherRange(n);
      return this.walk(this.scratchDv, this.scratch, start, n, control);
    }
    if (used === 0) throw new ResourceError('LIMIT', 'in-band NVSP 107 without a section');
    const s = this.send!;
    if (s.mapping.contiguous(secOff, used, this.run) === used) return this.walk(s.memDv, s.mem, this.run.offset, this.run.offset + used, control);
    copyFromGpadl(s.mapping, secOff, this.scratch, 0, used, this.run);
    return this.walk(this.scratchDv, this.scratch, 0, used, control);
  }

  /** RNDIS messages walked so far in the current NVSP 107 packet. */
  private walked = 0;
  /** Where a walk with `partial` stopped: the first message not wholly inside [start, end). */
  private stoppedAt = 0;

  /** Copies the current GPA range into scratch at n, page by page; every page must lie in a GPADL (§2.10). */
  private gatherRange(n: number): number {
    const g = this.gpa;
    let left = g.byteCount;
    if (n + left > this.scratch.length) throw new ResourceError('BAD_GPADL', `GPA ranges exceed ${this.scratch.length} bytes`);
    let pageOff = g.byteOffset;
    // §2.10: the offset lies inside the first page. Past it, a page's copy length below went
    // negative and the gather offset with it (a RangeError out of the copy, not a guest error).
    if (pageOff >= HV_PAGE_SIZE) throw new ResourceError('BAD_GPADL', `GPA range byte_offset ${pageOff} outside its first page`);
    for (let j = 0; j < g.pfnCount && left > 0; ) {
      if (g.pfnHi(j) !== 0) throw new ResourceError('BAD_GPADL', `PFN above 2^32 pages`);
      // Pages that follow each other physically are read in one copy (a 64 KB frame: one call, not 17).
      let pages = 1;
      while (j + pages < g.pfnCount && g.pfnHi(j + pages) === 0 && g.pfnLo(j + pages) === g.pfnLo(j) + pages && pages * HV_PAGE_SIZE - pageOff < left) pages++;
      const k = Math.min(left, pages * HV_PAGE_SIZE - pageOff);
      const mem = this.gpadls.memory;
      const at = this.gpadls.gpaOffset(g.pfnLo(j), pages, pageOff, k);
      // A large range at a place that recurs (a sender's frame buffers) has a cached view: the
      // native set() then, without the view Buffer.prototype.copy would make per copy (copyBytes).
      const v = k >= GATHER_VIEW_MIN ? this.gatherViews.get(mem, at, k) : null;
      if (v !== null) {
        this.scratch.set(v, n);
        this.gatherViewCopies++;
      } else copyBytes(mem, at, this.scratch, n, k);
      n += k;
      left -= k;
      pageOff = 0;
      j += pages;
    }
    return n;
  }

  /**
   * Parses RNDIS messages in [start, end) one after another (§4.4). With `partial`, [start, end)
   * is only the first part of the packet's bytes: the walk stops (at stoppedAt) before a message
   * that does not end inside it instead of calling it truncated.
   */
  private walk(dv: DataView, u8: Uint8Array, start: number, end: number, control: boolean, partial = false): number {
    let count = 0;
    while (start < end) {
      if (partial && (end - start < 8 || dv.getUint32(start + 4, true) > end - start)) break;
      if (end - start < 8) throw new WireError('TRUNCATED', `${end - start} bytes left after the last RNDIS message`);
      if (control) {
        const msgLen = dv.getUint32(start + 4, true);
        if (msgLen < 8 || msgLen > end - start) throw new WireError('MALFORMED', `control msg_len ${msgLen} outside 8..${end - start}`);
        this.observer?.message(MSG_DIR_RX, this.queue, MSG_LAYER_RNDIS, u8, start, msgLen);
        this.sink.control(dv, start, msgLen);
        start += msgLen;
        continue;
      }
      const v = this.view.bind(dv, start, end - start);
      v.readPpis(this.slots);
      if (this.observer !== null) this.observer.message(MSG_DIR_RX, this.queue, MSG_LAYER_RNDIS, u8, start, v.dataStart - start);
      this.fillMeta();
      // A frame read in place (a send section) recurs at the same place: its cached view lets the
      // receiver copy it natively (view-cache.ts). Gathered frames are not: the scratch is reused.
      if (u8 !== this.scratch && v.dataLength >= ALIGN_MIN_LEN) this.meta.setView(this.views.get(u8, v.dataStart, v.dataLength), u8, v.dataStart);
      this.counters.add(this.sPackets);
      this.counters.add(this.sBytes, v.dataLength);
      this.offload.process(u8, v.dataStart, v.dataLength, this.meta, this.out, u8 === this.scratch);
      start += v.msgLen;
      count++;
    }
    this.stoppedAt = start;
    this.walked += count;
    if (this.walked > this.maxPerPacket) this.maxPerPacket = this.walked;
    return TX_OK;
  }

  private fillMeta(): void {
    const m = this.meta;
    const s = this.slots;
    m.clear();
    // The receive checksum state (csumRx) is TxOffload's: it computes or verifies (§6.2–6.3).
    if ((s.present & PPI_CSUM) !== 0) m.csumTx = s.csum;
    if ((s.present & PPI_LSO) !== 0) m.lso = s.lso;
    if ((s.present & PPI_VLAN) !== 0) {
      m.vlanTci = s.vlan;
      m.hasVlan = true;
    }
  }
}
