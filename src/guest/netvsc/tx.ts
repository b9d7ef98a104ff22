import { MSG_DIR_TX, MSG_LAYER_RNDIS, ResourceError } from '../../core/index.js';
import { ALIGN_MIN_LEN, alignGap, copyBytes } from '../../packet/index.js';
import {
  IEEE_8021Q_INFO,
  NBL_HASH_VALUE,
  PPI_SIZE,
  RNDIS_PACKET_HEADER_SIZE,
  TCP_LARGESEND_PKTINFO,
  TCPIP_CHKSUM_PKTINFO,
  writePpi,
  writeRndisPacketHeader,
} from '../../wire/index.js';
import type { Channel, GuestMemory } from '../../vmbus/index.js';
import { DATA_COOKIE_LIMIT, NO_SECTION } from './cookies.js';
import type { GuestCounters } from './counters.js';
import { TX_F_CSUM, TX_F_HASH, TX_F_LSO, TX_F_VLAN, type TxMeta } from './meta.js';
import { RndisPacketSender } from './send-packet.js';
import type { SendSections } from './send-sections.js';
import { IndexStack, TX_HEADER_CELLS, type TxPagePool } from './tx-pool.js';

export interface TxQueueOptions {
  readonly channel: Channel;
  readonly memory: GuestMemory;
  /** Guest physical address of the send buffer (one contiguous run). */
  readonly sendBufGpa: number;
  readonly sections: SendSections;
  readonly pool: TxPagePool;
  readonly counters: GuestCounters;
  /** RNDIS INIT_C max_pkt_per_msg and 1 << pkt_alignment_factor (§3.6 step 7). */
  readonly maxPkt: number;
  readonly pktAlign: number;
}

const NONE = -1;

/** xmitInPlace(): nothing taken (the queue is stopped or out of room); retry after onWritable. */
export const XMIT_BUSY = 0;
/** xmitInPlace(): taken and copied (into a send section, or by the VF); the bytes are free again now. */
export const XMIT_COPIED = 1;
/** xmitInPlace(): taken in place; the bytes stay the host's until onTxDone(token). */
export const XMIT_IN_PLACE = 2;

/**
 * One queue's transmit path (protocol.md §4.4–4.6). Small frames are copied with their RNDIS header
 * and PPIs into a send section; while the caller says more frames follow (`more`, the kernel's
 * xmit_more) they pile up in the same section, padded to pkt_align, up to max_pkt. A frame that
 * does not fit a section, or finds none free (tx_send_full), goes GPA-direct from the queue's page
 * pool; a frame whose header still fits the open batch goes as the partial copy of §4.4. Each NVSP
 * message owns a descriptor slot naming what its completion frees. When the ring, the request
 * ids, the pool or the slots run out, send() returns false and the queue is stopped until a
 * completion or ring space wakes it: a frame is either accepted (true) or untouched (false).
 *
 * sendInPlace() takes a frame that already lives in guest memory (an skb's pages): where send()
 * would copy it into a pool slot (GPA-direct, or the partial copy), only the RNDIS header + PPIs
 * are written — into a header cell of the pool, or at the end of the open batch — and the frame
 * goes as a range of its own pages. Its descriptor keeps the caller's token, handed to onTxDone
 * exactly once: on the completion, or when the channel closes with the send outstanding.
 */
export class TxQueue {
  readonly sender: RndisPacketSender;
  packets = 0;
  bytes = 0;
  stopped = false;
  /** Sends awaiting their completion (Linux queue_sends). */
  outstanding = 0;
  /** Called when a stopped queue wakes (the device's onWritable). */
  onWake: () => void = () => {};
  /** An in-place frame's bytes are free again (its completion, or the channel closed with it outstanding). */
  onTxDone: (token: number) => void = () => {};

  private readonly dv: DataView;
  private readonly u8: Uint8Array;
  // The open batch (Linux msd): a section holding copied packets not yet sent.
  private pendSection = NONE;
  private pendLen = 0;
  private pendCount = 0;
  private pendPkts = 0;
  private pendBytes = 0;
  /** The batch is complete but the ring had no room: it goes before anything else. */
  private pendClosed = false;
  // Descriptor slots: what each outstanding message frees on completion.
  private readonly descSection: Int32Array;
  private readonly descPool: Int32Array;
  private readonly descCell: Int32Array;
  /** The in-place frame's token, valid while descTok is 1; descLive: committed, awaiting its completion. */
  private readonly descToken: Uint32Array;
  private readonly descTok: Uint8Array;
  private readonly descLive: Uint8Array;
  /** Inside send()/sendInPlace(): a channel stop there defers its tokens to releaseTokens(). */
  private sending = false;
  private readonly descPkts: Uint32Array;
  private readonly descBytes: Float64Array;
  private readonly descFree: IndexStack;
  private readonly sTxSendFull: number;
  private readonly sTxBusy: number;
  private readonly sStop: number;
  private readonly sWake: number;
  private readonly sFailed: number;
  private readonly sBadId: number;

  private maxPkt: number;
  private pktAlign: number;

  constructor(private readonly o: TxQueueOptions) {
    this.maxPkt = o.maxPkt;
    this.pktAlign = o.pktAlign;
    this.sender = new RndisPacketSender(o.channel);
    this.dv = new DataView(o.memory.sab);
    this.u8 = o.memory.u8;
    const n = o.sections.count + o.pool.slots + TX_HEADER_CELLS + 1;
    this.descSection = new Int32Array(n);
    this.descPool = new Int32Array(n);
    this.descCell = new Int32Array(n);
    this.descToken = new Uint32Array(n);
    this.descTok = new Uint8Array(n);
    this.descLive = new Uint8Array(n);
    this.descPkts = new Uint32Array(n);
    this.descBytes = new Float64Array(n);
    this.descFree = new IndexStack(n);
    const c = o.counters;
    this.sTxSendFull = c.slot('tx_send_full');
    this.sTxBusy = c.slot('tx_busy');
    this.sStop = c.slot('stop_queue');
    this.sWake = c.slot('wake_queue');
    this.sFailed = c.slot('comp_send_failed');
    this.sBadId = c.slot('comp_bad_id');
    // A close or rescind reclaims the requests still outstanding (§2.12): free what they hold and
    // hand in-place frames back. Control-path cookies (above the data range) are not ours.
    o.channel.onReclaim = (cookie) => {
      if (cookie < DATA_COOKIE_LIMIT) this.reclaim(cookie);
    };
  }

  /**
   * Queues one Ethernet frame. `more` says another frame follows at once (keep batching). Returns
   * false, changing nothing, when the queue is stopped or out of room: retry after onWake.
   */
  send(frame: Uint8Array, off: number, len: number, meta: TxMeta | null, more: boolean): boolean {
    return this.take(frame, off, len, meta, more, -1) !== XMIT_BUSY;
  }

  /**
   * Queues the frame at memory.u8[off, off+len) (guest memory: its GPA is off). Small frames are
   * copied as by send() (XMIT_COPIED); one that would go GPA-direct is sent in place (XMIT_IN_PLACE)
   * and `token` comes back through onTxDone once the host is done with it. XMIT_BUSY: untouched.
   */
  sendInPlace(off: number, len: number, meta: TxMeta | null, more: boolean, token: number): number {
    return this.take(this.u8, off, len, meta, more, token >>> 0);
  }

  /** send() and sendInPlace(): `token` < 0 copies every frame; otherwise GPA-direct goes in place. */
  private take(frame: Uint8Array, off: number, len: number, meta: TxMeta | null, more: boolean, token: number): number {
    this.sending = true;
    try {
      return this.route(frame, off, len, meta, more, token);
    } finally {
      this.sending = false;
    }
  }

  private route(frame: Uint8Array, off: number, len: number, meta: TxMeta | null, more: boolean, token: number): number {
    if (this.stopped || (this.pendClosed && !this.sendPending())) return this.busy();
    const o = this.o;
    const secSize = o.sections.sectionSize;
    const align = this.pktAlign;
    const ppis = meta === null ? 0 : ppiCount(meta.flags);
    const rmsg = RNDIS_PACKET_HEADER_SIZE + ppis * PPI_SIZE;
    const pktlen = rmsg + len;
    if (pktlen > o.pool.slotBytes && pktlen + align >= secSize) {
      o.counters.inc('tx_too_big');
      throw new ResourceError('LIMIT', `frame of ${len} B does not fit a ${o.pool.slotBytes} B page-buffer slot`);
    }
    const tryBatch = this.pendLen > 0 && this.pendCount < this.maxPkt;
    if (tryBatch && this.pendLen + pktlen + align < secSize) {
      this.copyIn(this.pendSection, this.pendLen, frame, off, len, meta, ppis, more);
      return this.afterCopy(len, more);
    }
    // In place, the partial copy is only the header at the end of the batch (§4.4 step 4).
    if (tryBatch && token >= 0 && this.pendLen + rmsg < secSize) return this.partialInPlace(off, len, meta, ppis, rmsg, token);
    // A partial copy pins a pool slot as well as the section. Linux's skb pages are unbounded, our
    // pool is not: leave half of it for frames that find no section (§4.3 tx_send_full, §4.5), so a
    // full section map goes GPA-direct instead of stopping the queue. Otherwise a new section.
    if (tryBatch && token < 0 && this.pendLen + rmsg < secSize && o.pool.available > o.pool.slots >> 1) {
      return this.partialCopy(frame, off, len, meta, ppis, rmsg);
    }
    if (pktlen + align < secSize) {
      const s = o.sections.alloc();
      if (s !== NONE) {
        if (this.pendSection !== NONE && !this.closeAndSendPending()) {
          o.sections.free(s);
          return this.busy();
        }
        this.pendSection = s;
        this.copyIn(s, 0, frame, off, len, meta, ppis, more);
        return this.afterCopy(len, more);
      }
      this.o.counters.add(this.sTxSendFull);
    }
    if (token >= 0) return this.pageInPlace(off, len, meta, ppis, rmsg, token);
    return this.pageBuffer(frame, off, len, meta, ppis, rmsg);
  }

  /** RNDIS INIT_C's max_pkt_per_msg and alignment, once known (§3.6 step 7; 8 and 8 until then). */
  setRndisLimits(maxPkt: number, pktAlign: number): void {
    this.maxPkt = maxPkt;
    this.pktAlign = pktAlign;
  }

  /** Sends the open batch now (the end of a burst); false if it is still waiting for ring room. */
  flush(): boolean {
    if (this.pendSection === NONE) return true;
    this.pendClosed = true;
    const ok = this.sendPending();
    this.o.channel.flush();
    return ok;
  }

  /** A completion for descriptor `d` (NVSP 108, §4.6): frees its section and pool slot, counts, wakes. */
  complete(d: number, status: number): void {
    // The requestor already refuses unknown, duplicate and stale ids; a descriptor that is not in
    // flight here as well is counted and ignored rather than freed (or its token reported) twice.
    if (!(d >= 0 && d < this.descLive.length) || this.descLive[d] === 0) {
      this.o.counters.add(this.sBadId);
      return;
    }
    if (status !== 1) this.o.counters.add(this.sFailed); // §8 item 10: logged, resources freed anyway
    this.packets += this.descPkts[d]!;
    this.bytes += this.descBytes[d]!;
    this.retire(d);
  }

  /**
   * Hands back every in-place frame still held (teardown after a failed drain, or a channel stop
   * inside send()): each token once; the descriptors' late completions, if any, free the rest.
   */
  releaseTokens(): void {
    const tok = this.descTok;
    for (let d = 0; d < tok.length; d++) {
      if (tok[d] === 0) continue;
      tok[d] = 0;
      this.onTxDone(this.descToken[d]!);
    }
  }

  /** In-place frames not yet handed back (between calls). */
  get inPlaceInFlight(): number {
    let n = 0;
    for (let d = 0; d < this.descTok.length; d++) n += this.descTok[d]!;
    return n;
  }

  /** Poll-time retry: a closed batch that found the ring full, then wake if there is room again. */
  poll(): number {
    if (this.pendClosed) {
      if (!this.sendPending()) return 0;
      this.o.channel.flush();
    }
    // A queue stopped on header cells (in place) waits for a completion, which wakes it anyway.
    if (this.stopped && this.o.pool.available > 0 && this.o.pool.cellsAvailable > 0 && this.descFree.available > 0) {
      this.wake();
      return 1;
    }
    return 0;
  }

  /** The channel closed with `d` outstanding (Channel.onReclaim): free it, hand its frame back. */
  private reclaim(d: number): void {
    if (!(d >= 0 && d < this.descLive.length) || this.descLive[d] === 0) return;
    this.retire(d);
  }

  /** Frees a committed descriptor's section, slot and cell, then wakes and reports its token. */
  private retire(d: number): void {
    const o = this.o;
    const s = this.descSection[d]!;
    const p = this.descPool[d]!;
    const c = this.descCell[d]!;
    if (s !== NONE) o.sections.free(s);
    if (p !== NONE) o.pool.free(p);
    if (c !== NONE) o.pool.freeCell(c);
    this.descLive[d] = 0;
    this.descFree.put(d);
    this.outstanding--;
    if (this.stopped && o.channel.state === 'open') this.wake();
    // Last, with the queue consistent: the callback may send again. Never from inside a send.
    if (this.descTok[d] !== 0 && !this.sending) {
      this.descTok[d] = 0;
      this.onTxDone(this.descToken[d]!);
    }
  }

  /** Teardown: the frames in an unsent batch are still ours; report whether any are left. */
  get idle(): boolean {
    return this.pendSection === NONE && this.outstanding === 0;
  }

  /**
   * Read-only introspection for the fuzzers' ownership walk (docs/robustness.md, issue 9): calls
   * `visit(section, desc)` for every send section this queue holds — `desc` is the descriptor (the
   * requestor cookie, cookies.ts) of the in-flight NVSP 107 that owns it, or -1 for the open batch
   * not yet sent. Never on the data path: it allocates a scratch map of the free descriptors.
   */
  forEachOwnedSection(visit: (section: number, desc: number) => void): void {
    const free = new Uint8Array(this.descSection.length);
    this.descFree.forEach((d) => (free[d] = 1));
    for (let d = 0; d < free.length; d++) if (free[d] === 0 && this.descSection[d] !== NONE) visit(this.descSection[d]!, d);
    if (this.pendSection !== NONE) visit(this.pendSection, NONE);
  }

  /** In-flight NVSP 107 descriptors (taken, not yet completed): equals `outstanding` between calls. */
  get descriptorsInFlight(): number {
    return this.descSection.length - this.descFree.available;
  }

  private wake(): void {
    this.stopped = false;
    this.o.counters.add(this.sWake);
    this.onWake();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.o.counters.add(this.sStop);
    // Ask the host to signal when the ring has room for our largest packet (§2.2 pending_send_sz);
    // a completion or the next poll with free resources wakes the queue.
    this.o.channel.waitForSpace(RndisPacketSender.worstCaseBytes());
  }

  private busy(): number {
    this.o.counters.add(this.sTxBusy);
    this.stop();
    return XMIT_BUSY;
  }

  private afterCopy(len: number, more: boolean): number {
    this.pendPkts++;
    this.pendBytes += len;
    this.pendCount++;
    if (!more) {
      this.pendClosed = true;
      if (!this.sendPending()) this.stop(); // accepted; it goes out when the ring drains
    }
    return XMIT_COPIED;
  }

  private closeAndSendPending(): boolean {
    this.pendClosed = true;
    return this.sendPending();
  }

  /** Sends the open batch as one in-band NVSP 107 (full copy). */
  private sendPending(): boolean {
    const d = this.takeDesc(this.pendSection, NONE, NONE);
    if (d === NONE) return false;
    this.sender.begin(0, this.pendSection, this.pendLen);
    if (this.sender.send(d) === 0) {
      this.putDesc(d);
      return false;
    }
    this.commitDesc(d, this.pendPkts, this.pendBytes);
    this.resetPending();
    return true;
  }

  private partialCopy(frame: Uint8Array, off: number, len: number, meta: TxMeta | null, ppis: number, rmsg: number): number {
    const o = this.o;
    const slot = o.pool.alloc();
    if (slot === NONE) return this.busy();
    const d = this.takeDesc(this.pendSection, slot, NONE);
    if (d === NONE) {
      o.pool.free(slot);
      return this.busy();
    }
    // The header (msg_len counting the frame) ends the section; the frame continues in the ranges.
    const at = o.sendBufGpa + this.pendSection * o.sections.sectionSize + this.pendLen;
    // The host gathers section prefix + range back to back. The frame sits in the slot at its own
    // address mod 8 (x), and the range starts `gap` zero bytes before it so that, gathered after
    // the prefix, it keeps that alignment too (data_offset skips the gap): every copy runs word-wise.
    const used = this.pendLen + rmsg;
    let x = 8 + ((frame.byteOffset + off) & 7);
    if (x + len > o.pool.slotBytes) x = 0;
    const gap = x === 0 ? 0 : alignGap(x, used);
    const gpa = o.pool.gpa(slot);
    this.writeHeader(at, len, meta, ppis, gap);
    if (gap !== 0) {
      this.dv.setUint32(at + 8, this.dv.getUint32(at + 8, true) + gap, true);
      this.u8.fill(0, gpa + x - gap, gpa + x);
    }
    copyBytes(frame, off, this.u8, gpa + x, len);
    this.sender.begin(0, this.pendSection, used);
    this.sender.addRange(gpa + x - gap, gap + len);
    if (this.sender.send(d) === 0) {
      this.putDesc(d);
      o.pool.free(slot);
      return this.busy();
    }
    this.commitDesc(d, this.pendPkts + 1, this.pendBytes + len);
    this.resetPending();
    return XMIT_COPIED;
  }

  /** The partial copy in place: the header ends the open batch's section, the frame is its own range. */
  private partialInPlace(off: number, len: number, meta: TxMeta | null, ppis: number, rmsg: number, token: number): number {
    const o = this.o;
    const d = this.takeDesc(this.pendSection, NONE, NONE);
    if (d === NONE) return this.busy();
    // No gap: the host gathers prefix + range starting where the range keeps its address mod 8.
    this.writeHeader(o.sendBufGpa + this.pendSection * o.sections.sectionSize + this.pendLen, len, meta, ppis, 0);
    this.sender.begin(0, this.pendSection, this.pendLen + rmsg);
    this.sender.addRange(off, len);
    if (this.sender.send(d) === 0) {
      this.putDesc(d);
      return this.busy();
    }
    this.commitDesc(d, this.pendPkts + 1, this.pendBytes + len);
    this.holdToken(d, token);
    this.resetPending();
    return XMIT_IN_PLACE;
  }

  /**
   * GPA-direct in place: header + PPIs in a header cell, then the frame's own pages as the second
   * range (one range: a run of guest memory is physically contiguous, GPA = offset). The header
   * sits in its cell so that header end ≡ frame start (mod 8): gathered behind it, the frame keeps
   * its alignment and the host's copy runs word-wise.
   */
  private pageInPlace(off: number, len: number, meta: TxMeta | null, ppis: number, rmsg: number, token: number): number {
    const o = this.o;
    if (o.pool.cellsAvailable === 0 || this.descFree.available === 0) return this.busy();
    if (this.pendSection !== NONE && !this.closeAndSendPending()) return this.busy();
    const cell = o.pool.allocCell();
    const d = this.takeDesc(NONE, NONE, cell);
    const at = o.pool.cellGpa(cell) + ((off - rmsg) & 7);
    this.writeHeader(at, len, meta, ppis, 0);
    this.sender.begin(0, NO_SECTION, 0);
    this.sender.addRange(at, rmsg);
    this.sender.addRange(off, len);
    if (this.sender.send(d) === 0) {
      this.putDesc(d);
      o.pool.freeCell(cell);
      return this.busy();
    }
    this.commitDesc(d, 1, len);
    this.holdToken(d, token);
    return XMIT_IN_PLACE;
  }

  private pageBuffer(frame: Uint8Array, off: number, len: number, meta: TxMeta | null, ppis: number, rmsg: number): number {
    const o = this.o;
    if (o.pool.available === 0 || this.descFree.available === 0) return this.busy();
    if (this.pendSection !== NONE && !this.closeAndSendPending()) return this.busy();
    const slot = o.pool.alloc();
    const d = this.takeDesc(NONE, slot, NONE);
    const gpa = o.pool.gpa(slot);
    // The frame lands at the address it had mod 8, so the 64 KB copy runs word-wise (packet/copy alignGap).
    let gap = alignGap(frame.byteOffset + off, gpa + rmsg);
    if (rmsg + gap + len > o.pool.slotBytes) gap = 0;
    this.writeHeader(gpa, len, meta, ppis, gap);
    if (gap !== 0) {
      this.dv.setUint32(gpa + 8, this.dv.getUint32(gpa + 8, true) + gap, true); // data_offset past the gap
      this.u8.fill(0, gpa + rmsg, gpa + rmsg + gap);
    }
    copyBytes(frame, off, this.u8, gpa + rmsg + gap, len);
    this.sender.begin(0, NO_SECTION, 0);
    this.sender.addRange(gpa, rmsg + gap + len);
    if (this.sender.send(d) === 0) {
      this.putDesc(d);
      o.pool.free(slot);
      return this.busy();
    }
    this.commitDesc(d, 1, len);
    return XMIT_COPIED;
  }

  /** Copies header + PPIs + frame into `section` at `pos`, padded to pkt_align if more follow (§4.4 step 3). */
  private copyIn(section: number, pos: number, frame: Uint8Array, off: number, len: number, meta: TxMeta | null, ppis: number, more: boolean): void {
    const o = this.o;
    const at = o.sendBufGpa + section * o.sections.sectionSize + pos;
    const rmsg = RNDIS_PACKET_HEADER_SIZE + ppis * PPI_SIZE;
    // The frame keeps its address mod 8 (a gap after the PPIs, data_offset past it) so the copy
    // into the shared send buffer runs word-wise (packet/copy alignGap); not if it would not fit.
    let gap = len < ALIGN_MIN_LEN ? 0 : alignGap(frame.byteOffset + off, at + rmsg);
    let total = rmsg + gap + len;
    let rem = total % this.pktAlign;
    let pad = more && rem !== 0 ? this.pktAlign - rem : 0;
    if (gap !== 0 && pos + total + pad > o.sections.sectionSize) {
      gap = 0;
      total = rmsg + len;
      rem = total % this.pktAlign;
      pad = more && rem !== 0 ? this.pktAlign - rem : 0;
    }
    this.writeHeader(at, len, meta, ppis, gap + pad);
    if (gap !== 0) {
      this.dv.setUint32(at + 8, this.dv.getUint32(at + 8, true) + gap, true);
      this.u8.fill(0, at + rmsg, at + rmsg + gap);
    }
    copyBytes(frame, off, this.u8, at + rmsg + gap, len);
    if (pad > 0) this.u8.fill(0, at + total, at + total + pad);
    this.pendLen = pos + total + pad;
  }

  private writeHeader(at: number, len: number, meta: TxMeta | null, ppis: number, pad: number): void {
    let p = writeRndisPacketHeader(this.dv, at, ppis, len, pad);
    if (meta !== null && ppis !== 0) {
      // Each value is stored here (setUint32 compiles inline; it ends the PPI, at p - 4), not passed
      // to writePpi: a u32 at or above 2^30 (a hash half the time, every LSOv2 value) passed to a
      // call V8 did not inline is a new heap number per frame.
      const dv = this.dv;
      const f = meta.flags;
      if (f & TX_F_HASH) {
        p = writePpi(dv, p, NBL_HASH_VALUE, 0, 0);
        dv.setUint32(p - 4, meta.hash, true);
      }
      if (f & TX_F_VLAN) {
        p = writePpi(dv, p, IEEE_8021Q_INFO, 0, 0);
        dv.setUint32(p - 4, meta.vlan, true);
      }
      if (f & (TX_F_LSO | TX_F_CSUM)) {
        p = writePpi(dv, p, f & TX_F_LSO ? TCP_LARGESEND_PKTINFO : TCPIP_CHKSUM_PKTINFO, 0, 0);
        dv.setUint32(p - 4, f & TX_F_LSO ? meta.lso : meta.csum, true);
      }
    }
    const obs = this.sender.observer;
    if (obs !== null) obs.message(MSG_DIR_TX, this.o.channel.subChannelIndex, MSG_LAYER_RNDIS, this.u8, at, RNDIS_PACKET_HEADER_SIZE + ppis * PPI_SIZE);
  }

  private takeDesc(section: number, pool: number, cell: number): number {
    const d = this.descFree.take();
    if (d < 0) return NONE;
    this.descSection[d] = section;
    this.descPool[d] = pool;
    this.descCell[d] = cell;
    return d;
  }

  private holdToken(d: number, token: number): void {
    this.descToken[d] = token;
    this.descTok[d] = 1;
  }

  private putDesc(d: number): void {
    this.descFree.put(d);
  }

  private commitDesc(d: number, pkts: number, bytes: number): void {
    this.descPkts[d] = pkts;
    this.descBytes[d] = bytes;
    this.descLive[d] = 1;
    this.outstanding++;
  }

  private resetPending(): void {
    this.pendSection = NONE;
    this.pendLen = 0;
    this.pendCount = 0;
    this.pendPkts = 0;
    this.pendBytes = 0;
    this.pendClosed = false;
  }
}

/** PPIs a frame carries: hash, VLAN, then LSO or checksum (§5.4). */
function ppiCount(f: number): number {
  return (f & TX_F_HASH ? 1 : 0) + (f & TX_F_VLAN ? 1 : 0) + (f & (TX_F_LSO | TX_F_CSUM) ? 1 : 0);
}
