/**
 * Where the lab payload starts in a received frame: untagged Ethernet + IPv4 (any IHL) + UDP or
 * TCP (any data offset). Returns -1 for anything else (ARP, IPv6, VLAN): the sink ignores those.
 * Byte reads only: runs once per received frame.
 */
const ETH_HLEN = 14;

export function labPayloadOffset(b: Uint8Array, off: number, len: number): number {
  if (len < ETH_HLEN + 20 + 8 || b[off + 12] !== 0x08 || b[off + 13] !== 0x00) return -1;
  const ip = off + ETH_HLEN;
  if (b[ip]! >>> 4 !== 4) return -1;
  const l4 = ip + (b[ip]! & 0x0f) * 4;
  const proto = b[ip + 9];
  let at: number;
  if (proto === 17) at = l4 + 8;
  else if (proto === 6) at = l4 + (b[l4 + 12]! >>> 4) * 4;
  else return -1;
  return at <= off + len ? at : -1;
}

/** The payload length implied by the IPv4 total length (frames may carry Ethernet padding). */
export function labPayloadEnd(b: Uint8Array, off: number): number {
  const ip = off + ETH_HLEN;
  return ip + ((b[ip + 2]! << 8) | b[ip + 3]!);
}
