// VLAN on the VF data path, end to end on the VF testbed: a guest on its VF transmits 802.1Q-tagged
// frames (the stack's xmit pops the tag into the VLAN PPI value); the VF carries the tag (a real VF
// inserts it) instead of the frame going back to the synthetic path, and the switch applies the
// NIC's VLAN membership to it.
import { expect, test } from 'vitest';
import { buildUdp4Frame, FrameSpec } from '../../packet/index.js';
import { VfTestbed } from './testbed.js';

/** UDP 10.0.0.1 → 10.0.0.2 tagged with `tci` (802.1Q: pri << 13 | vid); the payload's first byte is `seq`. */
function taggedFrame(dst: Uint8Array, src: Uint8Array, tci: number, seq: number): { f: Uint8Array; len: number } {
  const s = new FrameSpec();
  s.dstMac.set(dst);
  s.srcMac.set(src);
  s.vlanTci = tci;
  s.src4 = 0x0a000001;
  s.dst4 = 0x0a000002;
  s.srcPort = 1000;
  s.dstPort = 2000;
  const payload = new Uint8Array(40).fill(seq);
  const f = new Uint8Array(128);
  return { f, len: buildUdp4Frame(f, 0, s, payload, 0, payload.length) };
}

test('a tagged frame from a guest on its VF leaves over the VF, tagged: VLAN 10 reaches the access port untagged, VLAN 20 is dropped by the switch', async () => {
  const tb = new VfTestbed({ showDelayMs: 5 });
  const a = await tb.bootVm({ port: { vlan: { trunk: [10] } } });
  const b = await tb.bootVm({ port: { vlan: 10 } });
  const got: number[] = [];
  b.onFrame = (u8, off, len) => {
    // Untagged at the access port: IPv4 right after the MACs, the payload at 42.
    if (len === 82 && u8[off + 12] === 0x08 && u8[off + 13] === 0x00) got.push(u8[off + 42]!);
  };
  tb.addVf(a, 31);
  await tb.waitFor('switched', () => a.dev.failover.dataPathIsVf && a.nic.vf.state.kind === 'switched', () => {}, 200);
  const vfTx = a.dev.stats().vf_tx_packets ?? 0;
  for (let seq = 1; seq <= 4; seq++) {
    const { f, len } = taggedFrame(b.mac, a.mac, (seq << 13) | (seq === 3 ? 20 : 10), seq);
    expect(len).toBe(86);
    expect(a.dev.xmit(f, 0, len, { csum: false, mss: 0 })).toBe(true);
  }
  await tb.waitFor('delivered', () => got.length === 3);
  for (let i = 0; i < 20; i++) await tb.tick();
  expect(got).toEqual([1, 2, 4]);
  // All four went over the VF (none fell back to the synthetic path); the VF tagged each.
  expect((a.dev.stats().vf_tx_packets ?? 0) - vfTx).toBe(4);
  expect(a.dev.failover.counters.get('vf_tx_vlan_inserted')).toBe(4);
  const hv = a.nic.vf.stats();
  expect(hv.counters['vf_frames_from_guest']).toBe(4);
  expect(hv.device).toMatchObject({ vlan_inserted: 4 });
  // VLAN 20 is not on a's trunk: refused at a's VF port, which has the synthetic port's VLANs.
  const vfPort = Object.entries(tb.host.vswitch.portStats()).find(([name]) => name.endsWith('/vf'));
  expect(vfPort?.[1]['vlan_dropped']).toBe(1);
});
