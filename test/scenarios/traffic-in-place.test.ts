// The lab's generator sends LSO super-frames in place (Contract A): built in slots of the VM's
// guest memory (mapped once), xmitInPlace, a slot reused only after its onTxDone. Every record is
// sequence-checked at the sink, so a slot rewritten while the host still read it would show as
// corrupt or lost records.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Lab, recordsPerSend, type LabNic } from '../../src/lab/index.js';

let lab: Lab;
let eth0: LabNic;
let eth1: LabNic;
let trunk0: LabNic;
let acc10: LabNic;

beforeAll(async () => {
  lab = await Lab.create({ profile: 'azure', callTimeoutMs: 20_000 });
  const a = await lab.addVm({ name: 'vm1', nics: [{ name: 'eth0', queues: 2 }, { name: 'trunk0', vlan: { trunk: [10] } }] });
  const b = await lab.addVm({ name: 'vm2', nics: [{ name: 'eth1', queues: 2 }, { name: 'acc10', vlan: 10 }] });
  [eth0, trunk0] = [a.nic('eth0'), a.nic('trunk0')];
  [eth1, acc10] = [b.nic('eth1'), b.nic('acc10')];
});
afterAll(async () => lab?.close());

describe('lab generator, LSO in place', () => {
  test.each([
    ['untagged, two sizes', () => [eth0, eth1] as const, -1, [30000, 62792]],
    ['802.1Q trunk to access port (the popped tag is put back before a slot is reused)', () => [trunk0, acc10] as const, 10, [40000]],
  ] as const)('%s: most super-frames go in place, every record arrives once, in order, intact', async (_n, nics, vlan, sizes) => {
    const [from, to] = nics();
    const flow = vlan < 0 ? 1 : 2;
    const count = 300;
    const records = sizes.map((s) => recordsPerSend({ protocol: 'tcp', family: 'ipv4', lso: true, vlan: vlan < 0 ? -1 : 10 }, s, 1500));
    const total = Array.from({ length: count }, (_, i) => records[i % sizes.length]!).reduce((a, b) => a + b, 0);
    const sink = await to.startSink({ flow, count: total });
    const gen = await from.startGenerator({ flow, protocol: 'tcp', lso: true, sizes: [...sizes], count, dstMac: to.mac, ...(vlan >= 0 ? { vlan } : {}) });
    await lab.waitFor(`flow ${flow} sent`, async () => (await gen.report()).done);
    const g = await gen.stop();
    await lab.waitFor(`flow ${flow} arrived`, async () => (await sink.report()).unique >= g.sent, 5000).catch(() => {});
    const r = await sink.stop();
    expect(g.sent).toBe(total);
    expect(r).toMatchObject({ unique: total, lost: 0, corrupt: 0, reordered: 0, duplicated: 0, wrongVlan: 0 });
    // The slots are mapped asynchronously (the first sends are copied), and a send that finds every
    // slot of its size in flight is copied too. A NIC has 32 slots: in place more than twice that
    // means slots were reused, each only after its onTxDone (or records would be lost or corrupt).
    expect(g.inPlace).toBeGreaterThan(2 * 32);
    expect(g.inPlace).toBeLessThanOrEqual(count);
  });

  test('after the host rescinds and re-offers the NIC, the re-probed driver returns the slots too: in place again, every record intact', async () => {
    await lab.hostClient.call('reofferNic', ['vm1', 'eth0']);
    await lab.waitFor('eth0 re-probed', async () => (await eth0.stats().catch(() => null))?.guest.lab.reprobes === 1);
    const count = 300;
    const total = count * recordsPerSend({ protocol: 'tcp', family: 'ipv4', lso: true, vlan: -1 }, 62792, 1500);
    const sink = await eth1.startSink({ flow: 3, count: total });
    const gen = await eth0.startGenerator({ flow: 3, protocol: 'tcp', lso: true, sizes: [62792], count, dstMac: eth1.mac });
    await lab.waitFor('flow 3 sent', async () => (await gen.report()).done);
    const g = await gen.stop();
    await lab.waitFor('flow 3 arrived', async () => (await sink.report()).unique >= g.sent, 5000).catch(() => {});
    expect(await sink.stop()).toMatchObject({ unique: total, lost: 0, corrupt: 0, reordered: 0, duplicated: 0 });
    // Without the routing the new driver's completions never free a slot: at most 24 sends in place.
    expect(g.inPlace).toBeGreaterThan(2 * 32);
  });
});
