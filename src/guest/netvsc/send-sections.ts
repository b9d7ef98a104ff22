import { ResourceError } from '../../core/index.js';

/**
 * The send-buffer section bitmap (protocol.md §4.3): `count` sections of the host-chosen
 * `sectionSize`, section i at i × sectionSize. One bit per section; alloc finds a clear bit and
 * sets it, free clears it. A section belongs to exactly one NVSP 107 message until its completion,
 * so freeing a free section means a duplicated completion got past the requestor: that is a bug
 * and throws rather than corrupting the map. No allocation after construction.
 */
export class SendSections {
  private readonly words: Uint32Array;
  private hint = 0;
  private used_ = 0;

  constructor(
    readonly count: number,
    readonly sectionSize: number,
  ) {
    this.words = new Uint32Array((count + 31) >>> 5);
  }

  get inUse(): number {
    return this.used_;
  }

  /** A free section index, or -1 when all are in use (the caller counts tx_send_full). */
  alloc(): number {
    const n = this.words.length;
    for (let k = 0; k < n; k++) {
      const w = (this.hint + k) % n;
      const bits = this.words[w]!;
      if (bits === 0xffffffff) continue;
      const bit = 31 - Math.clz32(~bits & (bits + 1)); // lowest clear bit
      const idx = (w << 5) + bit;
      if (idx >= this.count) continue;
      this.words[w] = (bits | (1 << bit)) >>> 0;
      this.hint = w;
      this.used_++;
      return idx;
    }
    return -1;
  }

  free(idx: number): void {
    const w = idx >>> 5;
    const mask = 1 << (idx & 31);
    if (!(idx >= 0 && idx < this.count) || (this.words[w]! & mask) === 0) {
      throw new ResourceError('BAD_TRANSACTION', `free of send section ${idx} that is not in use`);
    }
    this.words[w] = (this.words[w]! & ~mask) >>> 0;
    this.used_--;
  }

  isUsed(idx: number): boolean {
    return (this.words[idx >>> 5]! & (1 << (idx & 31))) !== 0;
  }
}
