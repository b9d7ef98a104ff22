// Shared pieces of the action-based fuzzers (docs/robustness.md): the action budget, the bounded
// pump every step ends with, the "only typed errors" rule, and regression seeds on disk.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { isNetvscError } from '../../src/core/index.js';
import type { EventLoop } from '../../src/vmbus/index.js';

export const SEEDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fuzz', 'seeds');

/**
 * Actions one fuzzer runs: FUZZ_ACTIONS (set by `npm run fuzz -- --actions N`) or the CI default.
 * We count actions, never time, so a slow machine runs the same cases.
 */
export function actionBudget(ciDefault: number): number {
  const v = Number(process.env['FUZZ_ACTIONS'] ?? '');
  return Number.isInteger(v) && v > 0 ? v : ciDefault;
}

/** The fast-check seed: FUZZ_SEED when given (to replay a run), else fixed so CI is deterministic. */
export function fuzzSeed(fallback: number): number {
  const raw = process.env['FUZZ_SEED'];
  const v = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isInteger(v) ? v : fallback;
}

/** An invariant that did not hold: the fuzzer's failure, with what was broken. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function check(cond: boolean, what: string): asserts cond {
  if (!cond) throw new InvariantError(what);
}

/**
 * Errors a step may raise: typed (NetvscError) ones are the system refusing bad input and are
 * fine; anything else (TypeError, RangeError, a plain Error) is a bug and fails the run.
 */
export function typedOnly(e: unknown, where: string): void {
  if (e instanceof InvariantError) throw e;
  if (!isNetvscError(e)) throw new InvariantError(`untyped error escaped ${where}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
}

/** Passes per drain and drains per step: a step that still has work after this is a hang. */
export const STEP_PASSES = 20_000;
const ROUNDS = 6;

/**
 * Pumps a one-thread loop to quiescence with a bounded number of passes (the "no hang" invariant).
 * Microtasks run between drains so bus messages (delivered from microtasks) arrive. Nothing may
 * escape the loop: in a worker an error out of runOnce() ends the loop, i.e. the host worker and
 * every VM on it. Bad input must fail one packet or one channel (typed, counted), never the loop.
 */
export async function boundedSettle(loop: EventLoop, where: string, passes = STEP_PASSES): Promise<number> {
  let total = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < 20; j++) await Promise.resolve();
    total += guardLoop(() => loop.drain(passes), where);
  }
  const still = guardLoop(() => loop.runOnce(), where);
  // A loop that still finds work after ROUNDS × passes passes is spinning (a PPI loop, a retry storm).
  check(still === 0 || total < ROUNDS * passes, `${where}: loop still busy after ${ROUNDS * passes} passes`);
  return total;
}

function guardLoop(f: () => number, where: string): number {
  try {
    return f();
  } catch (e) {
    if (e instanceof InvariantError) throw e;
    const kind = isNetvscError(e) ? `typed ${e.name}/${e.code}` : 'untyped';
    throw new InvariantError(`${kind} error escaped the event loop ${where}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
  }
}

/** A saved failing case: which fuzzer, the fast-check seed and the (shrunk) action list. */
export interface SeedFile<A> {
  readonly fuzzer: string;
  readonly seed: number;
  readonly found: string;
  readonly note: string;
  readonly actions: readonly A[];
}

export function saveSeed<A>(s: SeedFile<A>): string {
  mkdirSync(SEEDS_DIR, { recursive: true });
  const file = join(SEEDS_DIR, `${s.fuzzer}-${s.seed}-${Date.now().toString(36)}.json`);
  writeFileSync(file, `${JSON.stringify(s, null, 1)}\n`);
  return file;
}

export function loadSeeds<A>(fuzzer: string): { file: string; seed: SeedFile<A> }[] {
  let names: string[] = [];
  try {
    names = readdirSync(SEEDS_DIR).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return names
    .map((n) => ({ file: n, seed: JSON.parse(readFileSync(join(SEEDS_DIR, n), 'utf8')) as SeedFile<A> }))
    .filter((x) => x.seed.fuzzer === fuzzer);
}

/**
 * Runs `property` over `runs` action lists of `length` actions; on a failure the shrunk action list
 * is written as a seed file and the failure is rethrown with the file name.
 */
export async function fuzz<A>(o: {
  readonly fuzzer: string;
  readonly action: fc.Arbitrary<A>;
  readonly length: number;
  readonly totalActions: number;
  readonly seed: number;
  readonly run: (actions: readonly A[]) => Promise<void>;
}): Promise<{ runs: number; actions: number }> {
  // Lists average about half the maximum length, so twice as many runs as lists of full length.
  const runs = Math.max(1, Math.ceil((2 * o.totalActions) / o.length));
  const r = await fc.check(
    fc.asyncProperty(fc.array(o.action, { minLength: 1, maxLength: o.length, size: 'max' }), async (actions) => {
      await o.run(actions);
    }),
    { seed: o.seed, numRuns: runs, endOnFailure: false, maxSkipsPerRun: 0 },
  );
  if (r.failed) {
    const actions = r.counterexample?.[0] ?? [];
    const err = r.errorInstance;
    const msg = err instanceof Error ? err.message : String(err);
    const file = saveSeed({ fuzzer: o.fuzzer, seed: o.seed, found: new Date().toISOString(), note: msg.slice(0, 400), actions });
    throw new Error(`${o.fuzzer}: ${msg}\n(shrunk to ${actions.length} actions, saved as ${file})`, { cause: err });
  }
  return { runs: r.numRuns, actions: r.numRuns * o.length };
}
