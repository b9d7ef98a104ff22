/**
 * Network namespaces and interfaces for VM NICs: create, move, address, run commands inside, and
 * tear down. Every name carries our prefix (default `nvsc-`) and is recorded in a state file before
 * it is created, so `down()` is idempotent and also works after a crash. `down()` deletes what is
 * recorded plus whatever carries the prefix, and never touches anything else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ResourceError } from '../core/index.js';
import {
  checkOwnedName,
  checkPrefix,
  emptyState,
  parseState,
  planTeardown,
  withLink,
  withNamespace,
  withoutLink,
  type NetnsState,
} from './netns-state.js';
import { mustRun, runCommand, type CommandResult } from './run-command.js';

export const DEFAULT_PREFIX = 'nvsc-';
/** tmpfs: namespaces do not survive a reboot, and neither should their record. */
export const DEFAULT_STATE_FILE = '/run/netvsc/state.json';

export interface NetnsOptions {
  /** Every namespace and interface name starts with this (3..10 chars). Default `nvsc-`. */
  readonly prefix?: string;
  /** Where the record lives. Default /run/netvsc/state.json. */
  readonly stateFile?: string;
}

export interface LinkConfig {
  /** The link's MAC address (`ip link set … address`), set first: a TAP takes its NIC's MAC. */
  readonly mac?: string;
  /** An address with prefix length, e.g. `10.77.0.1/24`. */
  readonly address?: string;
  readonly mtu?: number;
  /** Bring the link up (default true). */
  readonly up?: boolean;
}

export interface DownReport {
  readonly namespaces: readonly string[];
  readonly links: readonly string[];
  /** Processes still inside our namespaces that were killed so the namespaces could go away. */
  readonly killedPids: readonly number[];
  /** Steps of a run's own teardown that failed (closing its lab or a TAP), when any did. */
  readonly errors?: readonly string[];
}

/** ip(8) arguments that run a subcommand inside `netns`, or in the root namespace for null. */
function ipIn(netns: string | null, ...args: string[]): string[] {
  return netns === null ? ['ip', ...args] : ['ip', '-n', netns, ...args];
}

export class Netns {
  readonly prefix: string;
  readonly stateFile: string;
  /** Serialises read-modify-write of the state file within this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: NetnsOptions = {}) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    checkPrefix(this.prefix);
    this.stateFile = opts.stateFile ?? DEFAULT_STATE_FILE;
  }

  /** prefix + suffix, checked to be a valid link/namespace name. */
  name(suffix: string): string {
    const n = this.prefix + suffix;
    checkOwnedName(this.prefix, n, 'link');
    return n;
  }

  /** The current record (empty when there is no file). */
  readState(): NetnsState {
    try {
      return parseState(readFileSync(this.stateFile, 'utf8'), this.prefix);
    } catch {
      return emptyState(this.prefix);
    }
  }

  /** Creates a namespace with loopback up. */
  async createNamespace(ns: string): Promise<void> {
    checkOwnedName(this.prefix, ns, 'namespace');
    await this.update((s) => withNamespace(s, ns));
    await mustRun(['ip', 'netns', 'add', ns]);
    await mustRun(ipIn(ns, 'link', 'set', 'lo', 'up'));
  }

  /**
   * Records a link that is about to be created by other means (a TAP opened through the addon),
   * so down() finds it even if we crash before it is moved.
   */
  async recordLink(name: string, netns: string | null = null): Promise<void> {
    checkOwnedName(this.prefix, name, 'link');
    if (netns !== null) checkOwnedName(this.prefix, netns, 'namespace');
    await this.update((s) => withLink(s, { name, netns }));
  }

  /** Moves one of our links from the root namespace into one of our namespaces. */
  async moveLink(name: string, netns: string): Promise<void> {
    checkOwnedName(this.prefix, name, 'link');
    checkOwnedName(this.prefix, netns, 'namespace');
    await this.update((s) => withLink(s, { name, netns }));
    await mustRun(['ip', 'link', 'set', 'dev', name, 'netns', netns]);
    await this.update((s) => withoutLink(s, { name, netns: null }));
  }

  /** Sets MTU, address and up state of a link inside `netns` (null: root namespace). */
  async configureLink(netns: string | null, name: string, cfg: LinkConfig): Promise<void> {
    checkOwnedName(this.prefix, name, 'link');
    if (cfg.mac !== undefined) await mustRun(ipIn(netns, 'link', 'set', 'dev', name, 'address', cfg.mac));
    if (cfg.mtu !== undefined) await mustRun(ipIn(netns, 'link', 'set', 'dev', name, 'mtu', String(cfg.mtu)));
    if (cfg.address !== undefined) await mustRun(ipIn(netns, 'addr', 'add', cfg.address, 'dev', name));
    if (cfg.up ?? true) await mustRun(ipIn(netns, 'link', 'set', 'dev', name, 'up'));
  }

  /** A kernel veth pair with one end in each namespace (the baseline for benchmarks). */
  async createVethPair(a: { name: string; netns: string }, b: { name: string; netns: string }): Promise<void> {
    for (const end of [a, b]) {
      checkOwnedName(this.prefix, end.name, 'link');
      checkOwnedName(this.prefix, end.netns, 'namespace');
    }
    await this.update((s) => withLink(withLink(s, a), b));
    await mustRun(['ip', 'link', 'add', a.name, 'netns', a.netns, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.netns]);
  }

  /** Runs a command inside a namespace (`ip netns exec`); resolves with its exit code and output. */
  exec(netns: string, argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    checkOwnedName(this.prefix, netns, 'namespace');
    return runCommand(['ip', 'netns', 'exec', netns, ...argv], timeoutMs);
  }

  /** Starts a long-running command inside a namespace (an iperf3 server); down() kills it if still there. */
  spawn(netns: string, argv: readonly string[]): ChildProcess {
    checkOwnedName(this.prefix, netns, 'namespace');
    return spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /**
   * Removes everything recorded plus everything carrying the prefix; idempotent. Processes left
   * inside our namespaces are killed first, because a namespace with a process in it outlives
   * `ip netns del`.
   */
  async down(): Promise<DownReport> {
    const state = this.readState();
    const plan = planTeardown(state, await this.listNamespaces(), await this.listRootLinks());
    const killedPids: number[] = [];
    for (const ns of plan.namespaces) killedPids.push(...(await killInside(ns)));
    const links: string[] = [];
    for (const l of plan.links) {
      const r = await runCommand(ipIn(l.netns, 'link', 'del', 'dev', l.name));
      if (r.code === 0) links.push(l.name);
    }
    const namespaces: string[] = [];
    const failed: string[] = [];
    for (const ns of plan.namespaces) {
      const r = await runCommand(['ip', 'netns', 'del', ns]);
      if (r.code === 0) namespaces.push(ns);
      else failed.push(`${ns}: ${r.stderr.trim()}`);
    }
    // What is gone leaves the record, including records of things a crash already removed;
    // a namespace that could not be deleted stays recorded for the next down().
    const stuck = plan.namespaces.filter((ns) => !namespaces.includes(ns));
    await this.update(() => ({ ...emptyState(this.prefix), namespaces: stuck }));
    if (failed.length > 0) throw new ResourceError('BUSY', `could not delete namespaces: ${failed.join('; ')}`);
    return { namespaces, links, killedPids };
  }

  /**
   * Deletes exactly these namespaces of ours (a run's own teardown, leaving other runs under the
   * same prefix alone), killing processes inside first; links in them go with them. Names without
   * the prefix are refused; what is already gone is skipped.
   */
  async removeNamespaces(names: readonly string[]): Promise<DownReport> {
    for (const ns of names) checkOwnedName(this.prefix, ns, 'namespace');
    const existing = new Set(await this.listNamespaces());
    const namespaces: string[] = [];
    const killedPids: number[] = [];
    for (const ns of names) {
      if (!existing.has(ns)) continue;
      killedPids.push(...(await killInside(ns)));
      if ((await runCommand(['ip', 'netns', 'del', ns])).code === 0) namespaces.push(ns);
    }
    return { namespaces, links: [], killedPids };
  }

  /** Names of all namespaces (ours and others'). */
  async listNamespaces(): Promise<string[]> {
    const out = await mustRun(['ip', '-j', 'netns', 'list']);
    if (out.trim() === '') return [];
    return (JSON.parse(out) as { name: string }[]).map((n) => n.name);
  }

  /** Names of all links in the root namespace. */
  async listRootLinks(): Promise<string[]> {
    const out = await mustRun(['ip', '-j', 'link', 'show']);
    return (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname);
  }

  private update(fn: (s: NetnsState) => NetnsState): Promise<void> {
    const next = this.queue.then(() => this.write(fn(this.readState())));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Atomic replace (write + rename), so a crash never leaves a half-written record. */
  private write(s: NetnsState): void {
    if (s.namespaces.length === 0 && s.links.length === 0) {
      rmSync(this.stateFile, { force: true });
      return;
    }
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
    renameSync(tmp, this.stateFile);
  }
}

/** Kills the processes inside `ns` (a namespace with a process in it outlives `ip netns del`). */
async function killInside(ns: string): Promise<number[]> {
  const killed: number[] = [];
  const r = await runCommand(['ip', 'netns', 'pids', ns]);
  for (const tok of r.stdout.split(/\s+/)) {
    const pid = Number(tok);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Already gone: nothing to do.
    }
  }
  return killed;
}
