import { MSG_DIR_TX, MSG_LAYER_NVSP, ResourceError, type MessageObserver } from '../../core/index.js';
import {
  emitNvsp,
  NVSP_MESSAGE_SIZE,
  NVSP_MSG1_TYPE_SEND_RNDIS_PKT,
  VM_PKT_DATA_USING_GPA_DIRECT,
  VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
} from '../../wire/index.js';
import { PAGE_SHIFT, PAGE_SIZE, type Channel } from '../../vmbus/index.js';
import { NO_SECTION } from './cookies.js';

/** Most ranges in one GPA-direct packet (MAX_PAGE_BUFFER_COUNT, §2.10). */
export const MAX_PAGE_RANGES = 32;

// NVSP 107 field offsets (protocol.md §3.4): the template is emitted once by the wire layer and
// only these two u32 fields and channel_type change per packet.
const F_CHANNEL_TYPE = 4;
const F_SECTION_INDEX = 8;
const F_SECTION_SIZE = 12;

/**
 * Sends NVSP SEND_RNDIS_PKT messages (protocol.md §3.8) on one channel without allocating: in-band
 * when everything sits in a send section, GPA-direct (type 9) with up to 32 physically contiguous
 * ranges otherwise. Both request a completion with a requestor id for the caller's cookie.
 */
export class RndisPacketSender {
  private readonly nvsp = new Uint8Array(NVSP_MESSAGE_SIZE);
  private readonly nvspDv = new DataView(this.nvsp.buffer);
  private readonly rangeGpa = new Float64Array(MAX_PAGE_RANGES);
  private readonly rangeLen = new Uint32Array(MAX_PAGE_RANGES);
  private ranges = 0;
  /** Sees each NVSP 107 sent (the trace, issue 7), or null. */
  observer: MessageObserver | null = null;

  constructor(private readonly channel: Channel) {
    emitNvsp({ type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: NO_SECTION, sendBufSectionSize: 0 }, this.nvspDv, 0);
  }

  /** Starts a message: channelType 0 data / 1 control; section NO_SECTION with size 0 for none. */
  begin(channelType: number, section: number, sectionBytes: number): void {
    this.nvspDv.setUint32(F_CHANNEL_TYPE, channelType, true);
    this.nvspDv.setUint32(F_SECTION_INDEX, section >>> 0, true);
    this.nvspDv.setUint32(F_SECTION_SIZE, sectionBytes, true);
    this.ranges = 0;
  }

  /** Adds a physically contiguous range of guest memory (§2.10). */
  addRange(gpa: number, len: number): void {
    if (this.ranges === MAX_PAGE_RANGES) throw new ResourceError('LIMIT', `more than ${MAX_PAGE_RANGES} page ranges`);
    this.rangeGpa[this.ranges] = gpa;
    this.rangeLen[this.ranges++] = len;
  }

  /** Writes the message; returns its trans_id, or 0 when the ring or the requestor is full (nothing sent). */
  send(cookie: number): number {
    if (this.observer !== null) this.observer.message(MSG_DIR_TX, this.channel.subChannelIndex, MSG_LAYER_NVSP, this.nvsp, 0, NVSP_MESSAGE_SIZE);
    if (this.ranges === 0) return this.channel.sendRequest(cookie, this.nvsp, 0, NVSP_MESSAGE_SIZE);
    const req = this.channel.requestor;
    if (!req) throw new ResourceError('LIMIT', `channel ${this.channel.relid} has no requestor`);
    let header = 24;
    for (let i = 0; i < this.ranges; i++) header += 8 + 8 * pfnCount(this.rangeGpa[i]!, this.rangeLen[i]!);
    const id = req.alloc(cookie);
    if (id === 0) return 0;
    const w = this.channel.tx;
    if (!w.beginWrite(VM_PKT_DATA_USING_GPA_DIRECT, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, id, 0, header, NVSP_MESSAGE_SIZE)) {
      req.release(id);
      return 0;
    }
    w.setU32(16, 0);
    w.setU32(20, this.ranges);
    let p = 24;
    for (let i = 0; i < this.ranges; i++) {
      const gpa = this.rangeGpa[i]!;
      const len = this.rangeLen[i]!;
      const off = gpa % PAGE_SIZE;
      const first = Math.floor(gpa / PAGE_SIZE);
      const n = pfnCount(gpa, len);
      w.setU32(p, len);
      w.setU32(p + 4, off);
      p += 8;
      for (let j = 0; j < n; j++, p += 8) {
        w.setU32(p, first + j);
        w.setU32(p + 4, 0);
      }
    }
    w.setBytes(header, this.nvsp, 0, NVSP_MESSAGE_SIZE);
    w.commitWrite();
    return id;
  }

  /** Ring bytes the largest packet takes, for pending_send_sz. */
  static worstCaseBytes(): number {
    return 24 + MAX_PAGE_RANGES * 16 + NVSP_MESSAGE_SIZE + 64;
  }
}

function pfnCount(gpa: number, len: number): number {
  const off = gpa % PAGE_SIZE;
  return (off + len + PAGE_SIZE - 1) >>> PAGE_SHIFT;
}
