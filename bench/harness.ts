/**
 * Benchmark plumbing shared by every bench/*.bench.ts file. A bench file exports
 * `run(ctx: BenchContext): Promise<void>` and reports rows through ctx.report().
 * Rows that have a same-run ceiling (raw ring, raw copy) carry it, so the ratio means
 * something on a noisy machine.
 */
export type BenchUnit = 'pps' | 'Gbit/s' | 'GB/s' | 'ns' | 'ms' | 'us';

export interface BenchRow {
  readonly name: string;
  readonly unit: BenchUnit;
  readonly value: number;
  readonly ceiling?: number;
  readonly ratio?: number;
  readonly target?: string;
}

export interface BenchContext {
  /** Shorter runs when true (e.g. `npm run bench -- --quick`). */
  readonly quick: boolean;
  report(row: BenchRow): void;
}

/** Runs fn repeatedly for about `ms` milliseconds and returns nanoseconds per call. */
export function nsPerOp(fn: () => void, ms: number, batch = 1000): number {
  for (let i = 0; i < batch; i++) fn(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  do {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  return Number(elapsed) / n;
}
