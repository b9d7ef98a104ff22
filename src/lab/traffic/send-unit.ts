/**
 * What one generator send puts on the NIC, built once per frame size: one frame (possibly an LSO
 * super-frame carrying several payload records) or the IP fragments of one datagram. Per send
 * only the record seq fields, the TCP sequence number, the IP identification and (incrementally,
 * RFC 1624) the checksums that cover them change, so a send allocates nothing.
 */
import { buildTcp4Frame, buildTcp6Frame, buildUdp4Frame, buildUdp6Frame, fillIpv4HeaderChecksum, fillL4Checksum, FrameSpec } from '../../packet/index.js';
import { PAYLOAD_SEQ_AT, writePayload } from './payload.js';
import type { GeneratorSpec } from './spec.js';
import { frameHeaderLen, ipHeaderLen, ipv4ToNumber, ipv6Bytes, l4HeaderLen, macBytes, recordsPerSend, tcpMss } from './spec.js';

/** How the L4 checksum is kept: by the generator (incrementally), or by the driver's xmit(). */
export type ChecksumOwner = 'generator' | 'stack';

export interface SendUnit {
  /** One frame, or a datagram's fragments in order. */
  readonly frames: readonly Uint8Array[];
  readonly lens: readonly number[];
  /** Payload records per send (seq numbers it consumes). */
  readonly records: number;
  /** Offsets in frames[0] of each record's seq field. */
  readonly seqAt: readonly number[];
  readonly csum: ChecksumOwner;
  /** Offset in frames[0] of the L4 checksum the generator keeps, or -1. */
  readonly csumAt: number;
  /** That checksum with every seq field, TCP sequence, ICMP sequence at 0. */
  readonly csum0: number;
  /** TCP sequence number field in frames[0], or -1. */
  readonly tcpSeqAt: number;
  /** TCP payload bytes per send (how far the TCP sequence advances). */
  readonly tcpBytes: number;
  /** ICMP echo sequence field in frames[0], or -1. */
  readonly icmpSeqAt: number;
  /** Per fragment: the IP identification field (IPv4 16 bits, IPv6 fragment header 32), or empty. */
  readonly idAt: readonly number[];
  /** Per frame: the IPv4 header offset whose checksum the generator refills, or -1. */
  readonly ipv4At: readonly number[];
  /** LSO: segment size handed to xmit(); 0 = not LSO. */
  readonly mss: number;
  /** 802.1Q TCI in the frames, or -1. */
  readonly tci: number;
  /** LSO: where the IP length field sits and what it must say (xmit zeroes it). */
  readonly lenAt: number;
  readonly lenValue: number;
}

const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_FRAGMENT = 44;

function frameSpec(spec: GeneratorSpec): FrameSpec {
  const s = new FrameSpec();
  s.dstMac.set(macBytes(spec.dstMac));
  s.srcMac.set(macBytes(spec.srcMac));
  if (spec.family === 'ipv6') {
    s.src6.set(ipv6Bytes(spec.src)!);
    s.dst6.set(ipv6Bytes(spec.dst)!);
  } else {
    s.src4 = ipv4ToNumber(spec.src);
    s.dst4 = ipv4ToNumber(spec.dst);
  }
  s.srcPort = spec.srcPort;
  s.dstPort = spec.dstPort;
  s.vlanTci = spec.vlan;
  // Fragmented IPv4 datagrams must be allowed to fragment.
  s.dontFragment = !spec.fragment;
  return s;
}

/** Builds the whole datagram/frame for `size` into a fresh buffer; returns it and its layout. */
function buildWhole(spec: GeneratorSpec, s: FrameSpec, size: number, records: number, recLen: number): { frame: Uint8Array; len: number; l2: number; l4: number } {
  const v6 = spec.family === 'ipv6';
  const l2 = 14 + (spec.vlan >= 0 ? 4 : 0);
  const l4 = l2 + ipHeaderLen(spec.family);
  const payloadLen = records > 1 ? records * recLen : size - frameHeaderLen(spec.protocol, spec.family, spec.vlan);
  const payload = new Uint8Array(payloadLen);
  for (let r = 0; r < records; r++) writePayload(payload, r * (records > 1 ? recLen : 0), records > 1 ? recLen : payloadLen, spec.flow, 0);
  const frame = new Uint8Array(l4 + l4HeaderLen(spec.protocol) + payloadLen);
  let len: number;
  if (spec.protocol === 'tcp') len = v6 ? buildTcp6Frame(frame, 0, s, payload, 0, payloadLen) : buildTcp4Frame(frame, 0, s, payload, 0, payloadLen);
  else len = v6 ? buildUdp6Frame(frame, 0, s, payload, 0, payloadLen) : buildUdp4Frame(frame, 0, s, payload, 0, payloadLen);
  if (spec.protocol === 'icmp') toIcmpEcho(frame, l2, l4, len, v6, spec.flow);
  return { frame, len, l2, l4 };
}

/** Turns a built UDP frame into an ICMP(v6) echo request of the same size: the 8-byte headers align. */
function toIcmpEcho(f: Uint8Array, ip: number, l4: number, len: number, v6: boolean, flow: number): void {
  f[v6 ? ip + 6 : ip + 9] = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  if (!v6) fillIpv4HeaderChecksum(f, ip);
  f[l4] = v6 ? 128 : 8; // echo request
  f[l4 + 1] = 0;
  f[l4 + 4] = (flow >>> 8) & 0xff; // identifier
  f[l4 + 5] = flow & 0xff;
  f[l4 + 6] = 0; // sequence, patched per send
  f[l4 + 7] = 0;
  fillL4Checksum(f, ip, v6, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4, len - l4);
}

/** Builds the send unit for one frame size of the spec. */
export function buildSendUnit(spec: GeneratorSpec, size: number): SendUnit {
  const s = frameSpec(spec);
  const v6 = spec.family === 'ipv6';
  const records = recordsPerSend(spec, size, spec.mtu);
  const mss = records > 1 ? tcpMss(spec.family, spec.mtu) : 0;
  const { frame, len, l2, l4 } = buildWhole(spec, s, size, records, mss);
  const l4h = l4HeaderLen(spec.protocol);
  const csumAt = l4 + (spec.protocol === 'tcp' ? 16 : spec.protocol === 'udp' ? 6 : 2);
  const seqAt = Array.from({ length: records }, (_, r) => l4 + l4h + r * mss + PAYLOAD_SEQ_AT);
  const tcp = spec.protocol === 'tcp';
  const base = {
    records,
    seqAt,
    csumAt,
    csum0: (frame[csumAt]! << 8) | frame[csumAt + 1]!,
    tcpSeqAt: tcp ? l4 + 4 : -1,
    tcpBytes: tcp ? len - l4 - l4h : 0,
    icmpSeqAt: spec.protocol === 'icmp' ? l4 + 6 : -1,
    mss,
    tci: spec.vlan,
    lenAt: v6 ? l2 + 4 : l2 + 2,
    lenValue: v6 ? len - l4 : len - l2,
  };
  // TCP and UDP on the stack path ask xmit() for the checksum (host offload or software) unless
  // told to sum them here; ICMP and fragments carry a checksum the generator computed (one over a
  // whole datagram cannot be filled fragment by fragment).
  const csum: ChecksumOwner = spec.stack && !spec.softwareChecksum && !spec.fragment && spec.protocol !== 'icmp' ? 'stack' : 'generator';
  if (!spec.fragment || len - l2 <= spec.mtu) return { ...base, frames: [frame], lens: [len], csum, idAt: [], ipv4At: [] };
  // An IPv6 first fragment has the 8-byte fragment header before the L4 header.
  const d = v6 ? 8 : 0;
  const shifted = { seqAt: seqAt.map((x) => x + d), csumAt: csumAt + d, icmpSeqAt: base.icmpSeqAt < 0 ? -1 : base.icmpSeqAt + d };
  return { ...base, ...shifted, ...fragment(frame, len, l2, v6, spec.mtu), csum };
}

/** Cuts a whole datagram into IP fragments of at most `mtu` bytes (RFC 791 / RFC 8200 §4.5). */
function fragment(whole: Uint8Array, len: number, l2: number, v6: boolean, mtu: number): Pick<SendUnit, 'frames' | 'lens' | 'idAt' | 'ipv4At'> {
  const ipLen = v6 ? 40 : 20;
  const extra = v6 ? 8 : 0;
  const chunk = Math.floor((mtu - ipLen - extra) / 8) * 8;
  const l4 = l2 + ipLen;
  const body = len - l4; // L4 header + payload: what the fragments share out
  const nextHeader = whole[l2 + 6]!;
  const frames: Uint8Array[] = [];
  const lens: number[] = [];
  const idAt: number[] = [];
  const ipv4At: number[] = [];
  for (let at = 0; at < body; at += chunk) {
    const n = Math.min(chunk, body - at);
    const more = at + n < body;
    const f = new Uint8Array(l4 + extra + n);
    f.set(whole.subarray(0, l4), 0);
    f.set(whole.subarray(l4 + at, l4 + at + n), l4 + extra);
    if (v6) {
      f[l2 + 4] = (extra + n) >>> 8;
      f[l2 + 5] = (extra + n) & 0xff;
      f[l2 + 6] = IPPROTO_FRAGMENT;
      f[l4] = nextHeader;
      f[l4 + 1] = 0;
      const offField = at | (more ? 1 : 0); // offset in 8-byte units << 3, M flag in bit 0
      f[l4 + 2] = offField >>> 8;
      f[l4 + 3] = offField & 0xff;
      idAt.push(l4 + 4);
    } else {
      const total = ipLen + n;
      f[l2 + 2] = total >>> 8;
      f[l2 + 3] = total & 0xff;
      const flags = (more ? 0x2000 : 0) | (at >>> 3);
      f[l2 + 6] = flags >>> 8;
      f[l2 + 7] = flags & 0xff;
      idAt.push(l2 + 4);
      ipv4At.push(l2);
    }
    frames.push(f);
    lens.push(f.length);
  }
  return { frames, lens, idAt, ipv4At };
}

/** The IP identification of a flow's datagram: flows differ, so their fragments do not alias. */
export function datagramId(flow: number, seq: number): number {
  return (Math.imul(flow, 4099) + seq) >>> 0;
}
