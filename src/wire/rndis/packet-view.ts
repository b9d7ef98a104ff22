/**
 * Data-path view of an RNDIS PACKET message (protocol.md §5.2, §8 items 29–33). One instance per
 * queue, rebound per message. bind() checks msg_len, the data area and the PPI area once against
 * the bytes given; after that the getters are plain reads and nothing is allocated.
 */
import { WireError } from '../../core/index.js';
import * as C from '../constants.js';
import { type PpiSlots, walkPpis } from '../ppi/walker.js';
import { RNDIS_HEADER_SIZE, RNDIS_PACKET_HEADER_SIZE } from './layouts.js';

export class RndisPacketView {
  private dv: DataView = new DataView(new ArrayBuffer(RNDIS_PACKET_HEADER_SIZE));
  private at = 0;
  /** Absolute offset of the frame in the bound DataView. */
  dataStart = 0;
  dataLength = 0;
  /** Absolute offset and length of the PPI area (length 0 when there are none). */
  ppiStart = 0;
  ppiLength = 0;
  msgLen = 0;

  /** Binds to dv[at, at+len); throws WireError unless it is a well-formed PACKET. */
  bind(dv: DataView, at: number, len: number): this {
    if (at < 0 || len < RNDIS_PACKET_HEADER_SIZE || at + len > dv.byteLength) {
      throw new WireError('TRUNCATED', `RNDIS packet of ${len} bytes at ${at} (needs 44, buffer ${dv.byteLength})`);
    }
    if (dv.getUint32(at, true) !== C.RNDIS_MSG_PACKET) throw new WireError('MALFORMED', `ndis_msg_type ${dv.getUint32(at, true)} is not RNDIS_MSG_PACKET`);
    const msgLen = dv.getUint32(at + 4, true);
    if (msgLen < RNDIS_PACKET_HEADER_SIZE || msgLen > len) throw new WireError('MALFORMED', `msg_len ${msgLen} is outside 44..${len}`);
    // data_offset and per_pkt_info_offset count from byte 8 (after ndis_msg_type and msg_len).
    const room = msgLen - RNDIS_HEADER_SIZE;
    const dOff = dv.getUint32(at + 8, true);
    const dLen = dv.getUint32(at + 12, true);
    if (dOff > room || dLen > room - dOff) throw new WireError('MALFORMED', `data (offset ${dOff}, length ${dLen}) runs past msg_len ${msgLen}`);
    const pOff = dv.getUint32(at + 28, true);
    const pLen = dv.getUint32(at + 32, true);
    if (pLen !== 0 && (pOff < 36 || pOff > room || pLen > room - pOff)) {
      throw new WireError('MALFORMED', `PPI area (offset ${pOff}, length ${pLen}) is outside the packet`);
    }
    this.dv = dv;
    this.at = at;
    this.msgLen = msgLen;
    this.dataStart = at + RNDIS_HEADER_SIZE + dOff;
    this.dataLength = dLen;
    this.ppiStart = at + RNDIS_HEADER_SIZE + pOff;
    this.ppiLength = pLen;
    return this;
  }

  get dataOffset(): number {
    return this.dv.getUint32(this.at + 8, true);
  }
  get perPktInfoOffset(): number {
    return this.dv.getUint32(this.at + 28, true);
  }

  /** Walks the PPIs into caller-owned slots; returns the element count. */
  readPpis(slots: PpiSlots): number {
    if (this.ppiLength === 0) {
      slots.clear();
      return 0;
    }
    return walkPpis(this.dv, this.ppiStart, this.ppiLength, slots);
  }
}
