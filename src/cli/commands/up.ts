/**
 * `netvsc up`: the emulated Hyper-V host and N VMs whose synthetic NICs are real Linux TAP
 * interfaces, one per network namespace (nvsc-vmI, 10.77.0.(I+1)/24), on one virtual switch.
 * Stays in the foreground serving the control socket (ethtool/stats/host/link against nicI)
 * until SIGINT/SIGTERM, then removes everything it made. docs/tap.md.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import { HOST_PROFILE_NAMES } from '../../host/index.js';
import { checkProfile, type LabVlanPort } from '../../lab/config.js';
import type { LabNic } from '../../lab/index.js';
import { labControlHandler } from '../../lab/index.js';
import { MAX_UP_VMS, requireTap, tapUp, type TapLab } from '../../lab/tap/index.js';
import { checkUplinkVlan } from '../../lab/tap/uplink.js';
import { ControlServer, DEFAULT_INSTANCE, controlSocketPath, type ControlHandler } from '../control/index.js';
import { untilStopped } from '../until-stopped.js';

interface UpCliOptions {
  readonly vms: string;
  readonly profile: string;
  readonly queues: string;
  readonly mtu: string;
  readonly uplink?: string;
  /** --uplink-vlan trunk:10,20 | access:N: the uplink port's 802.1Q membership (checkUplinkVlan). */
  readonly uplinkVlan?: string;
  /** --nic-vlan nicI=trunk:…|access:N, repeatable: VM I's NIC's switch-port VLAN. */
  readonly nicVlan?: readonly string[];
  readonly detach?: boolean;
  readonly capture?: string;
  readonly captureNics?: string;
  readonly trace?: boolean;
  readonly offloads: boolean;
  /** --busy-poll: the host and VM loops poll instead of sleeping (lower latency, ~a core of CPU idle). */
  readonly busyPoll?: boolean;
  readonly instance: string;
  readonly socket?: string;
  /** Set by --detach for the background child: where it writes its pid once it serves the socket. */
  readonly pidFile?: string;
  /** Hidden, for tests running beside others: namespace/interface prefix and state file. */
  readonly prefix?: string;
  readonly stateFile?: string;
}

function readInt(flag: string, s: string, min: number, max: number): number {
  const v = Number(s);
  if (!/^\d+$/.test(s) || v < min || v > max) throw new ConfigError('BAD_CONFIG', `${flag}: must be an integer ${min}..${max}, got "${s}"`);
  return v;
}

function readCaptureNics(s: string | undefined, vms: number, uplink: boolean): string[] | undefined {
  if (s === undefined) return undefined;
  const names = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const known = [...Array.from({ length: vms }, (_, i) => `nic${i}`), ...(uplink ? ['uplink'] : [])];
  for (const n of names) if (!known.includes(n)) throw new ConfigError('BAD_CONFIG', `--capture-nics: no NIC '${n}' (have: ${known.join(', ')})`);
  return names.map((n) => (n === 'uplink' ? n : `vm${n.slice(3)}`));
}

/** --nic-vlan nicI=SPEC (repeatable) → tapUp's vmVlans (vmI: the port's VLAN membership). */
export function readNicVlans(list: readonly string[] | undefined, vms: number): Record<string, LabVlanPort> | undefined {
  if (!list || list.length === 0) return undefined;
  const out: Record<string, LabVlanPort> = {};
  for (const item of list) {
    const m = /^nic(\d+)=(.*)$/.exec(item.trim());
    if (!m || Number(m[1]) >= vms) throw new ConfigError('BAD_CONFIG', `--nic-vlan: '${item}' is not nicI=trunk:ID[,ID…] or nicI=access:ID with I < ${vms}`);
    const vm = `vm${Number(m[1])}`;
    if (vm in out) throw new ConfigError('BAD_CONFIG', `--nic-vlan: nic${m[1]} given twice`);
    out[vm] = checkUplinkVlan(m[2]!, `--nic-vlan nic${m[1]}`);
  }
  return out;
}

/** Control-socket names: nicI is VM I's NIC (the demo's naming). */
export function upNics(up: TapLab): Map<string, LabNic> {
  return new Map(up.vms.map((v, i) => [`nic${i}`, v.tap.nic]));
}

/** What `up` prints once everything runs. */
export function upSummary(up: TapLab, socket: string): string {
  const rows = up.vms.map((v, i) => `  nic${i}  ${v.name}  netns ${v.ns}  ${v.ifName}  ${v.ip}/24  ${v.tap.nic.mac}`);
  const [a, b] = up.vms;
  const u = up.uplink;
  if (u) rows.push(`  uplink  netns ${u.ns}  ${u.ifName}  ${u.ip}/24`);
  const tryLines = [
    ...(a && b ? [`  ip netns exec ${a.ns} ping -c 3 ${b.ip}`, `  ip netns exec ${b.ns} iperf3 -s -D; ip netns exec ${a.ns} iperf3 -c ${b.ip} -t 3`] : []),
    ...(u && a ? [`  ip netns exec ${u.ns} ping -c 3 ${a.ip}`] : []),
  ];
  return [
    `netvsc up: host profile ${up.lab.profile.name}, ${up.vms.length} VM(s) on one virtual switch`,
    ...rows,
    `control socket ${socket} (netvsc ethtool -S nic0 · netvsc stats)`,
    ...(tryLines.length ? ['try:', ...tryLines] : []),
    'Ctrl-C (or netvsc down) removes every namespace and interface',
  ].join('\n');
}

export async function upCommand(o: UpCliOptions): Promise<number> {
  const vms = readInt('--vms', o.vms, 1, MAX_UP_VMS);
  const profile = checkProfile(o.profile, '--profile');
  const queues = readInt('--queues', o.queues, 1, 64);
  const mtu = readInt('--mtu', o.mtu, 68, 65521);
  const captureNics = readCaptureNics(o.captureNics, vms, o.uplink !== undefined);
  if (captureNics && !o.capture) throw new ConfigError('BAD_CONFIG', '--capture-nics needs --capture DIR');
  if (o.trace && !o.capture) throw new ConfigError('BAD_CONFIG', '--trace needs --capture DIR (the trace files go there)');
  if (o.uplinkVlan !== undefined && o.uplink === undefined) throw new ConfigError('BAD_CONFIG', '--uplink-vlan needs --uplink NAME');
  const uplinkVlan = o.uplinkVlan !== undefined ? checkUplinkVlan(o.uplinkVlan) : undefined;
  const vmVlans = readNicVlans(o.nicVlan, vms);
  const path = o.socket ?? controlSocketPath(o.instance);
  if (o.detach) {
    requireTap(); // say why here, not in a background log
    return detach(o, path);
  }
  const up = await tapUp({ vms, profile, queues, mtu, offloads: o.offloads, ...(o.capture ? { captureDir: o.capture } : {}), ...(captureNics ? { captureNics } : {}), ...(o.trace ? { trace: true } : {}), ...(o.uplink !== undefined ? { uplink: o.uplink } : {}), ...(uplinkVlan !== undefined ? { uplinkVlan } : {}), ...(vmVlans ? { vmVlans } : {}), ...(o.busyPoll ? { busyPoll: true } : {}), ...(o.prefix ? { prefix: o.prefix } : {}), ...(o.stateFile ? { stateFile: o.stateFile } : {}) });
  let server: ControlServer | null = null;
  try {
    const handler: ControlHandler = labControlHandler({ lab: up.lab, nics: upNics(up) });
    server = await ControlServer.listen(path, handler);
    process.stdout.write(`${upSummary(up, path)}\n`);
    if (o.pidFile) writeFileSync(o.pidFile, `${process.pid}\n`); // the parent waits for this: we are serving
    await untilStopped();
  } finally {
    if (o.pidFile) rmSync(o.pidFile, { force: true });
    await server?.close();
    await up.lab.flushCaptures().catch(() => null); // buffered pcap records and traces reach their files
    const r = await up.down();
    process.stderr.write(`netvsc up: removed ${r.namespaces.length} namespace(s), ${r.links.length} link(s)\n`);
  }
  return 0;
}

/** Where a detached `up` keeps its pid and its output (next to its control socket). */
export function detachFiles(socket: string): { readonly pid: string; readonly log: string } {
  return { pid: `${socket}.pid`, log: `${socket}.log` };
}

/** The same `up` as flags again, for the detached child. */
function childArgs(o: UpCliOptions, pidFile: string): string[] {
  return [
    'up', '--vms', o.vms, '--profile', o.profile, '--queues', o.queues, '--mtu', o.mtu, '--instance', o.instance, '--pid-file', pidFile,
    ...(o.socket ? ['--socket', o.socket] : []),
    ...(o.capture ? ['--capture', resolve(o.capture)] : []),
    ...(o.captureNics ? ['--capture-nics', o.captureNics] : []),
    ...(o.trace ? ['--trace'] : []),
    ...(o.uplink !== undefined ? ['--uplink', o.uplink] : []),
    ...(o.uplinkVlan !== undefined ? ['--uplink-vlan', o.uplinkVlan] : []),
    ...(o.nicVlan ?? []).flatMap((v) => ['--nic-vlan', v]),
    ...(o.offloads ? [] : ['--no-offloads']),
    ...(o.busyPoll ? ['--busy-poll'] : []),
    ...(o.prefix ? ['--prefix', o.prefix] : []),
    ...(o.stateFile ? ['--state-file', resolve(o.stateFile)] : []),
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * --detach: starts the same `up` as a detached child (its own session, output to `<socket>.log`)
 * and returns once the child serves the control socket (it writes `<socket>.pid` then), printing
 * its summary. A child that fails exits, and its log is printed here with exit code 2. `netvsc
 * down` stops it through the pid file (SIGTERM: it removes everything itself), then sweeps.
 */
async function detach(o: UpCliOptions, socket: string): Promise<number> {
  const files = detachFiles(socket);
  mkdirSync(dirname(socket), { recursive: true });
  if (existsSync(files.pid)) {
    const pid = Number(readFileSync(files.pid, 'utf8'));
    if (pidAlive(pid)) throw new ConfigError('BAD_CONFIG', `--detach: netvsc up is already running (pid ${pid}, ${files.pid}); netvsc down stops it`);
    rmSync(files.pid, { force: true });
  }
  const log = openSync(files.log, 'w');
  const main = process.argv[1];
  if (!main) throw new ConfigError('UNSUPPORTED', '--detach: cannot tell which script to start again (no argv[1])');
  const child = spawn(process.execPath, [...process.execArgv, main, ...childArgs(o, files.pid)], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (existsSync(files.pid) && Number(readFileSync(files.pid, 'utf8')) === child.pid) {
      process.stdout.write(readFileSync(files.log, 'utf8').replace('Ctrl-C (or netvsc down)', 'netvsc down'));
      process.stdout.write(`detached: pid ${child.pid}, output in ${files.log}\n`);
      return 0;
    }
    if (exited !== null || Date.now() > deadline) {
      if (exited === null) child.kill('SIGTERM');
      process.stderr.write(readFileSync(files.log, 'utf8'));
      process.stderr.write(`netvsc up --detach: the background up ${exited === null ? 'did not start in 120 s' : `exited with code ${exited}`}\n`);
      return 2;
    }
    await sleep(100);
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function register(program: Command): void {
  program
    .command('up')
    .description('start the emulated host and N VMs whose synthetic NICs are TAP interfaces in their own network namespaces (root)')
    .option('--vms <n>', `number of VMs (1..${MAX_UP_VMS})`, '2')
    .option('--profile <name>', `host profile (${HOST_PROFILE_NAMES.join(', ')})`, 'azure')
    .option('--queues <n>', 'VMBus channels per NIC', '1')
    .option('--mtu <n>', 'NIC and TAP MTU', '1500')
    .option('--uplink <name>', 'an uplink TAP on the virtual switch, in its own namespace (nvsc-uplink) at .254 of the subnet')
    .option('--uplink-vlan <spec>', 'the uplink port as 802.1Q trunk:ID[,ID…] (tags on the TAP) or access:ID (default: untagged)')
    .option('--nic-vlan <nicI=spec>', 'a VM NIC\'s switch port VLAN, e.g. nic0=access:10 or nic1=trunk:10,20 (repeatable; default: untagged)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--detach', 'run in the background (pid and output next to the control socket); netvsc down stops it')
    .addOption(new Option('--pid-file <path>', 'internal: written by the background up of --detach').hideHelp())
    .addOption(new Option('--prefix <p>', 'tests: namespace and interface prefix (default nvsc-)').hideHelp())
    .addOption(new Option('--state-file <path>', 'tests: the Netns state file').hideHelp())
    .option('--capture <dir>', 'write pcap files per NIC into DIR: guest TX, switch port in/out, guest RX')
    .option('--capture-nics <list>', 'which NICs to capture, e.g. nic0,nic1,uplink (default: all)')
    .option('--trace', 'with --capture: also a JSON-lines trace of every NVSP/RNDIS message per captured NIC')
    .option('--no-offloads', 'no checksum/TSO offloads through the virtio-net header (the kernel does them)')
    .option('--busy-poll', 'poll instead of sleeping (host and VM threads yield the CPU between polls): lower latency, both cores busy even when idle')
    .option('--instance <name>', 'control socket instance name', DEFAULT_INSTANCE)
    .option('--socket <path>', 'control socket path')
    .action(async (o: UpCliOptions) => {
      process.exitCode = await upCommand(o);
    });
}
