/**
 * The Internet checksum (RFC 1071) and its uses on the data path: IPv4 header checksum, TCP/UDP
 * checksums with IPv4 and IPv6 pseudo-headers, incremental update (RFC 1624) and the
 * pseudo-header-only seed that LSO and CHECKSUM_PARTIAL senders leave in the checksum field
 * (vectors.md §4.7, protocol.md §6.2).
 *
 * Sums are kept in network byte order: `internetSum()` returns the folded 16-bit one's-complement
 * sum as a big-endian value (RFC 1071 §3 prints 0xddf2 for `00 01 f2 03 f4 f5 f6 f7`), and a
 * checksum is its complement.
 */
import { arenaSum, SIMD_MAX_BLOCKS } from './checksum-simd.js';
import { lastByteOffset, u32View } from './u32-view.js';

/** Below this many bytes the word loop does not pay for the view lookup. */
const SMALL_LEN = 64;
/**
 * Words summed between folds. The body adds whole 32-bit words into float64 accumulators
 * (2^16 ≡ 1 mod 0xffff, so the folded sum of 32-bit words equals the one's-complement sum of
 * their 16-bit halves); 2^20 words of at most 2^32 each stay far below 2^53, so no bit is lost.
 */
const FOLD_WORDS = 1 << 20;
/** From this many 32-byte blocks on, a sum over a checksumArena() runs as WebAssembly SIMD (below, the arena lookup costs more than it saves). */
const SIMD_MIN_BLOCKS = 16;

/** Folds any non-negative sum below 2^53 to 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  let s = sum;
  // Above 2^31 the 32-bit operators would truncate; divide as float64 until below.
  while (s > 0x7fffffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function swap16(x: number): number {
  return ((x >>> 8) | ((x & 0xff) << 8)) & 0xffff;
}

/** Byte-wise big-endian sum of bytes[off, off+len); `odd` says the first byte is a low byte. */
function byteSum(bytes: Uint8Array, off: number, len: number, odd: boolean): number {
  let s = 0;
  let i = off;
  const end = off + len;
  if (odd && i < end) s += bytes[i++]!;
  for (; i + 1 < end; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) s += bytes[i]! << 8;
  return s;
}

/**
 * Σ w[i0, end) as float64, eight words per step into four accumulators (each adds a pair); the
 * caller keeps 1 ≤ end - i0 ≤ FOLD_WORDS. The load-and-convert of each word is the limit, not
 * the add chain: four pair-sums measured 12–14 GB/s against 10–10.5 for one accumulator of two
 * words, four or eight single-word accumulators, or int32 sums of the 16-bit halves (6.5).
 * Nothing but `return` follows the loops, and a remainder of 1–7 words is summed by a second
 * loop before the return: V8 compiles the main loop on-stack on the first long call, before any
 * code after it or a rare branch has run, and deoptimized on every call when a branch followed
 * it (2,500 deopts in a 1 s bulk run, --trace-deopt "insufficient type feedback").
 */
function sumWords(w: Uint32Array, i0: number, end: number): number {
  const blocksEnd = i0 + ((end - i0) & ~7);
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (let i = blocksEnd; i < end; i++) a += w[i]!;
  for (let i = i0; i < blocksEnd; i += 8) {
    a += w[i]! + w[i + 4]!;
    b += w[i + 1]! + w[i + 5]!;
    c += w[i + 2]! + w[i + 6]!;
    d += w[i + 3]! + w[i + 7]!;
  }
  return a + b + c + d;
}

/**
 * Throws RangeError unless [off, off+len) lies inside bytes: the data-path helpers read through
 * a word view of the whole underlying buffer, so an out-of-range call would otherwise read
 * neighbouring bytes silently instead of failing.
 */
export function checkRange(bytes: Uint8Array, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= bytes.length)) throw new RangeError(`range ${off}+${len} outside ${bytes.length} bytes`);
}

/**
 * The one's-complement sum of bytes[off, off+len) in network byte order, folded to 16 bits, plus
 * `seed` (another folded or unfolded sum, e.g. a pseudo-header). Not complemented.
 *
 * The body runs over a Uint32Array of the same memory with two accumulators (platform.md §6(e)),
 * adding whole words as float64 (measured ~10 GB/s against ~6.5 GB/s for masking out 16-bit
 * halves): a little-endian load sums byte-swapped 16-bit words, which RFC 1071 §2(B) allows as long as the
 * result is swapped back. A head that is not 4-byte aligned, and a tail under 4 bytes, are summed
 * byte-wise; if the head has odd length the body's words start on a low byte, so its sum needs no
 * swap.
 *
 * Throws RangeError when [off, off+len) is not inside `bytes` (checkRange): the word view spans
 * the whole underlying buffer, so a wrong length would otherwise sum a neighbour's bytes.
 *
 * @example internetSum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7), 0, 8) === 0xddf2
 */
export function internetSum(bytes: Uint8Array, off: number, len: number, seed = 0): number {
  checkRange(bytes, off, len);
  if (len < SMALL_LEN) return foldSum(byteSum(bytes, off, len, false) + seed);
  const w = u32View(bytes);
  const abs = lastByteOffset() + off;
  const head = (4 - (abs & 3)) & 3;
  let sum = byteSum(bytes, off, head, false) + seed;
  const words = (len - head) >>> 2;
  let i = (abs + head) >>> 2;
  const end = i + words;
  let body: number;
  const blocks = words >>> 3;
  const simd = blocks >= SIMD_MIN_BLOCKS ? arenaSum(bytes) : undefined;
  if (simd !== undefined) {
    // The bytes live in a WebAssembly memory (checksumArena): whole 32-byte blocks there, the
    // last 0–7 words here. Buffer byte offsets are the memory's addresses.
    body = 0;
    for (let left = blocks, p = i * 4; left > 0; ) {
      const k = Math.min(left, SIMD_MAX_BLOCKS);
      body = foldSum(body + simd(p, k));
      p += k * 32;
      left -= k;
    }
    const rest = i + blocks * 8;
    if (rest < end) body = foldSum(body + sumWords(w, rest, end));
  } else if (words <= FOLD_WORDS) {
    body = foldSum(sumWords(w, i, end));
  } else {
    body = 0;
    for (; i < end; i += FOLD_WORDS) body = foldSum(body + sumWords(w, i, Math.min(end, i + FOLD_WORDS)));
  }
  sum += (head & 1) === 1 ? body : swap16(body);
  const tailAt = off + head + words * 4;
  sum += byteSum(bytes, tailAt, off + len - tailAt, (head & 1) === 1);
  return foldSum(sum);
}

/** The Internet checksum of bytes[off, off+len): the complement of internetSum(). */
export function internetChecksum(bytes: Uint8Array, off: number, len: number, seed = 0): number {
  return ~internetSum(bytes, off, len, seed) & 0xffff;
}

/**
 * RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changes from oldWord
 * to newWord, without re-reading the data. HC' = ~(~HC + ~m + m').
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  return ~foldSum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** updateChecksum16() for a 32-bit field (an IPv4 address, a sequence number). */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const s =
    (~checksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    ((newValue >>> 16) & 0xffff) +
    (newValue & 0xffff);
  return ~foldSum(s) & 0xffff;
}

function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** The IPv4 header checksum field's offset inside the header (RFC 791). */
const IPV4_CHECKSUM_AT = 10;

/**
 * Computes and writes the IPv4 header checksum of the header at `ipOff` (IHL from byte 0).
 * The caller has checked that the header fits (wire/net Ipv4View).
 */
export function fillIpv4HeaderChecksum(frame: Uint8Array, ipOff: number): void {
  const hl = (frame[ipOff]! & 0x0f) * 4;
  writeU16(frame, ipOff + IPV4_CHECKSUM_AT, 0);
  writeU16(frame, ipOff + IPV4_CHECKSUM_AT, internetChecksum(frame, ipOff, hl));
}

/** True when the IPv4 header at `ipOff` sums to 0xffff, i.e. its checksum is right. */
export function verifyIpv4HeaderChecksum(frame: Uint8Array, ipOff: number): boolean {
  return internetSum(frame, ipOff, (frame[ipOff]! & 0x0f) * 4) === 0xffff;
}

/**
 * The IPv4 pseudo-header sum (RFC 793 §3.1): source and destination address from the IPv4 header
 * at `ipOff` (bytes 12..19), zero, protocol, upper-layer length. Folded, not complemented.
 */
export function pseudoSumIpv4(frame: Uint8Array, ipOff: number, protocol: number, l4Len: number): number {
  let s = protocol + l4Len;
  for (let i = ipOff + 12; i < ipOff + 20; i += 2) s += readU16(frame, i);
  return foldSum(s);
}

/**
 * The IPv6 pseudo-header sum (RFC 8200 §8.1): source and destination from the IPv6 header at
 * `ipOff` (bytes 8..39), a 32-bit upper-layer length, three zero bytes and the next header.
 * With a routing header the destination should be the final one; this uses the header's own.
 */
export function pseudoSumIpv6(frame: Uint8Array, ipOff: number, nextHeader: number, l4Len: number): number {
  let s = nextHeader + (l4Len >>> 16) + (l4Len & 0xffff);
  for (let i = ipOff + 8; i < ipOff + 40; i += 2) s += readU16(frame, i);
  return foldSum(s);
}

/** Where the checksum field sits inside a TCP (16) or UDP (6) header. */
export function l4ChecksumOffset(protocol: number): number {
  return protocol === 17 ? 6 : protocol === 6 ? 16 : protocol === 58 || protocol === 1 ? 2 : -1;
}

function pseudoSum(frame: Uint8Array, ipOff: number, isIpv6: boolean, protocol: number, l4Len: number): number {
  return isIpv6 ? pseudoSumIpv6(frame, ipOff, protocol, l4Len) : pseudoSumIpv4(frame, ipOff, protocol, l4Len);
}

/**
 * Computes and writes the TCP/UDP (or ICMPv6) checksum of the segment at l4Off..l4Off+l4Len,
 * with the pseudo-header of the IP header at ipOff. A UDP checksum that computes to 0 is sent as
 * 0xffff, since 0 means "no checksum" (RFC 768; vectors.md §3.3 zero rule).
 */
export function fillL4Checksum(
  frame: Uint8Array,
  ipOff: number,
  isIpv6: boolean,
  protocol: number,
  l4Off: number,
  l4Len: number,
): void {
  const at = l4Off + l4ChecksumOffset(protocol);
  writeU16(frame, at, 0);
  const seed = protocol === 1 ? 0 : pseudoSum(frame, ipOff, isIpv6, protocol, l4Len);
  let c = internetChecksum(frame, l4Off, l4Len, seed);
  if (c === 0 && protocol === 17) c = 0xffff;
  writeU16(frame, at, c);
}

/**
 * True when the TCP/UDP (or ICMP/ICMPv6) checksum of the segment verifies. A UDP/IPv4 checksum of
 * 0 means the sender omitted it and is accepted (vectors.md §3.3); UDP/IPv6 must carry one.
 */
export function verifyL4Checksum(
  frame: Uint8Array,
  ipOff: number,
  isIpv6: boolean,
  protocol: number,
  l4Off: number,
  l4Len: number,
): boolean {
  if (protocol === 17 && !isIpv6 && readU16(frame, l4Off + 6) === 0) return true;
  const seed = protocol === 1 ? 0 : pseudoSum(frame, ipOff, isIpv6, protocol, l4Len);
  return internetSum(frame, l4Off, l4Len, seed) === 0xffff;
}

/**
 * Writes the pseudo-header-only seed into the L4 checksum field, as a CHECKSUM_PARTIAL or LSO
 * sender does (protocol.md §6.2): the folded pseudo-header sum, not complemented. LSO seeds
 * with l4Len 0 because each segment's length is only known to the segmenter.
 */
export function writePseudoSeed(
  frame: Uint8Array,
  ipOff: number,
  isIpv6: boolean,
  protocol: number,
  l4Off: number,
  l4Len: number,
): void {
  writeU16(frame, l4Off + l4ChecksumOffset(protocol), pseudoSum(frame, ipOff, isIpv6, protocol, l4Len));
}

/**
 * Finishes a checksum that a sender seeded with the pseudo-header sum (writePseudoSeed with the
 * real length): sums the segment including the seed and writes the complement. This is what
 * the host does for a TCPIP_CHKSUM PPI (protocol.md §6.2).
 */
export function completeSeededChecksum(frame: Uint8Array, protocol: number, l4Off: number, l4Len: number): void {
  const at = l4Off + l4ChecksumOffset(protocol);
  let c = internetChecksum(frame, l4Off, l4Len);
  if (c === 0 && protocol === 17) c = 0xffff;
  writeU16(frame, at, c);
}
