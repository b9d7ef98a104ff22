/**
 * The emulated VF's TX offload engine (what a real VF's hardware does with a TX descriptor's
 * offload requests, protocol.md §5.5, §6.2): a checksum request finishes the L4 checksum the
 * guest seeded with the pseudo-header; an LSOv2 request cuts the super-frame into MSS-sized
 * segments with packet's TcpSegmenter; a VLAN request tags every frame it sends (the switch
 * carries the tag beside the bytes, as the synthetic path's VLAN PPI). Works in place or into one preallocated scratch buffer:
 * nothing allocates per frame. A request the frame does not fit (bad offsets, a non-TCP LSO, an
 * MSS that makes too many segments) drops the frame and counts it.
 */
import { isNetvscError } from '../../core/index.js';
import { completeSeededChecksum, TcpSegmenter } from '../../packet/index.js';
import { csumTxTcpHeaderOffset, lsoMss } from '../../wire/index.js';
import type { VfFrameHandler } from '../../host/index.js';

const CSUM_IPV6 = 1 << 1;
const CSUM_TCP = 1 << 2;
const CSUM_UDP = 1 << 3;
/** Room for a 64 KB super-frame cut at any MSS down to ~64 B (headers repeat per segment). */
const SCRATCH_BYTES = 1 << 20;
const MAX_SEGMENTS = 4096;

export interface VfTxOffloadCounters {
  /** L4 checksums finished by the VF. */
  csum_filled: number;
  /** LSO super-frames cut, and the segments they made. */
  lso_frames: number;
  lso_segments: number;
  /** Frames dropped because their offload request did not fit the frame. */
  offload_errors: number;
  /** Frames sent with an 802.1Q tag the VF inserted (each segment of a super-frame counts). */
  vlan_inserted: number;
}

export class VfTxOffload {
  readonly counters: VfTxOffloadCounters = { csum_filled: 0, lso_frames: 0, lso_segments: 0, offload_errors: 0, vlan_inserted: 0 };
  private readonly seg = new TcpSegmenter();
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly offsets = new Uint32Array(MAX_SEGMENTS);
  private readonly lengths = new Uint32Array(MAX_SEGMENTS);

  /**
   * Hands the frame b[off, off+len) to fn as the wire sees it, tagged with `vlan` (an 802.1Q PPI
   * value, -1 = untagged); returns the frames handed (0 = dropped).
   */
  finish(b: Uint8Array, off: number, len: number, csum: number, lso: number, vlan: number, fn: VfFrameHandler): number {
    const n = lso !== 0 ? this.cut(b, off, len, lso, vlan, fn) : this.single(b, off, len, csum, vlan, fn);
    if (vlan >= 0) this.counters.vlan_inserted += n;
    return n;
  }

  private single(b: Uint8Array, off: number, len: number, csum: number, vlan: number, fn: VfFrameHandler): number {
    if (csum !== 0 && !this.fillChecksum(b, off, len, csum)) {
      this.counters.offload_errors++;
      return 0;
    }
    fn(b, off, len, vlan);
    return 1;
  }

  private cut(b: Uint8Array, off: number, len: number, lso: number, vlan: number, fn: VfFrameHandler): number {
    let n: number;
    try {
      n = this.seg.segment(b, off, len, lsoMss(lso), this.scratch, 0, this.offsets, this.lengths);
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.offload_errors++;
      return 0;
    }
    this.counters.lso_frames++;
    this.counters.lso_segments += n;
    for (let i = 0; i < n; i++) fn(this.scratch, this.offsets[i]!, this.lengths[i]!, vlan);
    return n;
  }

  /** Finishes a seeded TCP/UDP checksum in place; false when the request does not fit the frame. */
  private fillChecksum(b: Uint8Array, off: number, len: number, csum: number): boolean {
    const proto = (csum & CSUM_TCP) !== 0 ? 6 : (csum & CSUM_UDP) !== 0 ? 17 : 0;
    if (proto === 0 || len < 14) return false;
    const ipOff = ((b[off + 12]! << 8) | b[off + 13]!) === 0x8100 ? off + 18 : off + 14;
    const l4Off = off + csumTxTcpHeaderOffset(csum);
    const end = off + len;
    if (l4Off <= ipOff || l4Off + (proto === 6 ? 20 : 8) > end) return false;
    // The L4 length from the IP header (the frame may carry Ethernet padding past it).
    const ipEnd = (csum & CSUM_IPV6) !== 0 ? ipOff + 40 + ((b[ipOff + 4]! << 8) | b[ipOff + 5]!) : ipOff + ((b[ipOff + 2]! << 8) | b[ipOff + 3]!);
    if (ipEnd > end || ipEnd <= l4Off) return false;
    completeSeededChecksum(b, proto, l4Off, ipEnd - l4Off);
    this.counters.csum_filled++;
    return true;
  }
}
