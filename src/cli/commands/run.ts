/**
 * `netvsc run FILE [--json]`: runs a scenario file on the lab and prints its results. Exit 0 when
 * every flow's `expect` held, 1 when one failed, 2 on bad input (an unreadable or invalid file,
 * or a scenario that needs what the lab does not have yet: UNSUPPORTED, with every reason).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import { loadScenario, runScenario } from '../../lab/index.js';
import { toJson } from '../control-command.js';
import { formatResult } from '../demo/summary.js';

interface RunCliOptions {
  readonly json?: boolean;
  readonly duration?: string;
}

export async function runCommand(file: string, o: RunCliOptions): Promise<number> {
  let durationMs: number | undefined;
  if (o.duration !== undefined) {
    durationMs = Math.round(Number(o.duration) * 1000);
    if (!/^\d+(\.\d+)?$/.test(o.duration) || durationMs < 100 || durationMs > 3_600_000) throw new ConfigError('BAD_CONFIG', `--duration: must be seconds 0.1..3600, got "${o.duration}"`);
  }
  const spec = loadScenario(file);
  const r = await runScenario(spec, durationMs !== undefined ? { durationMs } : {});
  process.stdout.write(`${o.json ? toJson({ ...r, samples: undefined }) : formatResult(r)}\n`);
  return r.passed ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a scenario file (docs/scenarios.md) and check its expectations')
    .argument('<file>', 'scenario JSON file')
    .option('--json', 'print the results as JSON')
    .option('--duration <seconds>', "run length instead of the scenario's (event and flow times scale with it)")
    .action(async (file: string, o: RunCliOptions) => {
      process.exitCode = await runCommand(file, o);
    });
}
