// Real traffic through two synthetic NICs: each VM's NIC is a TAP in its own namespace, frames
// cross the guest netvsc driver, the VMBus rings, the host's NetVSP and virtual switch, and the
// other VM's driver. The Linux stack on both ends is the judge: ping, iperf3, an HTTP download
// with a sha256 compare, and tshark checking every checksum in the layered captures. Capture is
// on here, so the iperf3 runs are rate-limited to keep the pcaps small; e2e-reconfig runs flat out.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tapUp, type TapLab } from '../../src/lab/tap/index.js';
import { iperf3, sha256File, tsharkChecksums } from '../harness/e2e-tools.js';
import { netnsCanRun, tapLabTeardown, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('e2e traffic over TAP', { needsTap: true, tools: ['ping', 'iperf3', 'tshark', 'curl', 'python3'] });
const dir = mkdtempSync(join(tmpdir(), 'nvsc-e2e-'));
const prefix = testPrefix('e');
const stateFile = join(dir, 'state.json');
const captureDir = join(dir, 'capture');

describe.runIf(run)('two VMs on TAPs', () => {
  let up: TapLab | undefined;

  beforeAll(async () => {
    up = await tapUp({ vms: 2, prefix, stateFile, subnet: '10.78.0', captureDir });
  });

  afterAll(() => tapLabTeardown(up, { prefix, stateFile, dir }));

  test('ping through two synthetic NICs has 0% loss', async () => {
    const [a, b] = up!.vms;
    const r = await up!.netns.exec(a!.ns, ['ping', '-c', '20', '-i', '0.05', '-W', '2', b!.ip], 30_000);
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received, 0% packet loss/);
    const st = await a!.tap.stats();
    expect(st.tx_frames).toBeGreaterThanOrEqual(20);
    expect(st.rx_frames).toBeGreaterThanOrEqual(20);
    // Each TAP took its synthetic NIC's MAC (Netns.configureLink's mac) and its MTU.
    for (const v of up!.vms) {
      const link = await up!.netns.exec(v.ns, ['ip', '-o', 'link', 'show', 'dev', v.ifName]);
      expect(link.stdout).toContain(`link/ether ${v.tap.nic.mac}`);
      expect(link.stdout).toMatch(new RegExp(`mtu ${v.tap.nic.info.mtu} `));
    }
  });

  test('busy-poll mode: ping and a control call go through, the loops polled and yielded, and it switches off', async () => {
    const [a, b] = up!.vms;
    await up!.setBusyPoll(true);
    const r = await up!.netns.exec(a!.ns, ['ping', '-c', '20', '-i', '0.01', '-W', '2', b!.ip], 30_000);
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received, 0% packet loss/);
    // Control calls still get in (the loop lets the worker's event loop run between polls).
    expect((await a!.tap.stats()).rx_frames).toBeGreaterThanOrEqual(20);
    const vm = await a!.tap.nic.vm.runtime.client.call('setBusyPoll', [false]);
    const host = await up!.lab.hostClient.call('setBusyPoll', [false]);
    await up!.setBusyPoll(false);
    for (const c of [vm, host]) {
      expect(c!.yields).toBeGreaterThan(0);
      expect(c!.breaks).toBeGreaterThan(0);
    }
    expect(await a!.tap.nic.vm.runtime.client.call('setBusyPoll', [false])).toBeNull();
    const after = await up!.netns.exec(a!.ns, ['ping', '-c', '3', '-i', '0.05', '-W', '2', b!.ip], 30_000);
    expect(after.stdout).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
  });

  test('iperf3 TCP and UDP between the namespaces', async () => {
    const [a, b] = up!.vms;
    const tcp = await iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5301, ['-t', '1', '-b', '100M']);
    expect(tcp.bps).toBeGreaterThan(50e6);
    const udp = await iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5302, ['-u', '-t', '1', '-b', '20M']);
    expect(udp.packets).toBeGreaterThan(1000);
    expect(udp.lostPercent).toBeLessThan(1);
    const st = await a!.tap.stats();
    // The kernel handed us partial checksums and TSO super-frames; the NIC sent them as PPIs.
    expect(st.tx_csum_offload + st.tx_lso).toBeGreaterThan(0);
    expect(st.tx_dropped).toBe(0);
  });

  test('an HTTP download arrives byte for byte (sha256)', async () => {
    const [a, b] = up!.vms;
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'blob.bin'), randomBytes(4 << 20));
    const server = up!.netns.spawn(b!.ns, ['python3', '-m', 'http.server', '8080', '--bind', b!.ip, '--directory', www]);
    try {
      const out = join(dir, 'download.bin');
      let r = { code: -1, stdout: '', stderr: '' };
      for (let i = 0; i < 20 && r.code !== 0; i++) {
        await sleep(200); // until the server listens
        r = await up!.netns.exec(a!.ns, ['curl', '-sS', '--fail', '-o', out, `http://${b!.ip}:8080/blob.bin`], 30_000);
      }
      expect(r.code, r.stderr).toBe(0);
      expect(sha256File(out)).toBe(sha256File(join(www, 'blob.bin')));
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('tshark finds every IP, TCP and UDP checksum good in every capture', async () => {
    await up!.lab.flushCaptures(); // the VMs' and the host's buffered pcap records
    const files = readdirSync(captureDir).filter((f) => f.endsWith('.pcap'));
    const layers = ['guest-rx', 'guest-tx', 'switch-in', 'switch-out'];
    expect(files.sort()).toEqual(['vm0', 'vm1'].flatMap((v) => layers.map((l) => `${v}-eth0-${l}.pcap`)));
    for (const f of files) {
      const r = await tsharkChecksums(join(captureDir, f));
      expect(r.bad, f).toEqual([]);
      expect(r.good, f).toBeGreaterThan(100);
    }
  });
});
