/**
 * Data-path PPI walker (protocol.md §5.5, §8 item 33): fills caller-owned slots, allocates nothing.
 * Unlike the Linux walker, an element whose size is 0, smaller than its header, past the area, or
 * whose value does not fit stops the walk with a WireError instead of spinning.
 */
import { WireError } from '../../core/index.js';
import * as C from '../constants.js';
import { PPI_HEADER_SIZE } from './layouts.js';

/** Bits of PpiSlots.present. */
export const PPI_CSUM = 1;
export const PPI_VLAN = 2;
export const PPI_LSO = 4;
export const PPI_HASH = 8;
export const PPI_PKTINFO_ID = 16;

/** One per queue, reused for every packet. `present` says which values were found. */
export class PpiSlots {
  present = 0;
  csum = 0;
  vlan = 0;
  lso = 0;
  hash = 0;
  pktinfoId = 0;
  /** Elements of other types, skipped. */
  other = 0;
  clear(): void {
    this.present = 0;
    this.other = 0;
  }
}

/** Walks the PPI area dv[at, at+len) into `slots`; returns the number of elements. */
export function walkPpis(dv: DataView, at: number, len: number, slots: PpiSlots): number {
  slots.clear();
  const end = at + len;
  if (at < 0 || end > dv.byteLength) throw new WireError('TRUNCATED', `PPI area ${at}+${len} runs past the ${dv.byteLength}-byte buffer`);
  let p = at;
  let n = 0;
  while (p < end) {
    if (end - p < PPI_HEADER_SIZE) throw new WireError('TRUNCATED', `PPI header at ${p - at} needs 12 bytes, ${end - p} left in the area`);
    const size = dv.getUint32(p, true);
    if (size < PPI_HEADER_SIZE) throw new WireError('MALFORMED', `PPI size ${size} at ${p - at} does not advance past its header (protocol.md §8 item 33)`);
    if (size > end - p) throw new WireError('TRUNCATED', `PPI size ${size} at ${p - at} runs past the area (${end - p} left)`);
    const typeWord = dv.getUint32(p + 4, true);
    const off = dv.getUint32(p + 8, true);
    if (off < PPI_HEADER_SIZE || off > size - 4) throw new WireError('MALFORMED', `PPI ppi_offset ${off} leaves no 4-byte value inside its ${size}-byte element`);
    const v = dv.getUint32(p + off, true);
    const internal = typeWord >>> 31;
    const type = typeWord & 0x7fffffff;
    if (internal === 0) {
      switch (type) {
        case C.TCPIP_CHKSUM_PKTINFO:
          slots.csum = v;
          slots.present |= PPI_CSUM;
          break;
        case C.IEEE_8021Q_INFO:
          slots.vlan = v;
          slots.present |= PPI_VLAN;
          break;
        case C.TCP_LARGESEND_PKTINFO:
          slots.lso = v;
          slots.present |= PPI_LSO;
          break;
        case C.NBL_HASH_VALUE:
          slots.hash = v;
          slots.present |= PPI_HASH;
          break;
        default:
          slots.other++;
      }
    } else if (type === C.RNDIS_PKTINFO_ID) {
      slots.pktinfoId = v;
      slots.present |= PPI_PKTINFO_ID;
    } else slots.other++;
    p += size;
    n++;
  }
  return n;
}
