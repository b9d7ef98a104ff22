/**
 * A Uint32Array over the whole buffer behind a Uint8Array, cached so the data path does not
 * create a view per packet. Packets come from a handful of arrays (guest memory, receive and
 * send buffers, per-queue scratch), so a few entries replaced round-robin are enough. The cache
 * is keyed on the Uint8Array itself: comparing identities is cheaper than reading `.buffer`
 * (measured ~15 ns per read), and an array never changes its buffer.
 */
const SLOTS = 4;
const arrays: (Uint8Array | null)[] = [null, null, null, null];
const views: Uint32Array[] = [new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), new Uint32Array(0)];
const byteOffsets = new Int32Array(SLOTS);
let next = 0;
let hit = 0;

/** The cached Uint32Array covering the whole 4-byte words of bytes.buffer (index 0 = buffer byte 0). */
export function u32View(bytes: Uint8Array): Uint32Array {
  for (let i = 0; i < SLOTS; i++) {
    if (arrays[i] === bytes) {
      hit = i;
      return views[i]!;
    }
  }
  const buffer = bytes.buffer;
  const v = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  hit = next;
  arrays[hit] = bytes;
  views[hit] = v;
  byteOffsets[hit] = bytes.byteOffset;
  next = (next + 1) % SLOTS;
  return v;
}

/** bytes.byteOffset of the array last passed to u32View(), without the getter's cost. */
export function lastByteOffset(): number {
  return byteOffsets[hit]!;
}
