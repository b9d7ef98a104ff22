// Hostile host → our guest (issue 9, docs/robustness.md): every §8 validation attacked through a
// ScriptedHost. CI budget fixed; `npm run fuzz -- --actions N` runs more.
import { expect, test } from 'vitest';
import { actionBudget, fuzz, fuzzSeed } from '../harness/fuzz-kit.js';
import { hostAction, runHostileHost } from '../harness/fuzz-hostile-host.js';

const RUN_LENGTH = 40;

test('hostile host: the guest completes every packet once, stays sound, and still passes traffic', async () => {
  let ran = 0;
  const r = await fuzz({
    fuzzer: 'hostile-host',
    action: hostAction,
    length: RUN_LENGTH,
    totalActions: actionBudget(3000),
    seed: fuzzSeed(0x5a17),
    run: async (actions) => {
      ran += (await runHostileHost(actions)).actions;
    },
  });
  console.log(`hostile-host: ${r.runs} runs, ${ran} actions`);
  expect(ran).toBeGreaterThan(0);
}, 600_000);
