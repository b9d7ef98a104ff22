/**
 * Exact views of byte ranges that recur, for the native copy of a frame into the guest's receive
 * buffer (TypedArray.prototype.set copies a whole source array, so it needs a view of exactly the
 * frame; making one per frame is an allocation per frame). A sender's frames recur at the same
 * places: the messages of a send section, the segments an LSO cut leaves in its scratch. This is a
 * direct-mapped table keyed by {array, offset, length}: a range gets its view the second time in a
 * row it lands on its slot (so ranges that never recur never allocate), and a collision replaces
 * the slot's view. get() returns null on a miss; the caller copies with packet/copyBytes then.
 */
export class ViewCache {
  private readonly mask: number;
  private readonly shift: number;
  private readonly src: (Uint8Array | null)[];
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  private readonly views: (Uint8Array | null)[];
  private readonly missSrc: (Uint8Array | null)[];
  private readonly missOff: Int32Array;
  private readonly missLen: Int32Array;
  /** Views made so far (a steady flow makes one per place, then none). */
  built = 0;

  /** `bits`: the table has 2^bits slots. */
  constructor(bits = 11) {
    const n = 1 << bits;
    this.mask = n - 1;
    this.shift = 32 - bits;
    this.src = new Array<Uint8Array | null>(n).fill(null);
    this.views = new Array<Uint8Array | null>(n).fill(null);
    this.missSrc = new Array<Uint8Array | null>(n).fill(null);
    this.off = new Int32Array(n);
    this.len = new Int32Array(n);
    this.missOff = new Int32Array(n);
    this.missLen = new Int32Array(n);
  }

  /** A view of exactly src[off, off + len), or null (not cached yet, or never recurring). */
  get(src: Uint8Array, off: number, len: number): Uint8Array | null {
    // Fibonacci hashing of the offset: places 6144 or 1520 bytes apart spread over the table.
    const i = (Math.imul(off ^ (len << 16), 0x9e3779b1) >>> this.shift) & this.mask;
    if (this.src[i] === src && this.off[i] === off && this.len[i] === len) return this.views[i]!;
    if (this.missSrc[i] !== src || this.missOff[i] !== off || this.missLen[i] !== len) {
      this.missSrc[i] = src;
      this.missOff[i] = off;
      this.missLen[i] = len;
      return null;
    }
    this.missSrc[i] = null;
    const v = src.subarray(off, off + len);
    this.src[i] = src;
    this.off[i] = off;
    this.len[i] = len;
    this.views[i] = v;
    this.built++;
    return v;
  }
}
