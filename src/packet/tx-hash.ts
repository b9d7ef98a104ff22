/**
 * The guest's transmit hash for queue selection (protocol.md §6.6; vectors.md §2): when the
 * frame's class (TCP4, TCP6, UDP4, UDP6 = HV_*_L4HASH bits 1, 2, 4, 8) is enabled in l4Hash, an
 * L4 hash of addresses, ports and protocol; otherwise a hash of the addresses only; non-IP 0.
 *
 * Linux uses the skb flow hash and jhash2; any well-mixed 32-bit hash serves, and this one is
 * MurmurHash3 x86_32 over the big-endian 32-bit words of the tuple (4-byte blocks, the public
 * constants c1 = 0xcc9e2d51, c2 = 0x1b873593 and its fmix32 finaliser).
 */
import { HV_TCP4_L4HASH, HV_TCP6_L4HASH, HV_UDP4_L4HASH, HV_UDP6_L4HASH, IPPROTO_TCP, IPPROTO_UDP } from '../wire/index.js';
import type { FlowKey } from './flow-key.js';

function mixBlock(h: number, k0: number): number {
  let k = Math.imul(k0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

function finish(h0: number, bytes: number): number {
  let h = h0 ^ bytes;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function word(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

function l4Class(key: FlowKey): number {
  if (key.l4Proto === IPPROTO_TCP) return key.ipVersion === 4 ? HV_TCP4_L4HASH : HV_TCP6_L4HASH;
  if (key.l4Proto === IPPROTO_UDP) return key.ipVersion === 4 ? HV_UDP4_L4HASH : HV_UDP6_L4HASH;
  return 0;
}

/** txHash()'s result slot (control path and tests; the data path passes its own to txHashTo). */
const scratch = new Uint32Array(1);

/**
 * The transmit hash of a classified frame. `seed` is per device (Linux seeds its address hash
 * randomly at boot); `l4Hash` is the HV_*_L4HASH mask (default HV_DEFAULT_L4HASH).
 */
export function txHash(key: FlowKey, l4Hash: number, seed: number): number {
  txHashTo(key, l4Hash, seed, scratch, 0);
  return scratch[0]!;
}

/**
 * txHash() stored into out[at] instead of returned: a u32 at or above 2^30 returned from a call
 * V8 did not inline is a new heap number (~8 B a frame on average); a typed-array slot is not.
 */
export function txHashTo(key: FlowKey, l4Hash: number, seed: number, out: Uint32Array, at: number): void {
  if (key.ipVersion === 0) {
    out[at] = 0;
    return;
  }
  const b = key.frame;
  const addrAt = key.ipOff + (key.ipVersion === 4 ? 12 : 8);
  const words = key.ipVersion === 4 ? 2 : 8;
  let h = seed | 0;
  for (let i = 0; i < words; i++) h = mixBlock(h, word(b, addrAt + 4 * i));
  let n = words * 4;
  if (key.l4Off >= 0 && (l4Hash & l4Class(key)) !== 0) {
    h = mixBlock(h, word(b, key.l4Off));
    h = mixBlock(h, key.l4Proto);
    n += 8;
  }
  out[at] = finish(h, n);
}
