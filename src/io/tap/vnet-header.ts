/**
 * The virtio-net header Linux puts before every frame on a TAP opened with IFF_VNET_HDR
 * (struct virtio_net_hdr, 10 bytes, or 12 with the trailing num_buffers field). We ask for 12
 * (TUNSETVNETHDRSZ) and little-endian fields (TUNSETVNETLE): the 12-byte form is what virtio 1.0
 * devices always use, and num_buffers is simply 0 here.
 *
 *   0 flags u8 | 1 gso_type u8 | 2 hdr_len le16 | 4 gso_size le16 | 6 csum_start le16 | 8 csum_offset le16 | 10 num_buffers le16
 *
 * Byte reads, not DataView: these run once per frame and must not allocate.
 */
import { FRAME_F_DATA_VALID, FRAME_F_NEEDS_CSUM, FRAME_GSO_ECN, FRAME_GSO_NONE, FRAME_GSO_TCPV4, FRAME_GSO_TCPV6, FRAME_GSO_UDP, FRAME_GSO_UDP_L4, type FrameMeta } from '../../core/index.js';

/** The header size we configure on every TAP (bytes). */
export const VNET_HDR_LEN = 12;
/** The legacy size, without num_buffers; also accepted by the codec. */
export const VNET_HDR_LEN_LEGACY = 10;

const KNOWN_FLAGS = FRAME_F_NEEDS_CSUM | FRAME_F_DATA_VALID;

function le16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function putLe16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

/** Reads the header at b[at] into meta (reused). The caller has checked that the header fits. */
export function readVnetHeader(b: Uint8Array, at: number, meta: FrameMeta): void {
  meta.flags = b[at]!;
  meta.gsoType = b[at + 1]!;
  meta.hdrLen = le16(b, at + 2);
  meta.gsoSize = le16(b, at + 4);
  meta.csumStart = le16(b, at + 6);
  meta.csumOffset = le16(b, at + 8);
}

/**
 * Writes meta as a header of hdrLen (10 or 12) bytes at b[at]; num_buffers is written as 0.
 * `shift`: bytes inserted into the frame before its L3 header (an 802.1Q tag put back), which
 * hdr_len and csum_start then count.
 */
export function writeVnetHeader(b: Uint8Array, at: number, hdrLen: number, meta: FrameMeta, shift = 0): void {
  b[at] = meta.flags;
  b[at + 1] = meta.gsoType;
  putLe16(b, at + 2, meta.hdrLen === 0 ? 0 : meta.hdrLen + shift);
  putLe16(b, at + 4, meta.gsoSize);
  putLe16(b, at + 6, (meta.flags & FRAME_F_NEEDS_CSUM) !== 0 ? meta.csumStart + shift : meta.csumStart);
  putLe16(b, at + 8, meta.csumOffset);
  if (hdrLen === VNET_HDR_LEN) putLe16(b, at + 10, 0);
}

/**
 * Whether meta makes sense for a frame of frameLen bytes: known flags and GSO type, a partial
 * checksum field inside the frame, and a segment size for a GSO super-frame. The kernel rejects
 * writes that fail these (EINVAL); on receive a failing header means a frame we must drop.
 */
export function vnetHeaderValid(meta: FrameMeta, frameLen: number): boolean {
  if ((meta.flags & ~KNOWN_FLAGS) !== 0) return false;
  if ((meta.flags & FRAME_F_NEEDS_CSUM) !== 0 && meta.csumStart + meta.csumOffset + 2 > frameLen) return false;
  const gso = meta.gsoType & ~FRAME_GSO_ECN;
  if (gso === FRAME_GSO_NONE) return meta.gsoType === FRAME_GSO_NONE;
  if (gso !== FRAME_GSO_TCPV4 && gso !== FRAME_GSO_TCPV6 && gso !== FRAME_GSO_UDP && gso !== FRAME_GSO_UDP_L4) return false;
  return meta.gsoSize > 0;
}
