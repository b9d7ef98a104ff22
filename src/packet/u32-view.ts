/**
 * A Uint32Array over a whole (Shared)ArrayBuffer, cached so the data path does not create a view
 * per packet. Packets come from a handful of buffers (guest memory, receive and send buffers,
 * per-queue scratch), so a few entries replaced round-robin are enough.
 */
const SLOTS = 4;
const buffers: (ArrayBufferLike | null)[] = [null, null, null, null];
const views: Uint32Array[] = [new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), new Uint32Array(0)];
let next = 0;

/** The cached Uint32Array covering buffer's whole 4-byte words. */
export function u32View(buffer: ArrayBufferLike): Uint32Array {
  for (let i = 0; i < SLOTS; i++) {
    if (buffers[i] === buffer && views[i]!.byteLength === (buffer.byteLength & ~3)) return views[i]!;
  }
  const v = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  buffers[next] = buffer;
  views[next] = v;
  next = (next + 1) % SLOTS;
  return v;
}
