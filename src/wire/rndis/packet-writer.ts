/**
 * In-place writers for an RNDIS PACKET header and its PPIs (protocol.md §5.4, §5.5), to emit
 * straight into ring or send-buffer memory. The layout is the one Linux uses: 44-byte header,
 * PPIs from per_pkt_info_offset 36, then the frame right after the last PPI.
 */
import { WireError } from '../../core/index.js';
import * as C from '../constants.js';
import { PPI_HEADER_SIZE, PPI_SIZE } from '../ppi/layouts.js';
import { RNDIS_HEADER_SIZE, RNDIS_PACKET_HEADER_SIZE } from './layouts.js';

/**
 * Writes the 44-byte header at dv[at..] for `ppiCount` 16-byte PPIs and a frame of `dataLen`
 * bytes; returns the absolute offset of the first PPI. msg_len = 44 + 16·ppiCount + dataLen + pad.
 */
export function writeRndisPacketHeader(dv: DataView, at: number, ppiCount: number, dataLen: number, pad = 0): number {
  const ppiLen = ppiCount * PPI_SIZE;
  const msgLen = RNDIS_PACKET_HEADER_SIZE + ppiLen + dataLen + pad;
  if (at < 0 || at + msgLen > dv.byteLength) throw new WireError('TRUNCATED', `RNDIS packet of ${msgLen} bytes does not fit at ${at} in ${dv.byteLength}`);
  const ppiOffset = RNDIS_PACKET_HEADER_SIZE - RNDIS_HEADER_SIZE;
  dv.setUint32(at, C.RNDIS_MSG_PACKET, true);
  dv.setUint32(at + 4, msgLen, true);
  dv.setUint32(at + 8, ppiOffset + ppiLen, true); // data_offset, from byte 8
  dv.setUint32(at + 12, dataLen, true);
  dv.setUint32(at + 16, 0, true);
  dv.setUint32(at + 20, 0, true);
  dv.setUint32(at + 24, 0, true);
  dv.setUint32(at + 28, ppiOffset, true); // per_pkt_info_offset: 36, even with no PPIs
  dv.setUint32(at + 32, ppiLen, true);
  dv.setUint32(at + 36, 0, true);
  dv.setUint32(at + 40, 0, true);
  return at + RNDIS_PACKET_HEADER_SIZE;
}

/** Writes one 16-byte PPI with a u32 value at `at`; returns the offset after it. */
export function writePpi(dv: DataView, at: number, type: number, internal: number, value: number): number {
  if (at < 0 || at + PPI_SIZE > dv.byteLength) throw new WireError('TRUNCATED', `PPI at ${at} does not fit in ${dv.byteLength}`);
  dv.setUint32(at, PPI_SIZE, true);
  dv.setUint32(at + 4, ((type & 0x7fffffff) | (internal << 31)) >>> 0, true);
  dv.setUint32(at + 8, PPI_HEADER_SIZE, true);
  dv.setUint32(at + 12, value >>> 0, true);
  return at + PPI_SIZE;
}
