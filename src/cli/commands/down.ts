/**
 * `netvsc down`: removes every network namespace and interface `netvsc up` made (prefix nvsc-),
 * also after a crash (io's Netns state file), and nothing else; first stops a detached `up`. Idempotent.
 */
import { Option, type Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tapDown } from '../../lab/tap/index.js';
import { DEFAULT_INSTANCE, controlSocketPath } from '../control/index.js';
import { detachFiles, pidAlive } from './up.js';

interface DownCliOptions {
  readonly json?: boolean;
  readonly instance?: string;
  readonly socket?: string;
  /** Hidden, for tests: the prefix and state file their `up` used. */
  readonly prefix?: string;
  readonly stateFile?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a `netvsc up --detach` of this instance (its pid file next to the control socket): SIGTERM,
 * so it removes what it made itself, then up to 20 s for it to exit (SIGKILL after that; the sweep
 * below removes what it left). Returns the pid stopped, or null when none ran.
 */
async function stopDetached(socket: string): Promise<number | null> {
  const { pid: file } = detachFiles(socket);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8'));
  if (!pidAlive(pid)) {
    rmSync(file, { force: true });
    return null;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200 && pidAlive(pid); i++) await sleep(100);
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(file, { force: true });
  return pid;
}

export async function downCommand(o: DownCliOptions): Promise<string> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new ConfigError('UNSUPPORTED', `down needs root (CAP_NET_ADMIN to delete namespaces and interfaces); running as uid ${process.getuid()}`);
  }
  const stopped = await stopDetached(o.socket ?? controlSocketPath(o.instance ?? DEFAULT_INSTANCE));
  const r = await tapDown({ ...(o.prefix ? { prefix: o.prefix } : {}), ...(o.stateFile ? { stateFile: o.stateFile } : {}) });
  if (o.json) return JSON.stringify({ ...r, stoppedPid: stopped }, null, 2);
  const head = stopped !== null ? [`netvsc down: stopped the detached netvsc up (pid ${stopped})`] : [];
  if (r.namespaces.length + r.links.length === 0) return [...head, 'netvsc down: nothing to remove'].join('\n');
  return [
    ...head,
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
    .option('--json', 'print {namespaces, links, killedPids, stoppedPid} as JSON')
    .option('--instance <name>', 'the instance whose detached up to stop', DEFAULT_INSTANCE)
    .option('--socket <path>', 'its control socket path')
    .addOption(new Option('--prefix <p>', 'tests: namespace and interface prefix (default nvsc-)').hideHelp())
    .addOption(new Option('--state-file <path>', 'tests: the Netns state file').hideHelp())
    .action(async (o: DownCliOptions) => {
      console.log(await downCommand(o));
    });
}
