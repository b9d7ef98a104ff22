// Regression seeds (issue 9 item 4): every failing case a fuzzer found is saved in seeds/*.json
// as the shrunk action list; the normal suite replays each one against the current code.
import { describe, expect, test } from 'vitest';
import { loadSeeds } from '../harness/fuzz-kit.js';
import { runHostileGuest, type GuestAction } from '../harness/fuzz-hostile-guest.js';
import { runHostileHost, type HostAction } from '../harness/fuzz-hostile-host.js';

describe('hostile-guest seeds', () => {
  const seeds = loadSeeds<GuestAction>('hostile-guest');
  test('there is at least one saved seed to replay', () => {
    expect(seeds.length).toBeGreaterThan(0);
  });
  test.each(seeds.map((s) => [s.file, s.seed] as const))('%s replays clean', async (_f, seed) => {
    const w = await runHostileGuest(seed.actions);
    expect(w.actions).toBe(seed.actions.length);
  });
});

describe('hostile-host seeds', () => {
  const seeds = loadSeeds<HostAction>('hostile-host');
  test.each(seeds.map((s) => [s.file, s.seed] as const))('%s replays clean', async (_f, seed) => {
    const w = await runHostileHost(seed.actions);
    expect(w.actions).toBe(seed.actions.length);
  });
});
