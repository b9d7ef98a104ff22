/**
 * The receive-side hash as the emulated Hyper-V host computes it (issue 5 item 3; vectors.md
 * §1.7, §5.5; protocol.md §6.4):
 * - TCP: Toeplitz over addresses and ports (4-tuple) when TCP_IPVx is enabled;
 * - UDP: addresses only (2-tuple), because Linux programs no UDP hash bits and the host then
 *   hashes UDP as IP (vectors.md §5.5). A guest that sets UDP_IPVx gets the 4-tuple with that
 *   type; the `udp4Tuple` host option models newer hosts that enforce the UDP 4-tuple and report
 *   it as the TCP type (FreeBSD if_hn.c, vectors.md §5.5);
 * - other IP protocols: the 2-tuple when IPVx is enabled;
 * - IP fragments, non-IP frames and anything else that cannot be hashed: no hash. The host puts
 *   those on the first channel (issue 5). NDIS itself would hash fragments as IPV4 (§1.7); the
 *   issue's rule keeps all fragments of a datagram together on channel 0.
 * IPV6_EX types are not implemented (no Home Address / Routing Type 2 substitution).
 */
import { IPPROTO_TCP, IPPROTO_UDP, NDIS_HASH_IPV4, NDIS_HASH_IPV6, NDIS_HASH_TCP_IPV4, NDIS_HASH_TCP_IPV6 } from '../wire/index.js';
import type { FlowKey } from './flow-key.js';
import { toeplitzHashAt, type ToeplitzTables } from './toeplitz.js';

/** NDIS 6.80 UDP hash types (vectors.md §4.6); not in the kernel-derived constants. */
export const NDIS_HASH_UDP_IPV4 = 0x4000;
export const NDIS_HASH_UDP_IPV6 = 0x8000;

/** The hash and its NDIS_HASH_* type; type 0 means "no hash". Preallocate one per queue. */
export class RssResult {
  hash = 0;
  hashType = 0;
}

function l3Hash(t: ToeplitzTables, key: FlowKey): number {
  return key.ipVersion === 4
    ? toeplitzHashAt(t, key.frame, key.ipOff + 12, 8, 0)
    : toeplitzHashAt(t, key.frame, key.ipOff + 8, 32, 0);
}

function set(out: RssResult, hash: number, type: number): boolean {
  out.hash = hash >>> 0;
  out.hashType = type;
  return true;
}

/**
 * Computes the host's RSS hash of a classified frame under `hashTypes` (the NDIS_HASH_* bits the
 * guest programmed). Returns false with out.hashType = 0 when the frame gets no hash.
 */
export function rssHash(key: FlowKey, t: ToeplitzTables, hashTypes: number, udp4Tuple: boolean, out: RssResult): boolean {
  out.hash = 0;
  out.hashType = 0;
  if (key.ipVersion === 0 || key.isFragment) return false;
  const v4 = key.ipVersion === 4;
  const l3Type = v4 ? NDIS_HASH_IPV4 : NDIS_HASH_IPV6;
  const tcpType = v4 ? NDIS_HASH_TCP_IPV4 : NDIS_HASH_TCP_IPV6;
  const udpType = v4 ? NDIS_HASH_UDP_IPV4 : NDIS_HASH_UDP_IPV6;
  let l4Type = 0;
  if (key.l4Off >= 0) {
    if (key.l4Proto === IPPROTO_TCP && (hashTypes & tcpType) !== 0) l4Type = tcpType;
    else if (key.l4Proto === IPPROTO_UDP && (hashTypes & udpType) !== 0) l4Type = udpType;
    else if (key.l4Proto === IPPROTO_UDP && udp4Tuple && (hashTypes & tcpType) !== 0) l4Type = tcpType;
  }
  if (l4Type !== 0) {
    const portsPos = v4 ? 8 : 32;
    return set(out, l3Hash(t, key) ^ toeplitzHashAt(t, key.frame, key.l4Off, 4, portsPos), l4Type);
  }
  if ((hashTypes & l3Type) === 0) return false;
  return set(out, l3Hash(t, key), l3Type);
}
