// Issue 5 item 7: 802.1Q through the PPI in both directions and VLAN isolation in the switch
// (access and trunk ports), with real guests: an in-band tag a guest's stack hands over is popped
// into the IEEE_8021Q_INFO PPI (§6.2), the switch keeps VLANs apart, a trunk port's guest gets the
// VLAN in its receive PPI (§6.3) and exposes the id per frame.
import { describe, expect, test } from 'vitest';
import { vlanId, vlanPri } from '../../src/wire/index.js';
import { RX_F_VLAN } from '../../src/guest/netvsc/meta.js';
import { OffloadLab, type LabGuest } from './harness.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

/** A broadcast frame of a local ethertype, optionally with an in-band 802.1Q tag. */
function bcast(src: Uint8Array, tag: number | null, seed: number): Uint8Array {
  const body = 60;
  const f = new Uint8Array(body + (tag === null ? 0 : 4));
  f.fill(0xff, 0, 6);
  f.set(src, 6);
  let p = 12;
  if (tag !== null) {
    f.set([0x81, 0x00, tag >>> 8, tag & 0xff], 12);
    p = 16;
  }
  f[p] = 0x88;
  f[p + 1] = 0xb5;
  for (let i = p + 2; i < f.length; i++) f[i] = (i + seed) & 0xff;
  return f;
}

function untagged(f: Uint8Array): number[] {
  return f[12] === 0x81 ? [...f.subarray(0, 12), ...f.subarray(16)] : [...f];
}

describe('VLAN (issue 5 item 7)', () => {
  test('access ports only hear their VLAN, untagged; a trunk hears its VLANs tagged in the PPI; tags from guests become PPIs', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a', { port: { vlan: 10 } });
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { port: { vlan: 10 } });
    const c = await lab.guest('c', '00:15:5d:00:00:0c', { port: { vlan: 20 } });
    const d = await lab.guest('d', '00:15:5d:00:00:0d', { port: { vlan: { trunk: [10, 20] } } });
    const e = await lab.guest('e', '00:15:5d:00:00:0e');
    const all = [a, b, c, d, e];
    const send = async (g: LabGuest, f: Uint8Array): Promise<void> => {
      for (const x of all) x.rx.length = 0;
      expect(g.dev.xmit(f, 0, f.length, { csum: false, mss: 0 })).toBe(true);
      g.dev.flush();
      await lab.settle();
    };
    const who = (): string[] => all.filter((x) => x.rx.length > 0).map((x) => String.fromCharCode(0x61 + all.indexOf(x)));

    // a (access 10), untagged: b hears it untagged, d hears it with VLAN 10 in the PPI
    const f1 = bcast(a.mac, null, 1);
    await send(a, f1.slice());
    expect(who()).toEqual(['b', 'd']);
    expect([...b.rx[0]!.bytes]).toEqual([...f1]);
    expect(b.rx[0]!.flags & RX_F_VLAN).toBe(0);
    expect(d.rx[0]!.flags & RX_F_VLAN).toBe(RX_F_VLAN);
    expect(vlanId(d.rx[0]!.vlan)).toBe(10);
    expect([...d.rx[0]!.bytes]).toEqual([...f1]);

    // d (trunk) with an in-band tag for VLAN 20, priority 5: popped into the PPI, c hears it untagged
    const f2 = bcast(d.mac, (5 << 13) | 20, 2);
    await send(d, f2.slice());
    expect(d.dev.txPrep.counters.get('tx_vlan_popped')).toBe(1);
    expect(who()).toEqual(['c']);
    expect([...c.rx[0]!.bytes]).toEqual(untagged(f2));

    // d untagged: the untagged network only (e)
    const f3 = bcast(d.mac, null, 3);
    await send(d, f3.slice());
    expect(who()).toEqual(['e']);

    // a tagging VLAN 20 from an access port on 10: refused by the switch (vlan_dropped)
    await send(a, bcast(a.mac, 20, 4));
    expect(who()).toEqual([]);
    expect(lab.hv.vswitch.portStats()['a/Network Adapter']!['vlan_dropped']).toBe(1);

    // d tagging VLAN 30 (not in its trunk): refused
    await send(d, bcast(d.mac, 30, 5));
    expect(who()).toEqual([]);

    // unicast across VLANs never leaks, even to a learned MAC: c → a (a's MAC is known)
    const u = bcast(c.mac, null, 6);
    u.set(a.mac, 0);
    await send(c, u);
    expect(who()).toEqual([]);
    expect(lab.hv.vswitch.portStats()['a/Network Adapter']!['vlan_filtered']).toBeGreaterThan(0);

    // priority from the trunk's tag reaches another trunk guest's PPI
    const t2 = await lab.guest('t', '00:15:5d:00:00:1f', { port: { vlan: { trunk: [20] } } });
    all.push(t2);
    await send(d, bcast(d.mac, (5 << 13) | 20, 7));
    expect(vlanId(t2.rx[0]!.vlan)).toBe(20);
    expect(vlanPri(t2.rx[0]!.vlan)).toBe(5);

    // An LSO send tagged VLAN 20 from the trunk to c (access 20): every segment stays on VLAN 20
    // (the segments share one meta, which delivery to an untagged access port must not change).
    const big = new Uint8Array(4 + 54 + 4000);
    big.set(c.mac, 0);
    big.set(d.mac, 6);
    big.set([0x81, 0x00, 0x00, 20, 0x08, 0x00, 0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6], 12);
    big.set([10, 0, 0, 1, 10, 0, 0, 2, 0x10, 0x00, 0x13, 0x89, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff], 30);
    for (const x of all) x.rx.length = 0;
    c.dev.setGro(false);
    expect(d.dev.xmit(big, 0, big.length, { csum: true, mss: 1000 })).toBe(true);
    d.dev.flush();
    await lab.settle();
    expect(c.rx).toHaveLength(4);
    expect(c.rx.every((r) => (r.flags & RX_F_VLAN) === 0)).toBe(true);
  });

  test('a bad VLAN configuration is a typed error', () => {
    const lab = new OffloadLab('ws2016');
    lab.lab.vm('x');
    expect(() => lab.hv.addNic('x', { mac: '00:15:5d:00:00:01', port: { vlan: { trunk: [0] } } })).toThrow(/VLAN ids/);
    expect(() => lab.hv.addNic('x', { mac: '00:15:5d:00:00:02', port: { vlan: 5000 } })).toThrow(/VLAN ids/);
  });
});
