/**
 * `netvsc down`: removes every network namespace and interface `netvsc up` made (prefix nvsc-),
 * also after a crash (io's Netns state file), and nothing else. Idempotent.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import { tapDown } from '../../lab/tap/index.js';

interface DownCliOptions {
  readonly json?: boolean;
}

export async function downCommand(o: DownCliOptions): Promise<string> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new ConfigError('UNSUPPORTED', `down needs root (CAP_NET_ADMIN to delete namespaces and interfaces); running as uid ${process.getuid()}`);
  }
  const r = await tapDown();
  if (o.json) return JSON.stringify(r, null, 2);
  if (r.namespaces.length + r.links.length === 0) return 'netvsc down: nothing to remove';
  return [
    `netvsc down: removed ${r.namespaces.length} namespace(s), ${r.links.length} link(s)`,
    ...r.namespaces.map((n) => `  netns ${n}`),
    ...r.links.map((l) => `  link ${l}`),
    ...(r.killedPids.length ? [`  killed ${r.killedPids.length} process(es) left inside`] : []),
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('down')
    .description('remove every namespace and interface netvsc up made (also after a crash; never anything else)')
    .option('--json', 'print {namespaces, links, killedPids} as JSON')
    .action(async (o: DownCliOptions) => {
      console.log(await downCommand(o));
    });
}
