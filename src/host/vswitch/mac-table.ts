/**
 * The switch's MAC → port table without a heap object per lookup: a MAC is two int32s (its first
 * 16 bits and its last 32, read straight from the frame), kept by open addressing with linear
 * probing in Int32Arrays, the last-seen time beside it in a Float64Array. A 48-bit MAC as one
 * number is a HeapNumber wherever it crosses a call or keys a Map (~32 B a frame measured), which
 * the data path must not make. Deletion shifts the probe run back (no tombstones), so a lookup
 * never walks more than the run its key hashed into. The table grows by doubling, to at most
 * twice `max` slots; at `max` entries insert() refuses.
 */

/** The MAC at bytes[off..off+6): its first two bytes (0..0xffff). */
export function macHiAt(bytes: Uint8Array, off: number): number {
  return (bytes[off]! << 8) | bytes[off + 1]!;
}

/** The MAC at bytes[off..off+6): its last four bytes as an int32. */
export function macLoAt(bytes: Uint8Array, off: number): number {
  return (bytes[off + 2]! << 24) | (bytes[off + 3]! << 16) | (bytes[off + 4]! << 8) | bytes[off + 5]!;
}

/** A 48-bit MAC number (port.ts macAt) split as macHiAt/macLoAt would read it. */
export function macHiOf(mac: number): number {
  return Math.floor(mac / 0x100000000) & 0xffff;
}
export function macLoOf(mac: number): number {
  return mac % 0x100000000 | 0;
}

const EMPTY = -1; // no MAC has hi -1 (hi is 0..0xffff)

export class MacTable<T> {
  private his: Int32Array;
  private los: Int32Array;
  private seen: Float64Array;
  private vals: (T | null)[];
  private mask: number;
  private count = 0;

  /** `max`: most entries at once (≥ 1). */
  constructor(readonly max: number) {
    const cap = 16;
    this.his = new Int32Array(cap).fill(EMPTY);
    this.los = new Int32Array(cap);
    this.seen = new Float64Array(cap);
    this.vals = new Array<T | null>(cap).fill(null);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The slot holding the MAC (hi, lo), or -1. */
  find(hi: number, lo: number): number {
    const his = this.his;
    const mask = this.mask;
    for (let i = home(hi, lo, mask); ; i = (i + 1) & mask) {
      const h = his[i]!;
      if (h === EMPTY) return -1;
      if (h === hi && this.los[i] === lo) return i;
    }
  }

  /** The value in a slot find() returned. */
  valueAt(slot: number): T {
    return this.vals[slot]!;
  }

  seenAt(slot: number): number {
    return this.seen[slot]!;
  }

  /** Replaces a slot's value and its last-seen time. */
  update(slot: number, value: T, seenMs: number): void {
    this.vals[slot] = value;
    this.seen[slot] = seenMs;
  }

  /** Adds or replaces (hi, lo) → value; false (nothing changed) when it is new and the table holds `max`. */
  set(hi: number, lo: number, value: T, seenMs: number): boolean {
    const slot = this.find(hi, lo);
    if (slot >= 0) {
      this.update(slot, value, seenMs);
      return true;
    }
    if (this.count >= this.max) return false;
    if ((this.count + 1) * 2 > this.his.length) this.grow();
    const mask = this.mask;
    let i = home(hi, lo, mask);
    while (this.his[i] !== EMPTY) i = (i + 1) & mask;
    this.his[i] = hi;
    this.los[i] = lo;
    this.update(i, value, seenMs);
    this.count++;
    return true;
  }

  /** Removes (hi, lo); false when it was not there. */
  delete(hi: number, lo: number): boolean {
    const slot = this.find(hi, lo);
    if (slot < 0) return false;
    this.removeSlot(slot);
    return true;
  }

  /** Removes every entry whose value is `value` (control path: a port left). */
  deleteValue(value: T): void {
    for (let i = 0; i < this.his.length; ) {
      if (this.his[i] !== EMPTY && this.vals[i] === value) this.removeSlot(i);
      else i++; // after a removal slot i holds what shifted back into it: look again
    }
  }

  /** Removes every entry last seen before `cutoff` (control path: a full table); returns how many. */
  deleteSeenBefore(cutoff: number): number {
    let n = 0;
    for (let i = 0; i < this.his.length; ) {
      if (this.his[i] !== EMPTY && this.seen[i]! < cutoff) {
        this.removeSlot(i);
        n++;
      } else i++; // as in deleteValue: after a removal slot i holds what shifted back into it
    }
    return n;
  }

  /** Calls fn for every entry with the MAC as one 48-bit number (control path). */
  forEach(fn: (mac: number, value: T, seenMs: number) => void): void {
    for (let i = 0; i < this.his.length; i++) {
      if (this.his[i] !== EMPTY) fn(this.his[i]! * 0x100000000 + (this.los[i]! >>> 0), this.vals[i]!, this.seen[i]!);
    }
  }

  private removeSlot(slot: number): void {
    const his = this.his;
    const mask = this.mask;
    let gap = slot;
    for (let j = (slot + 1) & mask; his[j] !== EMPTY; j = (j + 1) & mask) {
      // An entry may move back into the gap unless its home lies cyclically in (gap, j].
      const k = home(his[j]!, this.los[j]!, mask);
      const stays = gap <= j ? gap < k && k <= j : gap < k || k <= j;
      if (stays) continue;
      his[gap] = his[j]!;
      this.los[gap] = this.los[j]!;
      this.update(gap, this.vals[j]!, this.seen[j]!);
      gap = j;
    }
    his[gap] = EMPTY;
    this.vals[gap] = null;
    this.count--;
  }

  private grow(): void {
    const { his, los, seen, vals } = this;
    const cap = his.length * 2;
    this.his = new Int32Array(cap).fill(EMPTY);
    this.los = new Int32Array(cap);
    this.seen = new Float64Array(cap);
    this.vals = new Array<T | null>(cap).fill(null);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < his.length; i++) if (his[i] !== EMPTY) this.set(his[i]!, los[i]!, vals[i]!, seen[i]!);
  }
}

/** The slot a MAC's probe starts at (a multiplicative mix: the low bytes vary most between NICs). */
function home(hi: number, lo: number, mask: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return h & mask;
}
