// The lab's traffic apps end to end through two VMs, the real guest drivers and the host's
// switch: IPv6, the stack path (checksum PPIs, TX hash), 802.1Q tags on a trunk port, IPv4 and
// IPv6 fragments checked per datagram, LSO super-frames checked per MSS record, ICMP echo.
// Every flow is sequence-checked: exact unique/lost/corrupt counts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Lab, recordsPerSend, type GeneratorOptions, type LabNic, type SinkReport } from '../../src/lab/index.js';

let lab: Lab;
let eth0: LabNic;
let eth1: LabNic;
let trunk0: LabNic;
let acc10: LabNic;
let flowId = 1;

beforeAll(async () => {
  lab = await Lab.create({ profile: 'azure', callTimeoutMs: 20_000 });
  const a = await lab.addVm({ name: 'vm1', nics: [{ name: 'eth0', queues: 4 }, { name: 'trunk0', vlan: { trunk: [10, 20] } }] });
  const b = await lab.addVm({ name: 'vm2', nics: [{ name: 'eth1', queues: 4 }, { name: 'acc10', vlan: 10 }] });
  [eth0, trunk0] = [a.nic('eth0'), a.nic('trunk0')];
  [eth1, acc10] = [b.nic('eth1'), b.nic('acc10')];
});
afterAll(async () => lab?.close());

type Opts = Omit<GeneratorOptions, 'flow' | 'dstMac'>;

/** Sends one flow and returns the sink's final report once every record arrived (or 3 s passed). */
async function flow(from: LabNic, to: LabNic, o: Opts, sinkCount = o.count, waitMs = 3000): Promise<SinkReport & { sent: number; frames: number }> {
  const id = flowId++;
  // Frames into trunk0 come tagged with acc10's VLAN 10; every other receiver here sees none.
  const sink = await to.startSink({ flow: id, count: sinkCount, vlan: to === trunk0 ? 10 : 0 });
  const gen = await from.startGenerator({ ...o, flow: id, dstMac: to.mac });
  await lab.waitFor(`flow ${id} sent`, async () => (await gen.report()).done);
  const g = await gen.stop();
  await lab.waitFor(`flow ${id} arrived`, async () => (await sink.report()).unique >= g.sent, waitMs).catch(() => {});
  return { ...(await sink.stop()), sent: g.sent, frames: g.frames };
}

describe('lab traffic apps', () => {
  test.each([
    ['udp', false],
    ['tcp', false],
    ['udp', true],
    ['tcp', true],
  ] as const)('IPv6 %s (stack path %s): every frame arrives intact', async (protocol, stack) => {
    const r = await flow(eth0, eth1, { protocol, family: 'ipv6', sizes: [90, 600, 1514], count: 600, stack });
    expect(r).toMatchObject({ sent: 600, unique: 600, lost: 0, corrupt: 0, duplicated: 0 });
  });

  test('the stack path asks the host for checksums and hashes flows over the TX queues', async () => {
    const before = (await eth0.stats()).guest.ethtool;
    const hostFilled = async (): Promise<number> => (await eth0.stats()).host.queues.reduce((a, q) => a + (q['tx_csum_filled'] ?? 0), 0);
    const filledBefore = await hostFilled();
    for (let i = 0; i < 8; i++) {
      const r = await flow(eth0, eth1, { protocol: 'tcp', sizes: [300], count: 50, stack: true, srcPort: 41000 + i * 3 });
      expect(r).toMatchObject({ unique: 50, corrupt: 0 });
    }
    const after = (await eth0.stats()).guest.ethtool;
    const d = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
    // Azure fills TCP checksums: the host did it for every frame (the guest counts prepares, retries too).
    expect((await hostFilled()) - filledBefore).toBe(400);
    expect(d('tx_csum_offloaded')).toBeGreaterThanOrEqual(400);
    const used = [0, 1, 2, 3].filter((q) => d(`tx_queue_${q}_packets`) > 0);
    expect(used.length).toBeGreaterThan(1);
  });

  test.each(['ipv4', 'ipv6'] as const)('%s UDP fragments: each datagram counted once whole, every fragment checked', async (family) => {
    const r = await flow(eth0, eth1, { protocol: 'udp', family, fragment: true, sizes: [4000], count: 200 });
    expect(r).toMatchObject({ sent: 200, unique: 200, lost: 0, corrupt: 0, fragments: 600 });
    expect(r.frames).toBe(600);
  });

  test('LSO super-frames: the host cuts them at the MSS and every record arrives in order', async () => {
    const k = recordsPerSend({ protocol: 'tcp', family: 'ipv4', lso: true, vlan: -1 }, 30000, 1500);
    expect(k).toBe(20);
    const before = (await eth0.stats()).guest.ethtool;
    const r = await flow(eth0, eth1, { protocol: 'tcp', lso: true, sizes: [30000], count: 50 }, 50 * k);
    expect(r).toMatchObject({ sent: 1000, unique: 1000, lost: 0, corrupt: 0, reordered: 0, duplicated: 0 });
    // The host cut 50 super-frames into 1000 MSS segments (tx_lso_packets counts prepares, retries too).
    const host = (await eth0.stats()).host;
    expect(host.queues.reduce((a, q) => a + (q['tx_lso_segments'] ?? 0), 0)).toBe(1000);
    expect((await eth0.stats()).guest.ethtool['tx_lso_packets']! - before['tx_lso_packets']!).toBeGreaterThanOrEqual(50);
    // The receiver got them back coalesced (host RSC or guest GRO): frames carrying several records.
    expect(r.coalesced).toBeGreaterThan(0);
    // azure has RSC: the sink read its packets as fragment lists in place (Contract B), nothing gathered
    const lab1 = (await eth1.stats()).guest.lab;
    expect(lab1.rx_lists_in_place).toBeGreaterThan(0);
    expect(lab1.rx_lists_gathered).toBe(0);
  });

  test('802.1Q: a trunk port sends VLAN 10 to an access port on 10; VLAN 20 never reaches it', async () => {
    const v10 = await flow(trunk0, acc10, { protocol: 'udp', vlan: 10, sizes: [200], count: 300 });
    expect(v10).toMatchObject({ sent: 300, unique: 300, corrupt: 0 });
    const v20 = await flow(trunk0, acc10, { protocol: 'udp', vlan: 20, sizes: [200], count: 300 }, 300, 300);
    expect(v20).toMatchObject({ sent: 300, delivered: 0, unique: 0, lost: 300 });
    expect((await trunk0.stats()).guest.ethtool['tx_vlan_popped']).toBe(600);
  });

  test('802.1Q receive: the access port\'s frames reach the trunk with VLAN 10 in the receive PPI', async () => {
    const ok = await flow(acc10, trunk0, { protocol: 'udp', sizes: [200], count: 200 }, 200);
    expect(ok).toMatchObject({ sent: 200, unique: 200, corrupt: 0, wrongVlan: 0 });
    // The same frames checked against another VLAN: every one counted on the wrong VLAN, none good.
    const id = flowId++;
    const sink = await trunk0.startSink({ flow: id, count: 50, vlan: 11 });
    const gen = await acc10.startGenerator({ flow: id, protocol: 'udp', sizes: [200], count: 50, dstMac: trunk0.mac });
    await lab.waitFor('sent', async () => (await gen.report()).done);
    await lab.waitFor('arrived', async () => (await sink.report()).delivered >= 50, 3000);
    expect(await sink.stop()).toMatchObject({ delivered: 50, unique: 0, corrupt: 50, wrongVlan: 50 });
  });

  test.each(['ipv4', 'ipv6'] as const)('ICMP echo requests over %s (one fragmented size too)', async (family) => {
    const r = await flow(eth0, eth1, { protocol: 'icmp', family, sizes: [100, 1000], count: 200 });
    expect(r).toMatchObject({ sent: 200, unique: 200, corrupt: 0 });
    const f = await flow(eth0, eth1, { protocol: 'icmp', family, fragment: true, sizes: [3000], count: 50 });
    expect(f).toMatchObject({ sent: 50, unique: 50, corrupt: 0, fragments: 150 });
  });
});
