/**
 * End-to-end figures through the whole emulated path (TAP → guest netvsc → VMBus → host NetVSP
 * → vswitch → other VM's netvsc → TAP) against a kernel veth pair between two namespaces, same
 * iperf3 settings, same run: UDP 64-byte datagrams/s, TCP Gbit/s and ping RTT. Each of ours has
 * `ceiling` = the veth figure. Needs root and the TAP addon; otherwise prints why, reports nothing.
 * The machine is shared: veth and ours are measured in alternation, three rounds (one with
 * --quick), and each side reports its best round, so both get the same treatment. Also reports
 * the CPU the idle lab (host + 2 VMs + TAP workers) burns, as CPU ms per wall second. The same
 * lab is measured again in busy-poll mode (`up --busy-poll`) each round, with its own rows.
 * TCP also reports the lab's CPU per Gbit/s (this process's CPU — every lab worker, TAP syscalls
 * included — per second of the run, over the rate): steadier than the rate on a shared machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, tapUnavailableReason } from '../src/io/index.js';
import { tapUp, type TapLab } from '../src/lab/tap/index.js';
import { iperf3 } from '../test/harness/e2e-tools.js';
import type { BenchContext } from './harness.js';

interface PathFigures {
  readonly udpPps: number;
  readonly tcpGbps: number;
  readonly rttUs: number;
  /** This process's CPU during the TCP run, ms per second, per Gbit/s received. */
  readonly tcpCpuMsPerGbit: number;
}

function avgRttUs(out: string): number {
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  return m ? Number(m[1]) * 1000 : Number.NaN;
}

/** The same three measurements between namespace a (client) and b (server at ip). */
async function measure(netns: Netns, a: string, b: string, ip: string, secs: number, port: number): Promise<PathFigures> {
  const udp = await iperf3(netns, b, a, ip, port, ['-u', '-l', '64', '-b', '0', '-t', String(secs)]);
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const tcp = await iperf3(netns, b, a, ip, port + 1, ['-t', String(secs)]);
  const c = process.cpuUsage(c0);
  const cpuMsPerSec = (c.user + c.system) / 1000 / ((performance.now() - w0) / 1000);
  const ping = await netns.exec(a, ['ping', '-i', '0.01', '-c', '200', '-q', ip], 30_000);
  return { udpPps: udp.packets / secs, tcpGbps: tcp.bps / 1e9, rttUs: avgRttUs(ping.stdout), tcpCpuMsPerGbit: cpuMsPerSec / (tcp.bps / 1e9) };
}

/** Best of each figure over the rounds (highest rate, lowest RTT). */
function best(rounds: readonly PathFigures[]): PathFigures {
  return {
    udpPps: Math.max(...rounds.map((r) => r.udpPps)),
    tcpGbps: Math.max(...rounds.map((r) => r.tcpGbps)),
    rttUs: Math.min(...rounds.map((r) => (Number.isNaN(r.rttUs) ? Infinity : r.rttUs))),
    tcpCpuMsPerGbit: Math.min(...rounds.map((r) => r.tcpCpuMsPerGbit)),
  };
}

/** CPU this process (every lab worker included) uses while nothing is sent, ms per wall second. */
async function idleCpuMsPerSec(ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 500)); // let bring-up traffic (ARP, IPv6 DAD) settle
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000 / ((performance.now() - w0) / 1000);
}

export async function run(ctx: BenchContext): Promise<void> {
  const reason = tapUnavailableReason() ?? (process.getuid?.() === 0 ? null : 'not root');
  if (reason !== null) {
    console.log(`skipped: ${reason}`);
    return;
  }
  const secs = ctx.quick ? 2 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-bench-e2e-'));
  const prefix = 'nvsc-be-';
  const stateFile = join(dir, 'state.json');
  const netns = new Netns({ prefix, stateFile });
  let up: TapLab | undefined;
  try {
    const va = netns.name('va');
    const vb = netns.name('vb');
    await netns.createNamespace(va);
    await netns.createNamespace(vb);
    await netns.createVethPair({ name: netns.name('a'), netns: va }, { name: netns.name('b'), netns: vb });
    await netns.configureLink(va, netns.name('a'), { address: '10.81.0.1/24' });
    await netns.configureLink(vb, netns.name('b'), { address: '10.81.0.2/24' });
    up = await tapUp({ vms: 2, prefix, stateFile, subnet: '10.80.0' });
    const [x, y] = up.vms;
    const idleCpu = await idleCpuMsPerSec(3000);
    await up.setBusyPoll(true);
    const busyIdleCpu = await idleCpuMsPerSec(2000);
    await up.setBusyPoll(false);
    const vethRounds: PathFigures[] = [];
    const ourRounds: PathFigures[] = [];
    const busyRounds: PathFigures[] = [];
    for (let round = 0; round < (ctx.quick ? 1 : 3); round++) {
      vethRounds.push(await measure(netns, va, vb, '10.81.0.2', secs, 5401 + 20 * round));
      ourRounds.push(await measure(up.netns, x!.ns, y!.ns, y!.ip, secs, 5411 + 20 * round));
      await up.setBusyPoll(true);
      busyRounds.push(await measure(up.netns, x!.ns, y!.ns, y!.ip, secs, 5413 + 20 * round));
      await up.setBusyPoll(false);
    }
    const veth = best(vethRounds);
    const ours = best(ourRounds);
    const busy = best(busyRounds);

    ctx.report({ name: 'UDP 64 B datagrams/s, iperf3 -b 0 (ours; ceiling = veth)', unit: 'pps', value: ours.udpPps, ceiling: veth.udpPps, target: '≥ veth (ratio ≥ 100%)' });
    ctx.report({ name: 'TCP iperf3 (ours; ceiling = veth)', unit: 'Gbit/s', value: ours.tcpGbps, ceiling: veth.tcpGbps, target: '≥ half of veth (ratio ≥ 50%)' });
    ctx.report({ name: 'ping RTT, -i 0.01 (ours; ceiling = veth)', unit: 'us', value: ours.rttUs, ceiling: veth.rttUs, target: '≤ 2× veth (ratio ≤ 200%)' });
    ctx.report({ name: 'idle lab CPU (2 VMs on TAPs), ms per s', unit: 'ms', value: idleCpu, target: 'well under 1000 (one core)' });
    ctx.report({ name: 'TCP: lab CPU per Gbit/s (ms per s, ours)', unit: 'ms', value: ours.tcpCpuMsPerGbit, target: 'lower is better (A/B figure)' });
    // Busy-poll mode (up --busy-poll, never the default): the same three figures, and what it costs idle.
    ctx.report({ name: 'busy-poll: UDP 64 B datagrams/s (ceiling = veth)', unit: 'pps', value: busy.udpPps, ceiling: veth.udpPps, target: '≥ veth (ratio ≥ 100%)' });
    ctx.report({ name: 'busy-poll: TCP iperf3 (ceiling = veth)', unit: 'Gbit/s', value: busy.tcpGbps, ceiling: veth.tcpGbps, target: '≥ half of veth (ratio ≥ 50%)' });
    ctx.report({ name: 'busy-poll: ping RTT, -i 0.01 (ceiling = veth)', unit: 'us', value: busy.rttUs, ceiling: veth.rttUs, target: '≤ 2× veth (ratio ≤ 200%)' });
    ctx.report({ name: 'busy-poll: idle lab CPU, ms per s', unit: 'ms', value: busyIdleCpu, target: 'none (it polls; 2000 = both cores)' });
    ctx.report({ name: 'busy-poll: TCP lab CPU per Gbit/s (ms per s)', unit: 'ms', value: busy.tcpCpuMsPerGbit, target: 'lower is better (it polls)' });
  } finally {
    await up?.down();
    await netns.down();
    rmSync(dir, { recursive: true, force: true });
  }
}
