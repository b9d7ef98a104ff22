import type { Command } from 'commander';
import { type ControlCliOptions, call, toJson, withControlOptions } from '../control-command.js';
import { formatStats } from '../stats-format.js';

/** `netvsc stats`: per-NIC and per-queue counters and drops by reason. */
export async function statsCommand(o: ControlCliOptions): Promise<string> {
  const r = await call(o, { op: 'stats' });
  return o.json ? toJson(r) : formatStats(r);
}

export function register(program: Command): void {
  withControlOptions(program.command('stats').description('show per-NIC and per-queue counters of a running instance')).action(
    async (o: ControlCliOptions) => console.log(await statsCommand(o)),
  );
}
