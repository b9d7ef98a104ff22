// Layered capture and the uplink with the real Linux stack (root): `up` with capture and trace on
// two VMs and an uplink TAP, ping and a short iperf3 TCP run, then tshark reads every pcap — guest
// TX, both switch-port directions, guest RX, the uplink's port — and finds the ICMP echoes at each
// layer they cross and every IP/TCP/UDP checksum good; every trace record decodes through the wire
// CLI's decoder to the message it names. The uplink namespace pings both VMs.
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Netns, runCommand } from '../../src/io/index.js';
import { tapUp, type TapLab } from '../../src/lab/tap/index.js';
import { iperf3, tsharkChecksums } from '../harness/e2e-tools.js';
import { netnsCanRun, tapLabTeardown, testPrefix } from '../harness/netns-guard.js';
import { readTrace, undecodable } from '../harness/trace-check.js';

const run = netnsCanRun('e2e capture over TAP', { needsTap: true, tools: ['ping', 'iperf3', 'tshark'] });
const dir = mkdtempSync(join(tmpdir(), 'nvsc-cap-'));
const prefix = testPrefix('c');
const stateFile = join(dir, 'state.json');
const captureDir = join(dir, 'capture');
const LAYERS = ['guest-tx', 'switch-in', 'switch-out', 'guest-rx'] as const;

/** Frames in `pcap` matching a tshark display filter. */
async function count(pcap: string, filter: string): Promise<number> {
  const r = await runCommand(['tshark', '-n', '-r', pcap, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], 60_000);
  if (r.code !== 0) throw new Error(`tshark -r ${pcap} -Y ${filter}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

describe.runIf(run)('capture at every layer, trace, uplink', () => {
  let up: TapLab | undefined;

  beforeAll(async () => {
    up = await tapUp({ vms: 2, prefix, stateFile, subnet: '10.79.0', captureDir, trace: true, uplink: 'up0' });
  });

  afterAll(() => tapLabTeardown(up, { prefix, stateFile, dir }));

  test('the uplink namespace reaches both VMs through the switch', async () => {
    const u = up!.uplink!;
    expect(u.ns).toBe(`${prefix}uplink`);
    expect(u.ifName).toBe(`${prefix}up0`);
    for (const v of up!.vms) {
      const r = await up!.netns.exec(u.ns, ['ping', '-c', '5', '-i', '0.05', '-W', '2', v.ip], 30_000);
      expect(r.stdout, v.ip).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
    }
    const s = await up!.lab.hostClient.call('uplinkStats', []);
    expect(s!.rx_frames).toBeGreaterThanOrEqual(10);
    expect(s!.tx_frames).toBeGreaterThanOrEqual(10);
  });

  test('ping and iperf3 between the VMs', async () => {
    const [a, b] = up!.vms;
    const r = await up!.netns.exec(a!.ns, ['ping', '-c', '10', '-i', '0.05', '-W', '2', b!.ip], 30_000);
    expect(r.stdout).toMatch(/10 packets transmitted, 10 received, 0% packet loss/);
    const tcp = await iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5311, ['-t', '1', '-b', '50M']);
    expect(tcp.bps).toBeGreaterThan(20e6);
  });

  test('every layer has the echoes it carried, and tshark finds every checksum good', async () => {
    await up!.lab.flushCaptures();
    const [a, b] = up!.vms;
    const files = readdirSync(captureDir).filter((f) => f.endsWith('.pcap')).sort();
    const want = [...['vm0', 'vm1'].flatMap((v) => LAYERS.map((l) => `${v}-eth0-${l}.pcap`)), `uplink-${prefix}up0-switch-in.pcap`, `uplink-${prefix}up0-switch-out.pcap`].sort();
    expect(files).toEqual(want);
    // A → B echo requests: leave A (guest TX), enter the switch at A's port, leave it at B's, reach B.
    const echoAB = `icmp.type == 8 && ip.src == ${a!.ip} && ip.dst == ${b!.ip}`;
    for (const f of ['vm0-eth0-guest-tx', 'vm0-eth0-switch-in', 'vm1-eth0-switch-out', 'vm1-eth0-guest-rx']) {
      expect(await count(join(captureDir, `${f}.pcap`), echoAB), f).toBe(10);
    }
    // … and never where they do not pass.
    expect(await count(join(captureDir, 'vm0-eth0-guest-rx.pcap'), echoAB)).toBe(0);
    expect(await count(join(captureDir, `uplink-${prefix}up0-switch-out.pcap`), echoAB)).toBe(0);
    // The uplink's echoes to each VM entered the switch at the uplink port.
    for (const v of up!.vms) expect(await count(join(captureDir, `uplink-${prefix}up0-switch-in.pcap`), `icmp.type == 8 && ip.dst == ${v.ip}`)).toBe(5);
    for (const f of files) {
      const r = await tsharkChecksums(join(captureDir, f));
      expect(r.bad, f).toEqual([]);
      expect(r.good, f).toBeGreaterThan(f.startsWith('uplink') ? 5 : 10);
    }
  });

  test('the trace holds the bring-up and the data messages, and every record decodes', async () => {
    await up!.lab.flushCaptures();
    const recs = readTrace(join(captureDir, 'vm0-eth0-trace.jsonl'));
    expect(recs.find((r) => r.dir === 'tx')?.msg).toBe('nvsp_message/nvsp_message_init');
    expect(recs.filter((r) => r.msg === 'unknown')).toEqual([]);
    expect(recs.some((r) => r.dir === 'tx' && r.msg === 'rndis_message/rndis_packet')).toBe(true);
    expect(recs.some((r) => r.dir === 'rx' && r.layer === 'rndis' && r.msg === 'rndis_message/rndis_packet')).toBe(true);
    // Every control record, and a spread of data records.
    const picks = recs.filter((r, i) => r.msg !== 'rndis_message/rndis_packet' || i % 97 === 0);
    expect(undecodable(picks)).toEqual([]);
  });
});

describe.runIf(run)('up --detach, then down', () => {
  const dprefix = testPrefix('d');
  const dstate = join(dir, 'detach-state.json');
  const sock = join(dir, 'up.sock');
  const cli = ['node', resolve(import.meta.dirname, '../../dist/src/cli/main.js')];
  let pid = 0;

  afterAll(async () => {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    await new Netns({ prefix: dprefix, stateFile: dstate }).down();
  });

  test('the background up serves its socket and carries traffic; down stops it and removes everything', async () => {
    const args = ['--prefix', dprefix, '--state-file', dstate, '--socket', sock];
    const up = await runCommand([...cli, 'up', '--detach', '--vms', '2', ...args], 120_000);
    expect(up.code, up.stderr).toBe(0);
    const m = /detached: pid (\d+)/.exec(up.stdout);
    expect(m, up.stdout).not.toBeNull();
    pid = Number(m![1]);
    expect(Number(readFileSync(`${sock}.pid`, 'utf8'))).toBe(pid);
    const netns = new Netns({ prefix: dprefix, stateFile: dstate });
    const ping = await netns.exec(`${dprefix}vm0`, ['ping', '-c', '3', '-i', '0.1', '-W', '2', '10.77.0.2'], 30_000);
    expect(ping.stdout).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
    const stats = await runCommand([...cli, 'stats', '--socket', sock], 30_000);
    expect(stats.code, stats.stderr).toBe(0);
    const down = await runCommand([...cli, 'down', ...args], 60_000);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain(`stopped the detached netvsc up (pid ${pid})`);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(`${sock}.pid`)).toBe(false);
    expect((await netns.listNamespaces()).filter((n) => n.startsWith(dprefix))).toEqual([]);
    const again = await runCommand([...cli, 'down', ...args], 60_000);
    expect(again.stdout).toContain('nothing to remove');
  });
});

describe.runIf(run)('an up ending removes only what it made', () => {
  const sprefix = testPrefix('s');
  const sstate = join(dir, 'scoped-state.json');
  afterAll(async () => {
    await new Netns({ prefix: sprefix, stateFile: sstate }).down();
  });

  test('another namespace under the same prefix survives up.down()', async () => {
    const netns = new Netns({ prefix: sprefix, stateFile: sstate });
    const other = netns.name('other');
    await netns.createNamespace(other);
    const tunFds = (): number => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === '/dev/net/tun';
      } catch {
        return false; // the fd readdir itself used, already closed
      }
    }).length;
    const before = tunFds();
    const up = await tapUp({ vms: 1, prefix: sprefix, stateFile: sstate, subnet: '10.80.0', uplink: 'up0' });
    expect(tunFds()).toBe(before + 2); // vm0's TAP and the uplink's
    const r = await up.down();
    expect(r.errors).toBeUndefined();
    expect(tunFds()).toBe(before); // down() closed both fds, not only the namespaces
    expect([...r.namespaces].sort()).toEqual([`${sprefix}uplink`, `${sprefix}vm0`]);
    expect((await netns.listNamespaces()).filter((n) => n.startsWith(sprefix))).toEqual([other]);
  });
});
