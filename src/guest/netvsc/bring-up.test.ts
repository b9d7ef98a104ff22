import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../core/index.js';
import { NIC_INSTANCE, ScriptedHost, type ScriptedHostOptions } from '../../../test/harness/scripted-host.js';
import { NetvscDevice, type NetvscOptions } from './index.js';

export async function bringUp(ho: ScriptedHostOptions = {}, go: Partial<NetvscOptions> = {}): Promise<{ host: ScriptedHost; dev: NetvscDevice }> {
  const host = new ScriptedHost(ho);
  const b = host.bus;
  await host.pump(b.guest.requestOffers());
  const dev = await host.pump(
    NetvscDevice.probe({ bus: b.guest, memory: b.memory, allocator: b.allocator, loop: b.loop, clock: new ManualClock(), rxSections: 64, txSections: 16, ringPages: 16, poolSlots: 4, ...go }),
  );
  return { host, dev };
}

describe('NetvscDevice bring-up (§3.6)', () => {
  test.each([
    [0x60001, { major: 6, minor: 30 }, 28, 156],
    [0x60000, { major: 6, minor: 30 }, 28, 156],
    [0x50000, { major: 6, minor: 30 }, 28, 156],
    [0x40000, { major: 6, minor: 1 }, 22, 144],
    [0x30002, { major: 6, minor: 1 }, 22, 112],
    [0x2, { major: 6, minor: 1 }, 22, 112],
  ])('negotiates down to NVSP 0x%s with the right NDIS version and object sizes', async (version, ndis, paramsSize, capsSize) => {
    const { host, dev } = await bringUp({ version });
    expect(dev.version).toBe(version);
    expect(dev.ndisVersion).toEqual(ndis);
    // INITs newest first, each min = max, until the host's version
    const inits = host.nvsp.filter((m) => m.type === 1).map((m) => (m.type === 1 ? m.maxProtocolVer : 0));
    const all = [0x60001, 0x60000, 0x50000, 0x40000, 0x30002, 0x2];
    expect(inits).toEqual(all.slice(0, all.indexOf(version) + 1));
    const config = host.nvsp.find((m) => m.type === 125);
    if (version === 0x2) expect(config).toBeUndefined();
    else {
      expect(config).toMatchObject({ mtu: 1514, capability: { ieee8021q: 1, sriov: version >= 0x50000 ? 1 : 0, teaming: version >= 0x50000 ? 1 : 0, rsc: version >= 0x60001 ? 1 : 0 } });
    }
    expect(host.nvsp.find((m) => m.type === 100)).toMatchObject({ ndisMajorVer: ndis.major, ndisMinorVer: ndis.minor });
    expect(host.nvsp.find((m) => m.type === 101)).toMatchObject({ id: 0xcafe });
    expect(host.nvsp.find((m) => m.type === 104)).toMatchObject({ id: 0 });
    // RNDIS: INIT, then the queries in Linux's order
    const oids = host.rndis.map((m) => ('oid' in m ? m.oid : m.ndisMsgType));
    const expected = [2, 0x10106, 0x01010101, 0x20216, 0xfc01020d, 0xfc01020c, 0x10114];
    if (version >= 0x50000) expected.push(0x10107, 0x10203);
    expect(oids).toEqual(expected);
    const set = host.rndis.find((m) => 'oid' in m && m.oid === 0xfc01020c);
    expect(set && 'infoBuflen' in set ? set.infoBuflen : 0).toBe(paramsSize);
    const q = host.rndis.find((m) => 'oid' in m && m.oid === 0xfc01020d);
    expect(q && 'infoBuflen' in q ? q.infoBuflen : 0).toBe(capsSize);
    expect([...dev.mac]).toEqual([0x00, 0x15, 0x5d, 0x01, 0x02, 0x03]);
    expect(dev.link.up).toBe(true);
    await host.pump(dev.open());
    const filter = host.rndis.at(-1)!;
    expect(filter).toMatchObject({ oid: 0x1010e, newFilter: 0x0d });
    expect(dev.ethtool().ringparam).toMatchObject({ rxPending: 64, txPending: 16 });
  });

  test('a host that accepts no version fails the probe with BAD_VERSION and leaves nothing allocated', async () => {
    const host = new ScriptedHost({ version: 1 });
    const b = host.bus;
    await host.pump(b.guest.requestOffers());
    const free = b.allocator.freePages;
    await expect(host.pump(NetvscDevice.probe({ bus: b.guest, memory: b.memory, allocator: b.allocator, clock: new ManualClock(), ringPages: 16 }))).rejects.toMatchObject({ code: 'BAD_VERSION' });
    await host.settle();
    expect(b.allocator.freePages).toBe(free);
  });

  test('a receive-buffer completion with two sections is refused (§8 item 13): revoke, teardown, fail', async () => {
    const host = new ScriptedHost({
      mutate: { completion: (_req, r) => (r.type === 102 ? { ...r, numSections: 2, sections: [...r.sections, ...r.sections] } : r) },
    });
    const b = host.bus;
    await host.pump(b.guest.requestOffers());
    const free = b.allocator.freePages;
    await expect(host.pump(NetvscDevice.probe({ bus: b.guest, memory: b.memory, allocator: b.allocator, clock: new ManualClock(), ringPages: 16, rxSections: 32 }))).rejects.toMatchObject({ code: 'MALFORMED' });
    await host.settle();
    expect(host.nvsp.some((m) => m.type === 103)).toBe(true);
    expect(b.allocator.freePages).toBe(free);
    expect(b.host.gpadls.size).toBe(0);
  });

  test('a send-buffer section below 68 bytes is refused (§8 item 14)', async () => {
    const host = new ScriptedHost({ mutate: { completion: (_q, r) => (r.type === 105 ? { ...r, sectionSize: 67 } : r) } });
    const b = host.bus;
    await host.pump(b.guest.requestOffers());
    await expect(host.pump(NetvscDevice.probe({ bus: b.guest, memory: b.memory, allocator: b.allocator, clock: new ManualClock(), ringPages: 16, rxSections: 32 }))).rejects.toMatchObject({ code: 'MALFORMED' });
    expect(host.nvsp.some((m) => m.type === 106)).toBe(true);
  });

  test('an RNDIS request the host never answers times out on the injected clock (Linux waits forever)', async () => {
    const clock = new ManualClock();
    const host = new ScriptedHost({ mutate: { rndis: (req, r) => ('oid' in req && req.oid === 0x01010101 ? null : r) } });
    const b = host.bus;
    await host.pump(b.guest.requestOffers());
    const p = NetvscDevice.probe({ bus: b.guest, memory: b.memory, allocator: b.allocator, clock, ringPages: 16, rxSections: 32, timeoutMs: 1000 });
    p.catch(() => {});
    await host.settle();
    await host.settle();
    clock.advance(1000);
    await expect(host.pump(p)).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  test('INIT_C with pkt_alignment_factor 40 and max_pkt_per_msg 0 is clamped and counted (§8 not validated)', async () => {
    const { dev } = await bringUp({ alignFactor: 40, maxPktPerMsg: 0 });
    expect(dev.att.pktAlign).toBe(1 << 12);
    expect(dev.att.maxPkt).toBe(1);
    expect(dev.stats()['rndis_init_clamped']).toBe(1);
    const ok = await bringUp();
    expect(ok.dev.att.pktAlign).toBe(8);
    expect(ok.dev.stats()['rndis_init_clamped']).toBe(0);
  });

  test('a huge receive sub_alloc_size does not size the RSC buffer (hostile-host allocation bound)', async () => {
    const { dev } = await bringUp({ recvSubAlloc: 300_000 }, { rxSections: 200 });
    expect(dev.att.queues[0]!.rx.rscCapacity).toBe(65536 + 8 + 2 * 0x20000);
    expect(dev.att.rscRuns[0]!.pages).toBe(Math.ceil((65536 + 8 + 2 * 0x20000) / 4096)); // guest pages, freed at detach
    const honest = await bringUp();
    expect(honest.dev.att.queues[0]!.rx.rscCapacity).toBe(65536 + 8 + 2 * 1728);
  });

  test('a send table that arrives during the attach is kept, whatever its values (no sentinel)', async () => {
    const table = [0xffffffff, ...Array.from({ length: 15 }, (_, i) => 15 - i)];
    const { dev } = await bringUp({ numRecvQue: 4, maxSubChannels: 3, sendTable: table }, { channels: 4 });
    expect(dev.queueCount).toBe(4);
    expect([...dev.txTable]).toEqual(table);
  });

  test('sub-channels: NVSP 5 SUBCHANNEL, each offer opened, RSS disable then enable, tx_table spread', async () => {
    const { host, dev } = await bringUp({ numRecvQue: 4, maxSubChannels: 3 }, { channels: 4 });
    expect(dev.queueCount).toBe(4);
    expect(host.nvsp.find((m) => m.type === 133)).toMatchObject({ op: 1, numSubchannels: 3 });
    const rss = host.rndis.filter((m) => 'oid' in m && m.oid === 0x10204).map((m) => ('rssp' in m ? (m.rssp as { flag: number }).flag : -1));
    expect(rss).toEqual([0x10, 0]);
    expect([...dev.txTable]).toEqual(Array.from({ length: 16 }, (_, i) => i % 4));
    expect(dev.ethtool().channels).toEqual({ maxCombined: 4, combined: 4 });
    expect(NIC_INSTANCE).toBeTruthy();
  });
});
