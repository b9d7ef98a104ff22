/**
 * Named counters. Names reuse Linux ethtool statistic names where one exists
 * (tx_send_full, tx_no_space, rx_comp_busy, stop_queue, wake_queue, ...).
 * Backed by a Float64Array so the data path bumps a slot, never a string-keyed map.
 */
export class Counters<N extends string> {
  private readonly values: Float64Array;
  private readonly index: ReadonlyMap<N, number>;

  constructor(readonly names: readonly N[]) {
    this.values = new Float64Array(names.length);
    this.index = new Map(names.map((n, i) => [n, i]));
  }

  /** The slot of a name; resolve once at construction, then use add(slot). */
  slot(name: N): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`unknown counter ${name}`);
    return i;
  }

  add(slot: number, by = 1): void {
    this.values[slot] += by;
  }

  inc(name: N, by = 1): void {
    this.values[this.slot(name)] += by;
  }

  get(name: N): number {
    return this.values[this.slot(name)]!;
  }

  snapshot(): Record<N, number> {
    const out = {} as Record<N, number>;
    this.names.forEach((n, i) => {
      out[n] = this.values[i]!;
    });
    return out;
  }

  reset(): void {
    this.values.fill(0);
  }
}
