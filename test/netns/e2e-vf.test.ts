// VF failover under a real TCP connection (issue 7 item 4, issue 6): two VMs' NICs as TAPs in
// their own namespaces, each NIC with an SR-IOV VF, iperf3 TCP between them for 4 s while VM 0's
// VF is removed and re-added (planned: the data path goes back to synthetic first), and again
// with a surprise removal. The Linux TCP stack is the judge: the connection must survive and
// iperf3 complete. The TAPs run with offloads: the kernel hands over partial checksums and TSO
// super-frames, which the VF finishes and cuts itself (src/lab/vf/vf-tx-offload.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LabNic } from '../../src/lab/index.js';
import { tapUp, type TapLab } from '../../src/lab/tap/index.js';
import { iperf3 } from '../harness/e2e-tools.js';
import { netnsCanRun, tapLabTeardown, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('e2e VF failover under iperf3', { needsTap: true, tools: ['iperf3'] });
const dir = mkdtempSync(join(tmpdir(), 'nvsc-e2v-'));
const prefix = testPrefix('v');
const stateFile = join(dir, 'state.json');

describe.runIf(run)('VF failover during iperf3 TCP', () => {
  let up: TapLab | undefined;

  const path = async (n: LabNic): Promise<{ host: string; guest: string; vfTx: number; vfRx: number }> => {
    const s = await n.stats();
    return { host: s.host.vf.state, guest: s.guest.vf.dataPath, vfTx: s.guest.ethtool.vf_tx_packets ?? 0, vfRx: s.guest.ethtool.vf_rx_packets ?? 0 };
  };
  const onVf = (n: LabNic, what: string): Promise<void> =>
    up!.lab.waitFor(`${n.name} on its VF (${what})`, async () => {
      const p = await path(n);
      return p.host === 'switched' && p.guest === 'onVf';
    }, 10_000);

  /** Every non-zero drop counter of a NIC, host (queues, switch port, VF port) and guest. */
  const dropsOf = async (n: LabNic): Promise<Record<string, number>> => {
    const s = await n.stats();
    const out: Record<string, number> = {};
    const add = (k: string, v: number | undefined): void => {
      if (v) out[k] = (out[k] ?? 0) + v;
    };
    for (const q of s.host.queues) for (const [k, v] of Object.entries(q)) if (/drop/.test(k)) add(`host_${k}`, v);
    for (const [k, v] of Object.entries(s.host.vf.counters)) if (/drop|lost/.test(k)) add(`host_${k}`, v);
    for (const [k, v] of Object.entries(s.host.port)) if (/drop|filtered/.test(k)) add(`switch_${k}`, v);
    for (const [k, v] of Object.entries(s.guest.ethtool)) if (/drop|no_space|no_memory|busy/.test(k)) add(k, v);
    return out;
  };

  beforeAll(async () => {
    up = await tapUp({ vms: 2, prefix, stateFile, subnet: '10.81.0' });
    for (const v of up.vms) await v.tap.nic.addVf();
    for (const v of up.vms) await onVf(v.tap.nic, 'at start');
  });

  afterAll(() => tapLabTeardown(up, { prefix, stateFile, dir }));

  test('baseline: the same iperf3 run on the VF with no event (retransmits to compare with)', async () => {
    const [a, b] = up!.vms;
    const r = await iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5320, ['-t', '4']);
    const drops = async (n: LabNic) => {
      const s = await n.stats();
      return { vfRxFull: s.host.vf.counters.vf_frames_to_guest_dropped ?? 0, vfTxBusy: s.guest.ethtool.vf_tx_busy ?? 0 };
    };
    console.log(`iperf3 TCP 4 s on the VF, no event: ${(r.bps / 1e6).toFixed(0)} Mbit/s, ${r.retransmits} retransmits; VF rx ring full a ${JSON.stringify(await drops(a!.tap.nic))} b ${JSON.stringify(await drops(b!.tap.nic))}`);
    expect(r.bps).toBeGreaterThan(10e6);
  });

  test('planned removal and re-add mid-run: the connection survives, traffic crosses the VF before and after', async () => {
    const [a, b] = up!.vms;
    const nic = a!.tap.nic;
    const before = await path(nic);
    const flow = iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5321, ['-t', '4']);
    await sleep(1000);
    const mid = await path(nic);
    expect(await nic.removeVf()).toBeNull();
    await up!.lab.waitFor('the VF to leave', async () => (await path(nic)).host === 'none', 10_000);
    await nic.addVf();
    await onVf(nic, 're-added'); // shown after Hyper-V's 1 s delay
    const readded = await path(nic);
    const r = await flow;
    const after = await path(nic);
    console.log(`iperf3 TCP 4 s, VF removed (planned) at 1 s and re-added: ${(r.bps / 1e6).toFixed(0)} Mbit/s, ${r.retransmits} retransmits; VM0 frames over the VF: tx ${after.vfTx - before.vfTx}, rx ${after.vfRx - before.vfRx}; drops counted: ${JSON.stringify(await dropsOf(a!.tap.nic))} / ${JSON.stringify(await dropsOf(b!.tap.nic))}`);
    expect(r.bps).toBeGreaterThan(10e6);
    // The VF carried the connection both ways before the removal and again after the re-add.
    expect(mid.vfTx - before.vfTx).toBeGreaterThan(100);
    expect(mid.vfRx - before.vfRx).toBeGreaterThan(100);
    expect(after.vfTx - readded.vfTx).toBeGreaterThan(0);
    const s = await nic.stats();
    expect(s.guest.ethtool).toMatchObject({ vf_removed_planned: 1 });
    // The kernel's TSO super-frames and partial checksums were finished by the (re-added) VF itself.
    expect(s.host.vf.device!['lso_segments']! + s.host.vf.device!['csum_filled']!).toBeGreaterThan(0);
    expect(s.host.vf.device!['offload_errors']).toBe(0);
    expect(s.host.vf.counters.vf_lost_tx + s.host.vf.counters.vf_lost_rx).toBe(0);
    const st = await a!.tap.stats();
    expect(st.tx_dropped).toBe(0);
  });

  test('surprise removal mid-run: what was in flight on the VF is lost and counted; TCP recovers and iperf3 completes', async () => {
    const [a, b] = up!.vms;
    const nic = a!.tap.nic;
    await onVf(nic, 'before the surprise');
    const flow = iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5322, ['-t', '4']);
    await sleep(1000);
    const loss = await nic.removeVf({ surprise: true });
    expect(loss).not.toBeNull();
    await up!.lab.waitFor('synthetic after the surprise', async () => (await path(nic)).guest === 'synthetic', 10_000);
    await nic.addVf();
    const r = await flow;
    console.log(`iperf3 TCP 4 s, VF surprise-removed at 1 s and re-added: ${(r.bps / 1e6).toFixed(0)} Mbit/s, ${r.retransmits} retransmits; in flight on the VF when it vanished: tx ${loss!.lostTx}, rx ${loss!.lostRx}`);
    expect(r.bps).toBeGreaterThan(10e6);
    const s = await nic.stats();
    expect(s.guest.ethtool.vf_removed_surprise).toBe(1);
    expect(s.host.vf.counters.vf_lost_tx).toBe(loss!.lostTx);
    expect(s.host.vf.counters.vf_lost_rx).toBe(loss!.lostRx);
    // Afterwards the path still carries traffic both ways.
    const ping = await up!.netns.exec(b!.ns, ['ping', '-c', '5', '-i', '0.05', '-W', '2', a!.ip], 20_000);
    expect(ping.stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
  });
});
