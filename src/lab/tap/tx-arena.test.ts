import { describe, expect, it } from 'vitest';
import { TxArena } from './tx-arena.js';

const MAX = 1000;

/** Reads `lens` (8-aligned records) into the arena's window as TapPort.pollInto would; returns the tokens. */
function read(a: TxArena, lens: readonly number[]): number[] {
  expect(a.window()).toBe(true);
  let at = a.winStart;
  const tokens: number[] = [];
  for (const l of lens) {
    expect(at + l).toBeLessThanOrEqual(a.winEnd);
    tokens.push(a.add(at, at + 12, l - 12, false, 0));
    at += (l + 7) & ~7;
  }
  a.readTo(at);
  return tokens;
}

describe('TxArena', () => {
  it('hands pending frames out in order, with their place and request', () => {
    const a = new TxArena(4096, 4000, MAX, 8);
    const [t0, t1] = read(a, [100, 60]);
    a.add(a.winStart + 160, a.winStart + 172, 20, true, 1448); // a third with a request
    expect(a.pending).toBe(3);
    expect(a.headToken()).toBe(t0);
    expect(a.offsetOf(t0)).toBe(4096 + 12);
    expect(a.lengthOf(t0)).toBe(88);
    a.taken(true);
    expect(a.headToken()).toBe(t1);
    a.taken(false);
    const req = a.requestOf(a.headToken(), { csum: false, mss: 0 });
    expect(req).toEqual({ csum: true, mss: 1448 });
    a.taken(true);
    expect([a.pending, a.inFlight]).toEqual([0, 2]);
  });

  it('reuses space only once every older frame is done, whatever order completions come in', () => {
    const a = new TxArena(0, 3000, MAX, 16);
    const t = read(a, [1000, 1000]); // window [0, 3000): 2000 used, 1000 left = MAX
    for (let i = 0; i < t.length; i++) a.taken(true);
    const [t2] = read(a, [900]); // [2000, 2900)
    a.taken(true);
    // Less than MAX after the newest and before the oldest: no room.
    expect(a.window()).toBe(false);
    expect(a.done(t[1]!)).toBe(true); // the second completes first: the first still holds [0, 1000)
    expect(a.window()).toBe(false);
    expect(a.done(t[0]!)).toBe(true); // now [0, 2000) is free: the window wraps to the start
    expect(a.window()).toBe(true);
    expect([a.winStart, a.winEnd]).toEqual([0, 2000]);
    expect(a.done(t2!)).toBe(true);
    expect(a.window()).toBe(true); // nothing in use: the whole arena
    expect([a.winStart, a.winEnd]).toEqual([0, 3000]);
  });

  it('ignores a completion for a token not in flight', () => {
    const a = new TxArena(0, 3000, MAX, 4);
    const [t0] = read(a, [100]);
    expect(a.done(t0!)).toBe(false); // still pending
    a.taken(true);
    expect(a.done(t0!)).toBe(true);
    expect(a.done(t0!)).toBe(false); // twice
    expect(a.done(99)).toBe(false);
    expect(a.inFlight).toBe(0);
    expect(a.badDone).toBe(3);
  });

  it('a late or repeated completion for a record since reused is counted and frees nothing', () => {
    const a = new TxArena(0, 100_000, MAX, 2);
    const [old] = read(a, [100]);
    a.taken(true);
    expect(a.done(old!)).toBe(true);
    read(a, [100]); // record 1
    a.taken(true);
    const [reused] = read(a, [100]); // the window reclaimed record 0: this frame reuses it
    a.taken(true);
    expect(reused! % 2).toBe(old! % 2);
    expect(reused).not.toBe(old);
    const before = [a.inFlight, a.freeRecords];
    for (const t of [old!, old! + 2 * 2 ** 20, -1, 2 ** 30, 0.5, NaN]) expect(a.done(t)).toBe(false);
    expect([a.inFlight, a.freeRecords]).toEqual(before); // both records still in flight, no space freed
    expect(a.window()).toBe(true);
    expect(a.freeRecords).toBe(0);
    expect(a.badDone).toBe(6);
    expect(a.done(reused!)).toBe(true);
  });

  it('a completion repeated 2^21 frames later does not free the record it names now (tokens repeat only after 2^29 frames)', () => {
    const a = new TxArena(0, 100_000, MAX); // 256 records, as the bridge's
    const one = (): number => {
      if (!a.window()) throw new Error('no window');
      const t = a.add(a.winStart, a.winStart + 12, 88, false, 0);
      a.readTo(a.winStart + 104);
      a.taken(true);
      return t;
    };
    const first = one();
    expect(a.done(first)).toBe(true);
    for (let n = 1; n < 2 ** 21; n++) if (!a.done(one())) throw new Error(`frame ${n} not completed`);
    const now = one(); // frame 2^21: record 0 again, its use count 2^21 frames on
    expect(now).not.toBe(first);
    expect(a.done(first)).toBe(false); // the first frame's completion, repeated very late
    expect([a.inFlight, a.badDone]).toEqual([1, 1]);
    expect(a.done(now)).toBe(true);
    // Tokens index records by a mask: a record count that is not a power of two is refused.
    for (const r of [3, 0, 1.5, 1 << 17]) expect(() => new TxArena(0, 100_000, MAX, r)).toThrow(RangeError);
  });

  it('counts records: a full record table leaves no room to read', () => {
    const a = new TxArena(0, 100_000, MAX, 4);
    read(a, [100, 100, 100, 100]);
    expect(a.freeRecords).toBe(0);
    a.dropPending(); // detached: pending frames are freed
    expect(a.pending).toBe(0);
    expect(a.window()).toBe(true);
    expect(a.freeRecords).toBe(4);
  });

  it('frames copied at once (done when taken) give their records back at the next window()', () => {
    const a = new TxArena(0, 100_000, MAX, 4);
    read(a, [100, 100, 100, 100]);
    for (let i = 0; i < 4; i++) a.taken(false);
    expect(a.freeRecords).toBe(0);
    expect(a.window()).toBe(true);
    expect(a.freeRecords).toBe(4);
    expect(a.winStart).toBe(0);
  });

  it('holds frames across wraps without ever giving out space in use', () => {
    const a = new TxArena(0, 8 * MAX, MAX, 64);
    const live: { start: number; end: number; token: number }[] = [];
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let round = 0; round < 500; round++) {
      if (a.window()) {
        let at = a.winStart;
        const k = 1 + rnd(4);
        for (let i = 0; i < k && a.winEnd - at >= MAX && a.freeRecords > 0; i++) {
          const l = 20 + rnd(MAX - 20);
          for (const r of live) expect(at >= r.end || at + l <= r.start).toBe(true);
          live.push({ start: at, end: at + l, token: a.add(at, at + 12, l - 12, false, 0) });
          at += (l + 7) & ~7;
        }
        a.readTo(at);
        while (a.pending > 0) a.taken(true);
      }
      // Complete a random in-flight record now and then.
      for (let j = rnd(3); j > 0 && live.length > 0; j--) {
        const r = live.splice(rnd(live.length), 1)[0]!;
        expect(a.done(r.token)).toBe(true);
      }
    }
    expect(a.inFlight).toBe(live.length);
  });
});
