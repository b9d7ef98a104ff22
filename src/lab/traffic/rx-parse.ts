/**
 * Finds the lab payload in a received frame: Ethernet (an 802.1Q tag skipped if the frame still
 * has one) + IPv4 (any IHL) or IPv6 (with or without a fragment header) + UDP, TCP (any data
 * offset) or ICMP/ICMPv6 echo request. Fills a reused RxParse; byte reads only, once per frame.
 */
const ETH_HLEN = 14;

export const RX_NONE = 0;
/** A whole IP packet: payload at [payloadAt, end). */
export const RX_WHOLE = 1;
/** An IP fragment: data at [dataAt, dataAt+dataLen) is L4 bytes [fragOffset, …) of datagram `id`. */
export const RX_FRAGMENT = 2;

export class RxParse {
  kind = RX_NONE;
  payloadAt = 0;
  end = 0;
  dataAt = 0;
  dataLen = 0;
  fragOffset = 0;
  id = 0;
  /** Bytes of the L4 header that starts a datagram's first fragment (UDP and ICMP: 8). */
  l4HeaderLen = 8;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** Where the payload starts after the L4 header at l4, or -1 for a protocol the apps do not send. */
function afterL4(b: Uint8Array, l4: number, proto: number, end: number): number {
  let at: number;
  if (proto === 17) at = l4 + 8;
  else if (proto === 6) at = l4 + (b[l4 + 12]! >>> 4) * 4;
  else if ((proto === 1 && b[l4] === 8) || (proto === 58 && b[l4] === 128)) at = l4 + 8;
  else return -1;
  return at <= end ? at : -1;
}

export function parseRx(b: Uint8Array, off: number, len: number, p: RxParse): number {
  p.kind = RX_NONE;
  const limit = off + len;
  let ip = off + ETH_HLEN;
  let type = len >= ETH_HLEN ? u16(b, off + 12) : 0;
  if (type === 0x8100 && len >= ETH_HLEN + 4) {
    type = u16(b, off + 16);
    ip += 4;
  }
  if (type === 0x0800 && ip + 20 <= limit && b[ip]! >>> 4 === 4) {
    const ihl = (b[ip]! & 0x0f) * 4;
    const end = Math.min(limit, ip + u16(b, ip + 2));
    const frag = u16(b, ip + 6);
    const l4 = ip + ihl;
    if ((frag & 0x3fff) !== 0) return fragmentAt(p, l4, end - l4, (frag & 0x1fff) * 8, u16(b, ip + 4));
    return wholeAt(p, afterL4(b, l4, b[ip + 9]!, end), end);
  }
  if (type === 0x86dd && ip + 40 <= limit && b[ip]! >>> 4 === 6) {
    const end = Math.min(limit, ip + 40 + u16(b, ip + 4));
    const nh = b[ip + 6]!;
    if (nh !== 44) return wholeAt(p, afterL4(b, ip + 40, nh, end), end);
    if (ip + 48 > end) return RX_NONE;
    const field = u16(b, ip + 42);
    const id = ((b[ip + 44]! << 24) | (b[ip + 45]! << 16) | (b[ip + 46]! << 8) | b[ip + 47]!) >>> 0;
    // An atomic fragment (offset 0, no more) is a whole packet behind a fragment header.
    if (field === 0) return wholeAt(p, afterL4(b, ip + 48, b[ip + 40]!, end), end);
    return fragmentAt(p, ip + 48, end - ip - 48, field & 0xfff8, id);
  }
  return RX_NONE;
}

function wholeAt(p: RxParse, at: number, end: number): number {
  if (at < 0) return RX_NONE;
  p.kind = RX_WHOLE;
  p.payloadAt = at;
  p.end = end;
  return RX_WHOLE;
}

function fragmentAt(p: RxParse, dataAt: number, dataLen: number, fragOffset: number, id: number): number {
  if (dataLen <= 0) return RX_NONE;
  p.kind = RX_FRAGMENT;
  p.dataAt = dataAt;
  p.dataLen = dataLen;
  p.fragOffset = fragOffset;
  p.id = id;
  return RX_FRAGMENT;
}
