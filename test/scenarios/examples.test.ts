// Every example scenario in examples/ runs through the scenario runner with a short duration and
// its results are asserted: the ones the lab can run pass their own `expect` plus checks of what
// they are meant to show.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hostProfile } from '../../src/host/index.js';
import { loadScenario, runScenario } from '../../src/lab/index.js';

const DIR = resolve(import.meta.dirname, '../../examples');
const load = (name: string) => loadScenario(join(DIR, `${name}.json`));

const RUNS = ['host-version-checksum-matrix', 'mtu-and-ring-change', 'ring-pressure', 'rss-skew-udp-vs-tcp', 'vlan'];
/** Run and asserted with the VF wiring's own tests (the lab's VF data path is that work's). */
const ELSEWHERE = ['vf-failover'];

describe('examples/', () => {
  test('every example is covered here', () => {
    const names = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
    expect(names).toEqual([...ELSEWHERE, ...RUNS].sort());
  });

  test('ring-pressure: 10-section buffers under a flood; every lost frame is a counted drop', async () => {
    const r = await runScenario(load('ring-pressure'), { durationMs: 600 });
    expect(r.passed).toBe(true);
    const [flood] = r.flows;
    expect(flood!.unique).toBeGreaterThan(0);
    expect(flood!.corrupt).toBe(0);
    const rx = r.nics.find((n) => n.name === 'eth1')!;
    expect(rx.rxSections).toBeLessThanOrEqual(12);
    // Loss happens, and it is exactly what the host counted as no free receive section.
    expect(flood!.lost).toBeGreaterThan(0);
    expect(rx.drops['host_rx_dropped_no_section']).toBe(flood!.lost);
  });

  test('rss-skew-udp-vs-tcp: TCP flows spread over 4 channels, UDP flows pile on one', async () => {
    const r = await runScenario(load('rss-skew-udp-vs-tcp'), { durationMs: 600 });
    expect(r.passed).toBe(true);
    for (const f of r.flows) expect(f, f.name).toMatchObject({ sent: 12800, unique: 12800, lost: 0, duplicated: 0, corrupt: 0 });
    const q = r.nics.find((n) => n.name === 'eth1')!.queues.map((x) => x.rxPackets);
    expect(q).toHaveLength(4);
    expect(q.reduce((a, b) => a + b, 0)).toBe(25600);
    // The UDP flows all land on one channel (hashed by addresses only); TCP adds to every channel.
    const busiest = Math.max(...q);
    expect(busiest).toBeGreaterThanOrEqual(12800);
    expect(q.every((n) => n > 0)).toBe(true);
  });

  test('host-version-checksum-matrix: ws2012 offloads TCP checksums only; UDP is summed by the guest; all arrive', async () => {
    const r = await runScenario(load('host-version-checksum-matrix'), { durationMs: 600 });
    expect(r.passed).toBe(true);
    for (const f of r.flows) expect(f, f.name).toMatchObject({ sent: 100, unique: 100, lost: 0, corrupt: 0 });
    const tx = r.nics.find((n) => n.name === 'eth0')!;
    expect(tx.nvspVersion).toBe(hostProfile('ws2012').maxNvspVersion);
    // tcp4 + tcp6 frames had their checksum filled by the host; udp4 + udp6 by the guest.
    expect(tx.offloads['host_tx_csum_filled']).toBe(200);
    // The guest counts each prepare (a frame the queue refused and got again counts twice).
    expect(tx.offloads['tx_csum_offloaded']).toBeGreaterThanOrEqual(200);
    expect(tx.offloads['tx_csum_software']).toBeGreaterThanOrEqual(200);
  });

  test('vlan: VLAN 10 reaches the access port untagged, VLAN 20 is filtered by the switch, ping survives a link flap', async () => {
    const r = await runScenario(load('vlan'), { durationMs: 1000 });
    expect(r.passed).toBe(true);
    const [v10, v20, ping] = r.flows;
    expect(v10).toMatchObject({ lost: 0, corrupt: 0 });
    expect(v10!.unique).toBe(v10!.sent);
    expect(v20).toMatchObject({ delivered: 0, unique: 0 });
    expect(v20!.sent).toBeGreaterThan(0);
    const rx = r.nics.find((n) => n.name === 'eth0')!;
    const trunk = r.nics.find((n) => n.name === 'trunk0')!;
    // Every VLAN 20 frame was stopped at the access port's VLAN membership; every tag went as the PPI.
    expect(rx.drops['switch_vlan_filtered']).toBe(v20!.sent);
    expect(trunk.offloads['tx_vlan_popped']).toBe(v10!.sent + v20!.sent + ping!.sent);
    expect(ping!.unique).toBeGreaterThan(0);
    expect(ping!.corrupt).toBe(0);
    expect(r.events.map((e) => [e.label, e.ok])).toEqual([['eth0: link down', true], ['eth0: link up', true]]);
    expect(rx.link).toBe('up');
  });

  test('mtu-and-ring-change: every change applies while LSO and fragmented traffic run; nothing arrives corrupt or twice', async () => {
    const r = await runScenario(load('mtu-and-ring-change'), { durationMs: 1500 });
    expect(r.events.every((e) => e.ok), JSON.stringify(r.events)).toBe(true);
    expect(r.passed).toBe(true);
    const [bulk, frag] = r.flows;
    expect(bulk).toMatchObject({ corrupt: 0, duplicated: 0 });
    expect(bulk!.unique).toBeGreaterThan(0);
    expect(frag!.corrupt).toBe(0);
    expect(frag!.fragments).toBeGreaterThan(frag!.unique);
    const tx = r.nics.find((n) => n.name === 'eth0')!;
    const rx = r.nics.find((n) => n.name === 'eth1')!;
    expect(tx.offloads['host_tx_lso_segments']).toBeGreaterThan(0);
    // MTU 9000 came after -G rx 1024: the larger sections leave fewer of them in the same buffer.
    expect(r.events.find((e) => e.label === 'eth1: mtu 9000')!.ok).toBe(true);
    expect(rx.rxSections).toBe(rx.hostRxSections);
    expect(rx.rxSections).toBeLessThan(1024);
    expect([rx.queues.length, rx.mtu, tx.mtu]).toEqual([2, 9000, 9000]);
    // Each of eth1's re-attaches closes it (packet filter 0) under a 2 Gbit/s stream, so frames are
    // lost, and the receiver's switch port counts them as filtered, never silently.
    expect(bulk!.lost + frag!.lost).toBeGreaterThan(0);
    expect(rx.drops['switch_tx_filtered']).toBeGreaterThan(0);
  });

  test('vf-failover: planned removal and re-add lose nothing; a surprise removal loses only what the host counted in flight', async () => {
    const r = await runScenario(load('vf-failover'));
    expect(r.passed, JSON.stringify({ events: r.events, flows: r.flows.map((f) => ({ ...f, samples: undefined })) })).toBe(true);
    expect(r.events.map((e) => [e.label, e.ok])).toEqual([
      ['eth0: vf remove', true],
      ['eth0: vf add', true],
      ['eth0: vf remove (surprise)', true],
      ['eth0: vf add', true],
    ]);
    expect(r.events[0]!.notes[0]).toMatch(/^data path switched to synthetic; VF removed/);
    const m = /in flight lost tx (\d+), rx (\d+)/.exec(r.events[2]!.notes[0]!);
    expect(m).not.toBeNull();
    const inFlight = Number(m![1]) + Number(m![2]);
    const [ab, ba] = r.flows;
    for (const f of [ab!, ba!]) expect(f, f.name).toMatchObject({ duplicated: 0, corrupt: 0 });
    expect(ab!.reordered).toBe(0);
    // Loss only on the surprise removal, and never more than what was in the VF's rings.
    expect(ab!.lost + ba!.lost).toBeLessThanOrEqual(inFlight);
    // Both NICs had a VF at boot and carried traffic over it; eth0 ended on its re-added VF.
    const eth0 = r.nics.find((n) => n.name === 'eth0')!;
    const eth1 = r.nics.find((n) => n.name === 'eth1')!;
    expect(eth1.dataPath).toBe('vf');
    expect(eth1.guestStats.vf_tx_packets).toBeGreaterThan(0);
    // Which VFs the guest had taken when each event came depends on timing (a loaded box can delay
    // a show past the next event); whatever it took, it let go exactly once, and at most the last
    // one is still held. Quiet runs see 3 registered, 1 planned and 1 surprise removal.
    const g = eth0.guestStats;
    expect(g.vf_registered).toBeGreaterThanOrEqual(1);
    expect(g.vf_registered! - g.vf_removed_planned! - g.vf_removed_surprise!).toBeGreaterThanOrEqual(0);
    expect(g.vf_registered! - g.vf_removed_planned! - g.vf_removed_surprise!).toBeLessThanOrEqual(1);
  }, 30_000);
});
