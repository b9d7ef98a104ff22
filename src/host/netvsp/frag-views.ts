/**
 * Source views for RSC fragment copies (protocol.md §5.6). A 64 KB super-frame goes to the guest
 * as ~43 section-sized fragments; TypedArray.prototype.set() is the native copy (a relaxed memcpy
 * that moves words when both ends are equally aligned, which alignGap arranges), but it copies a
 * whole source array, so each fragment needs a view of exactly its bytes. Making one per fragment
 * is an allocation per fragment. Instead the views of one layout, {frame array, offset of the
 * first fragment, fragment size}, are made once and reused: a flow's super-frames sit at the same
 * place of the same scratch every time (the gather and LSO scratch of the sending queue).
 *
 * A layout is built only when it misses twice in a row (a flow, not a one-off), at most
 * FRAG_LAYOUTS are kept (least recently used goes), so a sender whose layouts keep changing costs
 * the word-loop copy (packet/copyBytes), never an allocation per frame.
 */

/** Layouts kept per receive queue. */
export const FRAG_LAYOUTS = 8;

class Layout {
  src: Uint8Array | null = null;
  off = 0;
  chunk = 0;
  used = 0;
  views: Uint8Array[] = [];
}

export class FragmentViews {
  private readonly layouts: Layout[] = [];
  private clock = 0;
  private missSrc: Uint8Array | null = null;
  private missOff = -1;
  private missChunk = 0;
  /** Layouts built so far (for tests and the profile: a steady flow builds one). */
  built = 0;

  constructor(
    /** Most fragments one packet may have (the queue's ranges per transfer-page packet). */
    private readonly maxFragments: number,
  ) {
    for (let i = 0; i < FRAG_LAYOUTS; i++) this.layouts.push(new Layout());
  }

  /**
   * Views of src[off + i·chunk, +chunk) for every whole fragment that fits in src (up to
   * maxFragments), or null when this layout is not (yet) cached: copy with copyBytes then.
   */
  get(src: Uint8Array, off: number, chunk: number): Uint8Array[] | null {
    const ls = this.layouts;
    let lru = ls[0]!;
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i]!;
      if (l.src === src && l.off === off && l.chunk === chunk) {
        l.used = ++this.clock;
        return l.views;
      }
      if (l.used < lru.used) lru = l;
    }
    if (this.missSrc !== src || this.missOff !== off || this.missChunk !== chunk) {
      this.missSrc = src;
      this.missOff = off;
      this.missChunk = chunk;
      return null;
    }
    this.missSrc = null;
    const n = Math.min(this.maxFragments, Math.floor((src.length - off) / chunk));
    const views: Uint8Array[] = [];
    for (let i = 0; i < n; i++) views.push(src.subarray(off + i * chunk, off + (i + 1) * chunk));
    lru.src = src;
    lru.off = off;
    lru.chunk = chunk;
    lru.views = views;
    lru.used = ++this.clock;
    this.built++;
    return views;
  }
}
