/**
 * Transmit offloads the host performs for a guest's frame before it enters the switch
 * (protocol.md §6.1–6.2, issue 5 items 1–2), one instance per queue with its own scratch:
 * - **LSOv2** (TCP_LARGESEND PPI): the super-frame is cut into MSS-sized segments by
 *   TcpSegmenter (sequence numbers, IPv4 ids, lengths, flags, checksums) and each segment is
 *   forwarded on its own;
 * - **checksum** (TCPIP_CHKSUM PPI, transmit form): the TCP or UDP checksum is computed over the
 *   pseudo-header of the frame's own IP header (fillL4Checksum, which ignores whatever seed the
 *   guest left in the field), but only for the classes the host profile offers (WS2012/2012 R2:
 *   TCP only). A request the profile does not offer, or one that names the wrong protocol, is
 *   dropped and counted: a real host would put a frame with a wrong checksum on the wire;
 * - **receive checksum state**: a frame whose L4 checksum the host computed (above, or LSO) gets
 *   "succeeded" for it; a checksum the guest computed itself passes unverified, with no L4 bits,
 *   so the receiver's stack verifies it (docs/design.md: the host thread is shared by every VM,
 *   and Linux re-verifies a "failed" frame anyway, §6.3). The IPv4 header checksum is always the
 *   guest's (Linux never asks, §6.1); the host verifies it (20 bytes).
 * The guest's memory is never written: a frame that needs changes is copied into scratch first.
 */
import { isNetvscError, WireError } from '../../core/index.js';
import {
  ALIGN_MIN_LEN,
  alignGap,
  checksumArena,
  classifyFrame,
  copyBytes,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  FlowKey,
  TcpSegmenter,
  verifyIpv4HeaderChecksum,
} from '../../packet/index.js';
import { CSUM_RX, IPPROTO_TCP, IPPROTO_UDP, lsoIpv6, lsoMss } from '../../wire/index.js';
import type { QueueCounters } from '../counters.js';
import type { ChecksumOffload, HostProfile } from '../profiles.js';
import { ViewCache } from './view-cache.js';
import type { PortFrameMeta } from '../vswitch/port.js';

/** Where finished frames go (the switch). */
export type FrameOut = (bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta) => void;

/** Checksum PPI, transmit form (§5.5): bit 2 tcp_checksum, bit 3 udp_checksum, bit 4 ip_header_checksum. */
const CSUM_TX_TCP = 1 << 2;
const CSUM_TX_UDP = 1 << 3;
const CSUM_TX_IP = 1 << 4;
/** A 64 KiB super-frame cut at MSS 88 or more (IPv6 minimum MTU 1280 leaves ≥ 1220). */
const MAX_SEGMENTS = 768;
/** Segments one after another: the payload once plus one header copy (≤ 14+4+60+60) and an alignment gap (≤ 7) per segment. */
const SEG_SCRATCH = 65536 + MAX_SEGMENTS * 148;

/** Which receive-form bits a frame of this class earns, or 0 when the profile does not offer it. */
function offered(c: ChecksumOffload, v6: boolean, proto: number): boolean {
  if (proto === IPPROTO_TCP) return v6 ? c.tcp6 : c.tcp4;
  if (proto === IPPROTO_UDP) return v6 ? c.udp6 : c.udp4;
  return false;
}

export class TxOffload {
  private readonly key = new FlowKey();
  private readonly seg = new TcpSegmenter();
  /** In WebAssembly memory, so each segment's checksum is summed by SIMD (packet/checksum-simd). */
  private readonly segOut = checksumArena(SEG_SCRATCH);
  private readonly segOff = new Uint32Array(MAX_SEGMENTS);
  private readonly segLen = new Uint32Array(MAX_SEGMENTS);
  /** Views of the segments in segOut and of frames in `frame` (at most 8 alignments × the sizes seen). */
  private readonly views = new ViewCache(10);
  /** One checksum-offloaded frame (≤ 64 KiB). */
  private readonly frame = checksumArena(65536 + 64);
  private readonly sFilled: number;
  private readonly sSegments: number;

  constructor(
    private readonly profile: HostProfile,
    private readonly counters: QueueCounters,
    /** Whether the frame's unicast destination takes super-frames whole (an RSC receiver). */
    private readonly peerTakesSuperFrames: (bytes: Uint8Array, off: number) => boolean = () => false,
  ) {
    this.sFilled = counters.slot('tx_csum_filled');
    this.sSegments = counters.slot('tx_lso_segments');
  }

  /**
   * Applies the offloads `meta` asks for and hands each resulting frame to `out`. `owned`: the
   * bytes are the host's own copy (TxPath's gather scratch), so a super-frame for an RSC receiver
   * may be finished in place instead of copied; guest memory is never passed as owned.
   */
  process(u8: Uint8Array, off: number, len: number, meta: PortFrameMeta, out: FrameOut, owned = false): void {
    if (meta.lso !== 0) return this.lso(u8, off, len, meta, out, owned);
    const k = this.key;
    const ip = classifyFrame(u8, off, len, k);
    const asked = meta.csumTx & (CSUM_TX_TCP | CSUM_TX_UDP);
    if (asked !== 0) {
      const proto = asked === CSUM_TX_TCP ? IPPROTO_TCP : asked === CSUM_TX_UDP ? IPPROTO_UDP : -1;
      if (!ip || k.l4Off < 0 || k.l4Proto !== proto) return this.drop('tx_csum_bad');
      const v6 = k.ipVersion === 6;
      if (!offered(this.profile.checksum, v6, proto)) return this.drop('tx_csum_not_offered');
      const f = this.frame;
      // The copy keeps the frame's address mod 8 (alignGap), so it and the receiver's copy of it
      // move words; both are native when the bytes have cached views (view-cache.ts).
      const fo = alignGap(u8.byteOffset + off, f.byteOffset);
      if (fo + len > f.length) return this.drop('tx_csum_bad');
      const v = meta.viewOf(u8, off, len);
      if (v !== null) f.set(v, fo);
      else copyBytes(u8, off, f, fo, len);
      const ipOff = k.ipOff - off + fo;
      fillL4Checksum(f, ipOff, v6, proto, k.l4Off - off + fo, k.l4Len);
      if (!v6 && (meta.csumTx & CSUM_TX_IP) !== 0) fillIpv4HeaderChecksum(f, ipOff);
      this.counters.add(this.sFilled);
      meta.csumRx = (proto === IPPROTO_TCP ? CSUM_RX.tcpChecksumSucceeded : CSUM_RX.udpChecksumSucceeded) | this.ipState(f, ipOff, v6);
      meta.setView(len >= ALIGN_MIN_LEN ? this.views.get(f, fo, len) : null, f, fo);
      return out(f, fo, len, meta);
    }
    // A checksum the guest computed is not verified here (the receiver's stack does): only the IPv4 header.
    meta.csumRx = ip ? this.ipState(u8, k.ipOff, k.ipVersion === 6) : 0;
    out(u8, off, len, meta);
  }

  private ipState(u8: Uint8Array, ipOff: number, v6: boolean): number {
    if (v6) return 0;
    return verifyIpv4HeaderChecksum(u8, ipOff) ? CSUM_RX.ipChecksumSucceeded : CSUM_RX.ipChecksumFailed;
  }

  private lso(u8: Uint8Array, off: number, len: number, meta: PortFrameMeta, out: FrameOut, owned: boolean): void {
    const v6 = lsoIpv6(meta.lso);
    const cap = this.profile.lsoV2;
    if (!(v6 ? cap.ipv6 : cap.ipv4)) return this.drop('tx_lso_not_offered');
    // At most 64 KiB of IP packet (IPv6: of payload after the fixed header), 802.1Q tag allowed.
    if (len - 18 - (v6 ? 40 : 0) > 65535) return this.drop('tx_lso_bad');
    const mss = lsoMss(meta.lso);
    // An RSC receiver takes the super-frame whole: cut it as ONE segment (the MSS limit is above
    // 64 KiB), which sets its lengths, IPv4 header and TCP checksum, and send it with the LSO PPI
    // value kept so the receiver knows it stands for several segments. No 45-way cut and re-merge.
    // In the host's own scratch it is finished in place (no 64 KB copy into segOut).
    const whole = this.peerTakesSuperFrames(u8, off);
    let n: number;
    try {
      if (!(mss >= 1)) throw new WireError('MALFORMED', 'LSO MSS 0');
      if (whole && owned) {
        meta.lsoSegments = this.seg.finishInPlace(u8, off, len, mss);
        n = 0;
      } else {
        n = this.seg.segment(u8, off, len, whole ? 0xfffff : mss, this.segOut, 0, this.segOff, this.segLen);
        if (whole) meta.lsoSegments = Math.max(1, Math.ceil((this.segLen[0]! - this.seg.lastHeaderLen) / mss));
      }
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      return this.drop('tx_lso_bad');
    }
    if (!whole) meta.lso = 0;
    meta.csumTx = 0;
    // Every segment's checksums were just computed here (§6.2: the host finishes what LSO seeded).
    meta.csumRx = CSUM_RX.tcpChecksumSucceeded | (v6 ? 0 : CSUM_RX.ipChecksumSucceeded);
    if (!whole) this.counters.add(this.sSegments, n);
    if (n === 0) return out(u8, off, len, meta);
    // The cut of the same super-frame shape leaves its segments at the same places of segOut:
    // their cached views let the receiver copy each natively (view-cache.ts).
    for (let i = 0; i < n; i++) {
      const so = this.segOff[i]!;
      const sl = this.segLen[i]!;
      meta.setView(this.views.get(this.segOut, so, sl), this.segOut, so);
      out(this.segOut, so, sl, meta);
    }
  }

  private drop(name: 'tx_csum_bad' | 'tx_csum_not_offered' | 'tx_lso_bad' | 'tx_lso_not_offered'): void {
    this.counters.inc(name);
  }
}
