#!/usr/bin/env node
// `npm run fuzz -- --actions N [--seed S]`: runs the fuzzers in test/fuzz with N actions each
// (FUZZ_ACTIONS) and optionally another fast-check seed (FUZZ_SEED). Builds dist/ first: the
// worker-mode faults (test/fuzz/worker-faults.test.ts) start compiled workers; the fuzzers
// themselves run the TypeScript directly. A failure is shrunk and saved under test/fuzz/seeds/.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const env = { ...process.env };
if (value('actions')) env.FUZZ_ACTIONS = value('actions');
if (value('seed')) env.FUZZ_SEED = value('seed');
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
// tsc emits even with type errors; say so rather than refuse to fuzz.
if (build.status !== 0) console.error('fuzz: tsc reported errors; the worker-mode faults run on what it emitted');
const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
