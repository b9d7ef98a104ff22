#!/usr/bin/env node
// `npm run fuzz -- --actions N [--seed S]`: runs the fuzzers in test/fuzz with N actions each
// (FUZZ_ACTIONS) and optionally another fast-check seed (FUZZ_SEED). Builds nothing: vitest runs
// the TypeScript directly. A failure is shrunk and saved under test/fuzz/seeds/.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const env = { ...process.env };
if (value('actions')) env.FUZZ_ACTIONS = value('actions');
if (value('seed')) env.FUZZ_SEED = value('seed');
const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
