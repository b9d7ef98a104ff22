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
 * For the same reason the MurmurHash3 steps are written out in this one function: a block mix or
 * the finaliser as a helper returned 32-bit values across a call, which V8 sometimes left
 * un-inlined (then ~6 B a frame in test/perf).
 */
export function txHashTo(key: FlowKey, l4Hash: number, seed: number, out: Uint32Array, at: number): void {
  if (key.ipVersion === 0) {
    out[at] = 0;
    return;
  }
  const b = key.frame;
  const addrAt = key.ipOff + (key.ipVersion === 4 ? 12 : 8);
  const words = key.ipVersion === 4 ? 2 : 8;
  // The address words, then (L4 class enabled) the first word of the L4 header and the protocol.
  const blocks = words + (key.l4Off >= 0 && (l4Hash & l4Class(key)) !== 0 ? 2 : 0);
  let h = seed | 0;
  for (let i = 0; i < blocks; i++) {
    const p = i < words ? addrAt + 4 * i : key.l4Off;
    let k = i <= words ? (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]! : key.l4Proto;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= blocks * 4; // fmix32 of the length in bytes
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  out[at] = h;
}
