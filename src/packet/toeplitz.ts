/**
 * The Toeplitz hash of NDIS RSS (vectors.md §1.2): for each input bit, most significant bit of
 * input[0] first, XOR the key's left-most 32 bits into the result when the bit is 1, then shift
 * the key left by one bit.
 *
 * The table form (platform.md §6(e): about 14 ns for 12 bytes) precomputes, per input byte
 * position p and byte value v, the XOR of the 32-bit key windows that v's set bits select; a hash
 * is then one lookup and XOR per input byte.
 */
import { ConfigError } from '../core/index.js';

/** The longest RSS input: IPv6 source, destination and two ports (vectors.md §1.2). */
export const TOEPLITZ_MAX_INPUT_LEN = 36;

/** Per-key lookup tables: `table[p * 256 + v]` for input position p and byte value v. */
export interface ToeplitzTables {
  readonly table: Uint32Array;
  /** Longest input the tables cover. */
  readonly maxInputLen: number;
}

/** The 32 key bits starting at bit `bit` (bit 0 = MSB of key[0]); bits past the key are 0. */
function keyWindow(key: Uint8Array, bit: number): number {
  const byte = bit >>> 3;
  const shift = bit & 7;
  let w = 0;
  // 40 bits of key starting at `byte`, enough for any 32-bit window with a 0..7 bit shift.
  for (let i = 0; i < 5; i++) w = w * 256 + (key[byte + i] ?? 0);
  return Math.floor(w / 2 ** (8 - shift)) % 2 ** 32 >>> 0;
}

/**
 * Builds the lookup tables for `key`, covering inputs up to `maxInputLen` bytes. The key must be
 * at least maxInputLen + 4 bytes long, so every input bit has a full 32-bit window (the 40-byte
 * NDIS key covers 36 bytes).
 */
export function toeplitzTables(key: Uint8Array, maxInputLen = TOEPLITZ_MAX_INPUT_LEN): ToeplitzTables {
  if (key.length < maxInputLen + 4) {
    throw new ConfigError('BAD_CONFIG', `Toeplitz key of ${key.length} B cannot hash ${maxInputLen} B inputs`);
  }
  const table = new Uint32Array(maxInputLen * 256);
  const windows = new Uint32Array(8);
  for (let p = 0; p < maxInputLen; p++) {
    for (let b = 0; b < 8; b++) windows[b] = keyWindow(key, p * 8 + b);
    for (let v = 1; v < 256; v++) {
      // v's top bit is input bit p*8+0; reuse the value without its lowest set bit.
      const low = v & -v;
      const b = 7 - (31 - Math.clz32(low));
      table[p * 256 + v] = (table[p * 256 + (v ^ low)]! ^ windows[b]!) >>> 0;
    }
  }
  return { table, maxInputLen };
}

/**
 * The Toeplitz hash of input[off, off+len) placed at input position `pos` (so a hash can be
 * built from pieces that are not contiguous in the frame: XOR the pieces' hashes).
 * Throws RangeError when [off, off+len) is not inside `input` or pos + len exceeds the tables'
 * maxInputLen: a typed array read past either end yields undefined, which XORs as 0 and would
 * give a wrong hash silently.
 */
export function toeplitzHashAt(t: ToeplitzTables, input: Uint8Array, off: number, len: number, pos: number): number {
  if (!(off >= 0 && len >= 0 && pos >= 0 && off + len <= input.length && pos + len <= t.maxInputLen)) {
    throw new RangeError(`Toeplitz input ${off}+${len} at ${pos} outside ${input.length} B or the tables' ${t.maxInputLen} B`);
  }
  const table = t.table;
  let h = 0;
  let base = pos << 8;
  for (let i = off; i < off + len; i++) {
    h ^= table[base + input[i]!]!;
    base += 256;
  }
  return h >>> 0;
}

/** The Toeplitz hash of input[off, off+len) with the tables of one key. */
export function toeplitzHash(t: ToeplitzTables, input: Uint8Array, off: number, len: number): number {
  if (len > t.maxInputLen) {
    throw new ConfigError('BAD_CONFIG', `Toeplitz input of ${len} B exceeds the tables' ${t.maxInputLen} B`);
  }
  return toeplitzHashAt(t, input, off, len, 0);
}

/**
 * The definition, bit by bit (vectors.md §1.2), for property tests against the tables. The key
 * must be at least len + 4 bytes.
 */
export function toeplitzHashBitwise(key: Uint8Array, input: Uint8Array, off: number, len: number): number {
  let result = 0;
  // The left-most 32 bits of the shifting key, and the index of the next key bit to shift in.
  let window = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
  let nextBit = 32;
  for (let i = 0; i < len; i++) {
    const byte = input[off + i]!;
    for (let b = 7; b >= 0; b--) {
      if ((byte >>> b) & 1) result = (result ^ window) >>> 0;
      const kb = ((key[nextBit >>> 3] ?? 0) >>> (7 - (nextBit & 7))) & 1;
      window = ((window << 1) | kb) >>> 0;
      nextBit++;
    }
  }
  return result;
}
