// Hostile guest → our host (issue 9, docs/robustness.md). CI runs a fixed number of actions with
// a fixed seed; `npm run fuzz -- --actions N` (FUZZ_ACTIONS) runs more, FUZZ_SEED picks another seed.
import { expect, test } from 'vitest';
import { actionBudget, fuzz, fuzzSeed } from '../harness/fuzz-kit.js';
import { guestAction, HostileGuestWorld, runHostileGuest } from '../harness/fuzz-hostile-guest.js';

/** Actions per run: long enough to reach deep states (buffers revoked mid-traffic, reopen, …). */
const RUN_LENGTH = 40;

test('hostile guest: every action leaves the host sound, B↔C flowing, and A able to start over', async () => {
  let ran = 0;
  const r = await fuzz({
    fuzzer: 'hostile-guest',
    action: guestAction,
    length: RUN_LENGTH,
    totalActions: actionBudget(3000),
    seed: fuzzSeed(0x9e7),
    run: async (actions) => {
      ran += (await runHostileGuest(actions)).actions;
    },
  });
  const sub = HostileGuestWorld.subTotals;
  console.log(`hostile-guest: ${r.runs} runs, ${ran} actions; sub-channels: ${JSON.stringify(sub)}`);
  expect(ran).toBeGreaterThan(0);
  // The sub-channel actions reach deep states: grants, opens, sends checked delivered, closes mid-stream.
  expect(sub.opened * sub.checkedDelivered * sub.closedMidStream).toBeGreaterThan(0);
}, 600_000);
