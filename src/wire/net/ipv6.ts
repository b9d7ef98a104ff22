/**
 * IPv6 header (RFC 8200) and its extension-header chain. Hop-by-hop, routing, destination
 * options and AH are skipped with bounds checks; a fragment header is recognised, and after a
 * non-first fragment there is no upper-layer header to find (vectors.md §1.7, §6.2).
 */
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
} from './protocols.js';
import { NetView } from './view.js';

export const IPV6_HLEN = 40;
const F = { payloadLength: 4, nextHeader: 6, hopLimit: 7, src: 8, dst: 24 } as const;

export class Ipv6View extends NetView {
  /** The packet's length: 40 + payload length, or the bound length for an LSO super-frame. */
  totalLen = IPV6_HLEN;
  /** The protocol after the extension headers (TCP, UDP, ICMPv6, ...). */
  upperProtocol = 0;
  /** Absolute offset of the upper-layer header; -1 after a non-first fragment. */
  upperOffset = -1;
  /** Bytes of extension headers between the fixed header and the upper layer. */
  extLen = 0;
  /** A fragment header was present (even an atomic one). */
  hasFragmentHeader = false;
  /** M set or a non-zero offset in the fragment header. */
  isFragment = false;
  /** Absolute offset of the fragment header, or -1. */
  fragmentHeaderOffset = -1;

  /**
   * Binds to an IPv6 packet of up to len bytes and walks its extension headers. With `lso`, a
   * payload length of 0 means "the rest of the buffer" (protocol.md §6.2: GSO leaves it 0).
   */
  tryBind(bytes: Uint8Array, at: number, len: number, lso = false): boolean {
    if (!this.region(bytes, at, len, IPV6_HLEN, 'IPv6 header shorter than 40 bytes')) return false;
    if (this.u8(0) >>> 4 !== 6) return this.fail('MALFORMED', 'IPv6 version is not 6');
    const pl = this.u16(F.payloadLength);
    if (lso && pl === 0) {
      this.totalLen = len;
    } else {
      if (IPV6_HLEN + pl > len) return this.fail('TRUNCATED', 'IPv6 payload length runs past the frame');
      this.totalLen = IPV6_HLEN + pl;
    }
    return this.walk();
  }

  /** tryBind() or throw WireError. */
  bind(bytes: Uint8Array, at: number, len: number, lso = false): this {
    if (!this.tryBind(bytes, at, len, lso)) this.raise();
    return this;
  }

  private walk(): boolean {
    const b = this.bytes;
    const end = this.at + this.totalLen;
    let next = this.u8(F.nextHeader);
    let o = this.at + IPV6_HLEN;
    this.hasFragmentHeader = false;
    this.isFragment = false;
    this.fragmentHeaderOffset = -1;
    for (;;) {
      if (next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS || next === IPPROTO_AH) {
        if (o + 8 > end) return this.fail('TRUNCATED', 'IPv6 extension header runs past the packet');
        // AH counts 4-byte units minus 2 (RFC 4302); the others 8-byte units minus 1 (RFC 8200 §4).
        const hl = next === IPPROTO_AH ? (b[o + 1]! + 2) * 4 : (b[o + 1]! + 1) * 8;
        if (o + hl > end) return this.fail('TRUNCATED', 'IPv6 extension header runs past the packet');
        next = b[o]!;
        o += hl;
      } else if (next === IPPROTO_FRAGMENT) {
        if (o + 8 > end) return this.fail('TRUNCATED', 'IPv6 fragment header runs past the packet');
        const offFlags = (b[o + 2]! << 8) | b[o + 3]!;
        this.hasFragmentHeader = true;
        this.fragmentHeaderOffset = o;
        this.isFragment = (offFlags & 0xfff9) !== 0;
        next = b[o]!;
        o += 8;
        if ((offFlags & 0xfff8) !== 0) {
          // A non-first fragment: the bytes that follow are the middle of the upper layer.
          this.upperProtocol = next;
          this.upperOffset = -1;
          this.extLen = o - this.at - IPV6_HLEN;
          return true;
        }
      } else {
        this.upperProtocol = next;
        this.upperOffset = o;
        this.extLen = o - this.at - IPV6_HLEN;
        return true;
      }
    }
  }

  get trafficClass(): number {
    return (this.u16(0) >>> 4) & 0xff;
  }
  get flowLabel(): number {
    return this.u32(0) & 0xfffff;
  }
  get payloadLengthField(): number {
    return this.u16(F.payloadLength);
  }
  get nextHeader(): number {
    return this.u8(F.nextHeader);
  }
  get hopLimit(): number {
    return this.u8(F.hopLimit);
  }
  /** Absolute offset of the 16-byte source address; the destination follows it. */
  get srcOffset(): number {
    return this.at + F.src;
  }
  get dstOffset(): number {
    return this.at + F.dst;
  }
  /** Bytes of upper-layer header and data, or 0 when there is no upper layer in this packet. */
  get upperLen(): number {
    return this.upperOffset < 0 ? 0 : this.at + this.totalLen - this.upperOffset;
  }

  setPayloadLength(v: number): void {
    this.set16(F.payloadLength, v);
  }
}

/**
 * Writes a 40-byte IPv6 header and returns 40. Addresses are the first 16 bytes of src and dst.
 */
export function writeIpv6Header(
  out: Uint8Array,
  at: number,
  payloadLength: number,
  nextHeader: number,
  hopLimit: number,
  src: Uint8Array,
  dst: Uint8Array,
  trafficClass = 0,
  flowLabel = 0,
): number {
  out[at] = 0x60 | (trafficClass >>> 4);
  out[at + 1] = ((trafficClass & 0x0f) << 4) | ((flowLabel >>> 16) & 0x0f);
  out[at + 2] = (flowLabel >>> 8) & 0xff;
  out[at + 3] = flowLabel & 0xff;
  out[at + 4] = (payloadLength >>> 8) & 0xff;
  out[at + 5] = payloadLength & 0xff;
  out[at + 6] = nextHeader;
  out[at + 7] = hopLimit;
  for (let i = 0; i < 16; i++) {
    out[at + 8 + i] = src[i]!;
    out[at + 24 + i] = dst[i]!;
  }
  return IPV6_HLEN;
}
