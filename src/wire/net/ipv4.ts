/**
 * IPv4 header (RFC 791). Options are skipped by IHL; a packet is a fragment when MF is set or
 * the fragment offset is non-zero (vectors.md §1.7, §6.2).
 */
import { NetView } from './view.js';

const F = { verIhl: 0, tos: 1, totalLength: 2, id: 4, flagsFrag: 6, ttl: 8, protocol: 9, checksum: 10, src: 12, dst: 16 } as const;
export const IPV4_HLEN = 20;
const DF = 0x4000;
const MF = 0x2000;

export class Ipv4View extends NetView {
  headerLen = IPV4_HLEN;
  /** The packet's length: the total length field, or the bound length for an LSO super-frame. */
  totalLen = IPV4_HLEN;

  /**
   * Binds to an IPv4 packet of up to len bytes (trailing Ethernet padding is allowed). With `lso`,
   * a total length of 0 means "the rest of the buffer": Linux zeroes it in LSO super-frames
   * (vectors.md §4.7).
   */
  tryBind(bytes: Uint8Array, at: number, len: number, lso = false): boolean {
    if (!this.region(bytes, at, len, IPV4_HLEN, 'IPv4 header shorter than 20 bytes')) return false;
    const vi = this.u8(F.verIhl);
    if (vi >>> 4 !== 4) return this.fail('MALFORMED', 'IPv4 version is not 4');
    const hl = (vi & 0x0f) * 4;
    if (hl < IPV4_HLEN) return this.fail('MALFORMED', 'IPv4 IHL below 5');
    if (hl > len) return this.fail('TRUNCATED', 'IPv4 options run past the packet');
    const total = this.u16(F.totalLength);
    if (lso && total === 0) {
      this.totalLen = len;
    } else {
      if (total < hl) return this.fail('MALFORMED', 'IPv4 total length shorter than its header');
      if (total > len) return this.fail('TRUNCATED', 'IPv4 total length runs past the frame');
      this.totalLen = total;
    }
    this.headerLen = hl;
    return true;
  }

  /** tryBind() or throw WireError. */
  bind(bytes: Uint8Array, at: number, len: number, lso = false): this {
    if (!this.tryBind(bytes, at, len, lso)) this.raise();
    return this;
  }

  get tos(): number {
    return this.u8(F.tos);
  }
  get totalLengthField(): number {
    return this.u16(F.totalLength);
  }
  get id(): number {
    return this.u16(F.id);
  }
  get dontFragment(): boolean {
    return (this.u16(F.flagsFrag) & DF) !== 0;
  }
  get moreFragments(): boolean {
    return (this.u16(F.flagsFrag) & MF) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (this.u16(F.flagsFrag) & 0x1fff) * 8;
  }
  /** MF set or a non-zero offset: this is one piece of a larger datagram. */
  get isFragment(): boolean {
    return (this.u16(F.flagsFrag) & (MF | 0x1fff)) !== 0;
  }
  get ttl(): number {
    return this.u8(F.ttl);
  }
  get protocol(): number {
    return this.u8(F.protocol);
  }
  get checksum(): number {
    return this.u16(F.checksum);
  }
  /** Source address as an unsigned 32-bit number (network order). */
  get src(): number {
    return this.u32(F.src);
  }
  get dst(): number {
    return this.u32(F.dst);
  }
  /** Absolute offset of the source address; the destination follows it. */
  get srcOffset(): number {
    return this.at + F.src;
  }
  get payloadOffset(): number {
    return this.at + this.headerLen;
  }
  get payloadLen(): number {
    return this.totalLen - this.headerLen;
  }

  setTotalLength(v: number): void {
    this.set16(F.totalLength, v);
  }
  setId(v: number): void {
    this.set16(F.id, v);
  }
  setChecksum(v: number): void {
    this.set16(F.checksum, v);
  }
}

/**
 * Writes a 20-byte IPv4 header (no options, checksum 0: fill it with packet/checksum) and
 * returns 20. Addresses are unsigned 32-bit numbers in network order.
 */
export function writeIpv4Header(
  out: Uint8Array,
  at: number,
  totalLength: number,
  id: number,
  ttl: number,
  protocol: number,
  src: number,
  dst: number,
  tos = 0,
  dontFragment = true,
): number {
  out[at] = 0x45;
  out[at + 1] = tos;
  out[at + 2] = (totalLength >>> 8) & 0xff;
  out[at + 3] = totalLength & 0xff;
  out[at + 4] = (id >>> 8) & 0xff;
  out[at + 5] = id & 0xff;
  out[at + 6] = dontFragment ? DF >>> 8 : 0;
  out[at + 7] = 0;
  out[at + 8] = ttl;
  out[at + 9] = protocol;
  out[at + 10] = 0;
  out[at + 11] = 0;
  for (let i = 0; i < 4; i++) {
    out[at + 12 + i] = (src >>> (24 - 8 * i)) & 0xff;
    out[at + 16 + i] = (dst >>> (24 - 8 * i)) & 0xff;
  }
  return IPV4_HLEN;
}
