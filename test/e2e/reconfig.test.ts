// ethtool -G rx/tx and MTU changes while traffic runs (the driver detaches and re-attaches):
// frames queued at the sender are delivered after the change, none lost. Link flips reach the guest.
import { describe, expect, test } from 'vitest';
import { newLab, runFlow } from './fixtures.js';

describe.each(['workers', 'single-thread'] as const)('reconfiguration under traffic (%s)', (mode) => {
  test('-G rx/tx and MTU changes on the sending NIC lose no frame', async () => {
    const lab = await newLab({ profile: 'azure', mode });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const count = 6000;
    const sink = await b.startSink({ flow: 9, count });
    const gen = await a.startGenerator({ flow: 9, dstMac: b.mac, sizes: [60, 700, 1514], count, pps: 20_000, batch: 16 });
    await lab.waitFor('traffic under way', async () => (await gen.report()).sent > 500);
    expect((await a.setRing({ rx: 500, tx: 40 })).txSections).toBe(40);
    expect((await a.setMtu(4000)).mtu).toBe(4000);
    expect((await a.setRing({ tx: 100 })).rxSections).toBeGreaterThan(0);
    expect((await a.setMtu(1500)).mtu).toBe(1500);
    await lab.waitFor('generator done', async () => (await gen.report()).done);
    await lab.waitFor('every frame at B', async () => (await sink.report()).unique >= count).catch(() => {});
    expect(await sink.report()).toMatchObject({ unique: count, lost: 0, duplicated: 0, corrupt: 0, reordered: 0 });
  });

  test('frames queued in the app port while -G runs are all delivered, in order', async () => {
    const lab = await newLab({ profile: 'ws2016', mode });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const frames = Array.from({ length: 1500 }, (_, i) => {
      const f = new Uint8Array(60 + (i % 1400));
      f.set(b.mac.split(':').map((x) => parseInt(x, 16)), 0);
      f.set(a.mac.split(':').map((x) => parseInt(x, 16)), 6);
      f[12] = 0x88;
      f[13] = 0xb5;
      f[14] = i >> 8;
      f[15] = i & 0xff;
      return f;
    });
    const writing = lab.writeFrames(a.port, frames);
    await a.setRing({ rx: 300, tx: 30 });
    await writing;
    const seen: number[] = [];
    await lab.waitFor('1500 frames at B', () => {
      b.port.poll((u8, off) => seen.push((u8[off + 14]! << 8) | u8[off + 15]!), 256);
      return seen.length >= frames.length;
    });
    expect(seen).toEqual(frames.map((_, i) => i));
  });

  // The receiver closes before each detach (§1.5: filter 0, drain its rings, complete every
  // packet, then HALT and revoke), so what it misses is counted by the switch (filtered while
  // closed, dropped with no buffer) or by the host at the revoke, and nothing it was sent is lost.
  test('a receiver that reconfigures accounts for every frame it misses as a counted host drop', async () => {
    const lab = await newLab({ profile: 'azure', mode });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const count = 4000;
    const sink = await b.startSink({ flow: 10, count });
    const gen = await a.startGenerator({ flow: 10, dstMac: b.mac, sizes: [1000], count, pps: 20_000 });
    await lab.waitFor('traffic under way', async () => (await gen.report()).sent > 500);
    await b.setRing({ rx: 2000, tx: 50 });
    await b.setMtu(9000);
    await lab.waitFor('generator done', async () => (await gen.report()).done);
    // The switch counts every frame B's port refused (filter 0 while closed, no buffer while
    // detached, no section); the host counts frames it wrote but could not send at the revoke.
    const drops = async (): Promise<number> => {
      const port = (await lab.hostStats()).switchPorts['b/eth0']!;
      const revoked = (await b.stats()).host.queues.reduce((n, q) => n + q.rx_dropped_revoked!, 0);
      return port.tx_dropped! + port.tx_filtered! + revoked;
    };
    await lab.waitFor('every frame delivered or counted', async () => (await sink.report()).unique + (await drops()) >= count, 3000);
    const r = await sink.report();
    expect(r).toMatchObject({ duplicated: 0, corrupt: 0 });
    expect(r.unique + (await drops())).toBe(count);
    expect(r.lost).toBe(await drops());
    // Zero loss where the protocol allows it: every frame the switch handed to B's port (tx_frames)
    // reached the app; the only misses are frames that arrived while B was closed (filtered).
    const port = (await lab.hostStats()).switchPorts['b/eth0']!;
    expect(port.tx_frames).toBe(r.unique);
    expect((await b.stats()).host.queues.reduce((n, q) => n + q.rx_dropped_revoked!, 0)).toBe(0);
    // The guest drained before revoking: no packet was still unacknowledged at the revoke.
    expect((await b.stats()).host.queues.reduce((n, q) => n + q.rx_unacked_revoked!, 0)).toBe(0);
  });

  test('ethtool -L on both ends: queue counts change and a flow still arrives whole', async () => {
    const lab = await newLab({ profile: 'azure', mode });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    expect((await b.setChannels(4)).queues).toBe(4);
    expect((await a.setChannels(2)).queues).toBe(2);
    expect((await b.stats()).host.queues.length).toBe(4);
    expect((await a.stats()).host.queues.length).toBe(2);
    const r = await runFlow(lab, a, b, { flow: 11, sizes: [60, 700, 1514], count: 1000, batch: 16 });
    expect(r).toMatchObject({ unique: 1000, lost: 0, duplicated: 0, corrupt: 0, reordered: 0 });
    expect((await b.setChannels(1)).queues).toBe(1);
    expect((await b.stats()).host.queues.length).toBe(1);
    const r2 = await runFlow(lab, a, b, { flow: 12, sizes: [1000], count: 500, batch: 16 });
    expect(r2).toMatchObject({ unique: 500, lost: 0, corrupt: 0 });
    const g = (await b.stats()).guest.ethtool;
    expect(g.rx_queue_0_packets).toBeGreaterThanOrEqual(500);
  });

  test('a link flip on the host reaches the guest', async () => {
    const lab = await newLab({ profile: 'ws2012r2', mode });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    await a.setLink(false);
    await lab.waitFor('link down in the guest', async () => !(await a.refresh()).linkUp);
    await a.setLink(true);
    await lab.waitFor('link up in the guest', async () => (await a.refresh()).linkUp);
    expect((await a.stats()).guest.ethtool.link_changes).toBe(3);
  });
});
