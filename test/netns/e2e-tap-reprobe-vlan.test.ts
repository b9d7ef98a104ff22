// Two TAP bridge cases on real namespaces (root):
// - the host rescinds a VM's NIC and offers it again; the VM re-probes a new device and the TAP
//   bridge must move to it: ping keeps working both ways afterwards.
// - a trunk NIC (802.1Q tags as PPIs) bridged to a TAP, pinged from an access-port VM on VLAN 10:
//   the frames the trunk NIC receives reach the kernel tagged. tcpdump on the TAP sees what the
//   kernel got (this machine's kernel has no 8021q module, so no VLAN subinterface can answer).
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Netns } from '../../src/io/index.js';
import { Lab } from '../../src/lab/index.js';
import { attachNicTap, tapUp, type NicTap, type TapLab } from '../../src/lab/tap/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from '../../src/io/run-command.js';
import { iperf3, tsharkChecksums } from '../harness/e2e-tools.js';
import { netnsCanRun, tapLabTeardown, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('e2e TAP re-probe and VLAN', { needsTap: true, tools: ['ping', 'iperf3', 'tcpdump', 'tshark'] });

describe.runIf(run)('TAP bridge after a host rescind + re-offer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-e2p-'));
  const prefix = testPrefix('p');
  const stateFile = join(dir, 'state.json');
  let up: TapLab | undefined;

  beforeAll(async () => {
    up = await tapUp({ vms: 2, prefix, stateFile, subnet: '10.81.0' });
  });

  afterAll(() => tapLabTeardown(up, { prefix, stateFile, dir }));

  test('ping passes before, and both ways after the NIC is re-probed', async () => {
    const [a, b] = up!.vms;
    const ping = (from: string, to: string) => up!.netns.exec(from, ['ping', '-c', '5', '-i', '0.05', '-W', '2', to], 20_000);
    expect((await ping(a!.ns, b!.ip)).stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
    await up!.lab.hostClient.call('reofferNic', ['vm0', a!.tap.nic.name]);
    await up!.lab.waitFor('vm0 re-probed', async () => (await a!.tap.nic.stats().catch(() => null))?.guest.lab.reprobes === 1, 10_000);
    expect((await ping(a!.ns, b!.ip)).stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
    expect((await ping(b!.ns, a!.ip)).stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
    // TCP super-frames go in place on the new device (the arena's pages stay described to the host).
    const before = await a!.tap.stats();
    const r = await iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5321, ['-t', '1']);
    expect(r.bps).toBeGreaterThan(10e6);
    const st = await a!.tap.stats();
    expect(st.tx_in_place - before.tx_in_place).toBeGreaterThan(100);
    expect(st.tx_dropped).toBe(0);
    // And the other way the new device hands RSC packets over as fragment lists again (setRxFragments).
    const back = await iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5322, ['-t', '1', '-R']);
    expect(back.bps).toBeGreaterThan(10e6);
    const after = await a!.tap.stats();
    expect(after.rx_frag_lists - st.rx_frag_lists).toBeGreaterThan(100);
  });

  test('re-probed in the middle of a TCP run: the dead device returns its in-place frames in its teardown, none late, and the run goes on', async () => {
    const [a, b] = up!.vms;
    const before = await a!.tap.stats();
    const reprobes = (await a!.tap.nic.stats()).guest.lab.reprobes;
    // vm0 sends (super-frames in place, many in flight) while the host rescinds and re-offers its NIC.
    const run = iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5323, ['-t', '3']);
    await sleep(1200);
    const mid = await a!.tap.stats();
    await up!.lab.hostClient.call('reofferNic', ['vm0', a!.tap.nic.name]);
    await up!.lab.waitFor('vm0 re-probed again', async () => (await a!.tap.nic.stats().catch(() => null))?.guest.lab.reprobes === reprobes + 1, 10_000);
    const r = await run;
    const st = await a!.tap.stats();
    expect(mid.tx_in_place - before.tx_in_place).toBeGreaterThan(100); // frames were going in place when the rescind came
    expect(st.tx_in_place - mid.tx_in_place).toBeGreaterThan(100); // and go in place on the new device
    expect(r.bps).toBeGreaterThan(10e6);
    // Contract A held: every frame in flight came back once through the dead device's teardown.
    expect(st).toMatchObject({ tx_done_stale: 0, tx_done_missing: 0, tx_done_ignored: 0, tx_dropped: 0 });
  });
});

describe.runIf(run)('TAP bridge on a trunk NIC: the received 802.1Q tag goes back into the frame', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-e2v-'));
  const prefix = testPrefix('v');
  const stateFile = join(dir, 'state.json');
  const netns = new Netns({ prefix, stateFile });
  let lab: Lab | undefined;
  const taps: NicTap[] = [];
  let trunkMac = '';

  beforeAll(async () => {
    lab = await Lab.create({ profile: 'azure' });
    const vm0 = await lab.addVm({ name: 'vm0', nics: [{ name: 'trunk0', vlan: { trunk: [10] } }] });
    const vm1 = await lab.addVm({ name: 'vm1', nics: [{ name: 'acc10', vlan: 10 }] });
    const ns0 = netns.name('vm0');
    const ns1 = netns.name('vm1');
    for (const ns of [ns0, ns1]) await netns.createNamespace(ns);
    taps.push(await attachNicTap(netns, vm0.nic('trunk0'), { ns: ns0, ifName: netns.name('v0t'), address: '10.82.9.1/24' }));
    taps.push(await attachNicTap(netns, vm1.nic('acc10'), { ns: ns1, ifName: netns.name('v1a'), address: '10.82.9.2/24' }));
    trunkMac = vm0.nic('trunk0').mac;
    // Nobody answers ARP on VLAN 10 in ns0, so the access side is told the trunk NIC's MAC.
    const r = await netns.exec(ns1, ['ip', 'neigh', 'replace', '10.82.9.1', 'lladdr', trunkMac, 'dev', netns.name('v1a'), 'nud', 'permanent'], 10_000);
    if (r.code !== 0) throw new Error(`ip neigh: ${r.stderr}`);
  });

  // The lab and the TAPs first; then the shared teardown sweeps the prefix (both namespaces), removes
  // the dir and asserts that no namespace under the prefix is left.
  const down = async (): Promise<void> => {
    await lab?.close().catch(() => {});
    for (const t of taps) await t.device.close(t.ns).catch(() => {});
  };
  afterAll(() => tapLabTeardown({ down }, { prefix, stateFile, dir }));

  test('echo requests from the access port reach the trunk TAP as 802.1Q VLAN 10 frames with good checksums', async () => {
    const pcap = join(dir, 'trunk.pcap');
    const dump = netns.spawn(taps[0]!.ns, ['tcpdump', '-i', taps[0]!.ifName, '-nn', '-U', '-c', '5', '-w', pcap, 'vlan 10 and icmp']);
    const exited = once(dump, 'exit');
    try {
      await sleep(1000); // tcpdump is listening
      await netns.exec(taps[1]!.ns, ['ping', '-c', '5', '-i', '0.05', '-W', '1', '10.82.9.1'], 20_000);
      await Promise.race([exited, sleep(5000)]);
    } finally {
      dump.kill();
    }
    const r = await runCommand(['tshark', '-n', '-r', pcap, '-Y', 'vlan.id == 10 && icmp.type == 8', '-T', 'fields', '-e', 'eth.dst'], 60_000);
    expect(r.stdout.trim().split('\n')).toEqual(new Array(5).fill(trunkMac));
    const c = await tsharkChecksums(pcap);
    expect(c.bad).toEqual([]);
    const st = await taps[0]!.stats();
    expect(st.rx_vlan_tagged).toBeGreaterThanOrEqual(5);
    expect(st.rx_vlan_tagged).toBe(st.rx_frames);
  });
});
