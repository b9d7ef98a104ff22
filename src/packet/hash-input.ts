/**
 * Toeplitz hash inputs for RSS, in exactly the byte order of vectors.md §1.2: source address,
 * destination address, then source port and destination port, all in network byte order as they
 * sit in the received packet. "Source" is the remote sender.
 *
 * The builders copy from the frame into a caller-owned scratch buffer (at least 36 bytes) and
 * return the input length, so nothing is allocated per packet.
 */

/** IPv4 2-tuple input length (src, dst). */
export const HASH_INPUT_IPV4_LEN = 8;
/** IPv4 4-tuple input length (src, dst, sport, dport). */
export const HASH_INPUT_IPV4_PORTS_LEN = 12;
/** IPv6 2-tuple input length. */
export const HASH_INPUT_IPV6_LEN = 32;
/** IPv6 4-tuple input length. */
export const HASH_INPUT_IPV6_PORTS_LEN = 36;

function copy(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  for (let i = 0; i < len; i++) dst[at + i] = src[from + i]!;
}

/**
 * Writes the IPv4 hash input: addresses from the IPv4 header at `ipOff` (bytes 12..19) and, when
 * `l4Off` ≥ 0, the two ports at the start of the TCP/UDP header there. Returns 8 or 12.
 */
export function writeHashInputIpv4(scratch: Uint8Array, frame: Uint8Array, ipOff: number, l4Off: number): number {
  copy(scratch, 0, frame, ipOff + 12, 8);
  if (l4Off < 0) return HASH_INPUT_IPV4_LEN;
  copy(scratch, 8, frame, l4Off, 4);
  return HASH_INPUT_IPV4_PORTS_LEN;
}

/**
 * Writes the IPv6 hash input: addresses from the IPv6 header at `ipOff` (bytes 8..39) and, when
 * `l4Off` ≥ 0, the two ports of the upper-layer header (after any extension headers). Returns 32 or 36.
 */
export function writeHashInputIpv6(scratch: Uint8Array, frame: Uint8Array, ipOff: number, l4Off: number): number {
  copy(scratch, 0, frame, ipOff + 8, 32);
  if (l4Off < 0) return HASH_INPUT_IPV6_LEN;
  copy(scratch, 32, frame, l4Off, 4);
  return HASH_INPUT_IPV6_PORTS_LEN;
}
