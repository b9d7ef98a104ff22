// Issue 5 item 6: RSC over VMBus (protocol.md §5.6, §6.5). On an NVSP 6.1 host with RSC (ws2019,
// azure) and LRO on (Linux's default), the host coalesces a flow's in-order segments of one burst
// and sends them as RSC fragments in one transfer-page packet; the guest reassembles them.
// ethtool -K lro off (OFFLOAD_PARAMETERS with only the RSC fields) turns it off.
import { describe, expect, test } from 'vitest';
import { buildTcp6Frame, verifyL4Checksum } from '../../src/packet/index.js';
import { RX_F_FRAGS, RX_F_RSC } from '../../src/guest/netvsc/meta.js';
import { CSUM_RX } from '../../src/wire/index.js';
import { PortFrameMeta } from '../../src/host/index.js';
import { RscCoalescer, type RscWriter } from '../../src/host/netvsp/rsc.js';
import { build } from '../../src/packet/_gro-matrix.js';
import { OffloadLab, pump, testSpec, type LabGuest } from './harness.js';
import { NetvscDevice } from '../../src/guest/index.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

/** One IPv6 TCP super-frame of `payload` from a to b (LSO, MSS 1440), sent and settled; b.rx is cleared first. */
async function sendSuper(lab: OffloadLab, a: LabGuest, b: LabGuest, payload: Uint8Array): Promise<void> {
  const s = testSpec(b.mac, a.mac, { srcPort: 4000, dstPort: 5001 });
  const out = new Uint8Array(payload.length + 100);
  const n = buildTcp6Frame(out, 0, s, payload, 0, payload.length);
  b.rx.length = 0;
  expect(a.dev.xmit(out, 0, n, { csum: true, mss: 1440 })).toBe(true);
  a.dev.flush();
  await lab.settle();
}

/** b announces itself (an ethertype 0x88b5 frame to a), so the switch knows b's port. */
async function teach(lab: OffloadLab, a: LabGuest, b: LabGuest): Promise<void> {
  const hello = new Uint8Array(60);
  hello.set(a.mac, 0);
  hello.set(b.mac, 6);
  hello.set([0x88, 0xb5], 12);
  expect(b.dev.send(hello, 0, 60)).toBe(true);
  await lab.settle();
}

describe('RSC over VMBus (issue 5 item 6)', () => {
  test('a 64 KB LSO send reaches a guest as one RSC packet of fragments; lro off gives the segments', async () => {
    const lab = new OffloadLab('ws2019');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    b.dev.setGro(false); // so that what arrives is what the host sent
    expect(lab.hv.allNics[1]!.state.offload.raw['rscIpV4']).toBe(2);
    // The largest IPv6 packet GRO/RSC may build is 65535 bytes with its fixed header (vectors.md §6.3).
    const payloadLen = 65535 - 40 - 20;
    const payload = Uint8Array.from({ length: payloadLen }, (_, i) => (i * 31 + 5) & 0xff);
    const send = (): Promise<void> => sendSuper(lab, a, b, payload);
    const segs = Math.ceil(payloadLen / 1440);
    await send();
    expect(b.rx).toHaveLength(1);
    const r = b.rx[0]!;
    expect(r.flags & RX_F_RSC).toBe(RX_F_RSC);
    expect(r.fragments).toBeGreaterThan(1);
    expect(r.bytes.length).toBe(74 + payloadLen);
    expect(r.bytes.subarray(74)).toEqual(payload);
    expect(verifyL4Checksum(r.bytes, 14, true, 6, 54, r.bytes.length - 54)).toBe(true);
    expect(r.csum).toBe(CSUM_RX.tcpChecksumSucceeded);
    const q = lab.hv.allNics[1]!.stats().queues[0]!;
    expect(q['rx_rsc_packets']).toBe(1);
    expect(q['rx_rsc_segments']).toBe(segs);
    // b's MAC was not learned yet, so the send was flooded: cut into segments, coalesced again
    expect(lab.hv.allNics[0]!.stats().queues[0]!['tx_lso_segments']).toBe(segs);
    // Once the switch knows b, a super-frame for an RSC receiver goes whole (no cut, no re-merge)
    await teach(lab, a, b);
    await send();
    expect(b.rx).toHaveLength(1);
    expect(b.rx[0]!.bytes.subarray(74)).toEqual(payload);
    expect(b.rx[0]!.flags & RX_F_RSC).toBe(RX_F_RSC);
    expect(verifyL4Checksum(b.rx[0]!.bytes, 14, true, 6, 54, b.rx[0]!.bytes.length - 54)).toBe(true);
    expect(lab.hv.allNics[0]!.stats().queues[0]!['tx_lso_segments']).toBe(segs); // unchanged: not cut
    const q2 = lab.hv.allNics[1]!.stats().queues[0]!;
    expect(q2['rx_rsc_packets']).toBe(2);
    expect(q2['rx_rsc_segments']).toBe(2 * segs);
    // ethtool -K lro off: the host sends the segments as they are
    await pump(lab.lab, b.dev.setLro(false));
    expect(lab.hv.allNics[1]!.state.offload.raw['rscIpV4']).toBe(1);
    expect(lab.hv.allNics[1]!.state.offload.raw['tcpIpV6Csum']).toBe(4); // untouched by the RSC-only set
    await send();
    expect(b.rx).toHaveLength(segs);
    expect(b.rx.every((x) => (x.flags & RX_F_RSC) === 0)).toBe(true);
    // lro off survives a re-attach (ethtool -G re-plans the offloads with LRO on)
    await pump(lab.lab, b.dev.setRingParams({ rx: 300 }));
    expect(lab.hv.allNics[1]!.state.offload.raw['rscIpV4']).toBe(1);
    await send();
    expect(b.rx).toHaveLength(segs);
    // and on again
    await pump(lab.lab, b.dev.setLro(true));
    await send();
    expect(b.rx).toHaveLength(1);
  });

  test('fragment lists on (Contract B): the same 64 KB send comes up as its 43 fragments in the receive buffer, byte-identical to the reassembled packet; GRO on or off', async () => {
    const lab = new OffloadLab('azure');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    await teach(lab, a, b);
    const payload = Uint8Array.from({ length: 65535 - 60 }, (_, i) => (i * 11 + 7) & 0xff);
    const lists: { n: number; inRecvBuf: boolean; total: number }[] = [];
    const inner = b.dev.onReceive;
    const recv = b.dev.att.nv.recv;
    b.dev.onReceive = (u8, off, len, m) => {
      if ((m.flags & RX_F_FRAGS) !== 0) {
        let total = 0;
        let inside = true;
        for (let i = 0; i < m.fragments; i++) {
          total += m.fragLen[i]!;
          inside &&= m.fragOff[i]! >= recv.gpa && m.fragOff[i]! + m.fragLen[i]! <= recv.gpa + recv.size;
        }
        lists.push({ n: m.fragments, inRecvBuf: inside, total });
      }
      inner(u8, off, len, m);
    };
    const got: Uint8Array[] = [];
    for (const [list, gro] of [[false, false], [true, false], [true, true], [false, true]] as const) {
      b.dev.setRxFragments(list);
      b.dev.setGro(gro);
      await sendSuper(lab, a, b, payload);
      expect(b.rx).toHaveLength(1);
      const r = b.rx[0]!;
      expect(r.flags & (RX_F_RSC | RX_F_FRAGS)).toBe(RX_F_RSC | (list ? RX_F_FRAGS : 0));
      expect(r.fragments).toBe(43);
      expect(r.csum).toBe(CSUM_RX.tcpChecksumSucceeded);
      expect(verifyL4Checksum(r.bytes, 14, true, 6, 54, r.bytes.length - 54)).toBe(true);
      got.push(r.bytes);
    }
    expect(got[0]!.subarray(74)).toEqual(payload);
    // the same frame sent four times: the same bytes in every mode
    for (const g of got) expect(g).toEqual(got[0]);
    expect(lists).toEqual([
      { n: 43, inRecvBuf: true, total: 74 + payload.length },
      { n: 43, inRecvBuf: true, total: 74 + payload.length },
    ]);
    expect(b.dev.stats()['rx_bad_rsc'] ?? 0).toBe(0);
  });

  test('ws2016 offers no RSC: lro is refused (typed) and nothing is coalesced by the host', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    await expect(pump(lab.lab, b.dev.setLro(true))).rejects.toThrow(/no RSC/);
  });

  test('a small receive ring (rx 48) takes a 43-fragment RSC packet: the reserve is the buffer’s own, not a flat 16', async () => {
    const lab = new OffloadLab('azure');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { rxSections: 48 });
    b.dev.setGro(false);
    await teach(lab, a, b);
    const payload = Uint8Array.from({ length: 65535 - 60 }, (_, i) => (i * 7 + 3) & 0xff);
    for (let k = 0; k < 3; k++) {
      await sendSuper(lab, a, b, payload);
      expect(b.rx).toHaveLength(1);
      expect(b.rx[0]!.flags & RX_F_RSC).toBe(RX_F_RSC);
      expect(b.rx[0]!.fragments).toBe(43);
      expect(b.rx[0]!.bytes.subarray(74)).toEqual(payload);
    }
    const st = lab.hv.allNics[1]!.stats();
    // The old rule wanted fragments + 17 sections free: more than this ring has at all.
    expect(st.recvBuffer!.sections).toBeLessThan(43 + 17);
    const q = st.queues[0]!;
    expect(q['rx_rsc_packets']).toBe(3);
    expect(q['rx_dropped_no_section'] ?? 0).toBe(0);
  });

  test('1-byte segments past the 1024-entry meta ring: a coalesced packet keeps its first segment\'s PPIs (the ring is flushed, not wrapped)', () => {
    const got: { len: number; segments: number; hash: number; vlan: number }[] = [];
    const w: RscWriter = {
      deliverFrame: (_f, _o, len, m) => (got.push({ len, segments: 1, hash: m.hash, vlan: m.vlanTci }), true),
      deliverFragments: (_f, _o, len, m, segments) => (got.push({ len, segments, hash: m.hash, vlan: m.vlanTci }), true),
    };
    const rsc = new RscCoalescer(w);
    const meta = new PortFrameMeta();
    const n = 1500;
    for (let i = 0; i < n; i++) {
      const f = build(false, { seq: i, len: 1, id: i });
      meta.clear();
      meta.csumRx = CSUM_RX.tcpChecksumSucceeded | CSUM_RX.ipChecksumSucceeded;
      meta.hash = 0x1000 + i; // only the first segment's value may reach the guest
      meta.hashValid = true;
      rsc.offer(f, 0, f.length, meta);
    }
    rsc.flush();
    expect(got.reduce((s, g) => s + g.segments, 0)).toBe(n);
    expect(got).toEqual([
      { len: 54 + 1024, segments: 1024, hash: 0x1000, vlan: 0 },
      { len: 54 + n - 1024, segments: n - 1024, hash: 0x1000 + 1024, vlan: 0 },
    ]);
  });

  test('the RSC reassembly buffers live in guest memory and are given back at every detach (re-attach, remove)', async () => {
    const lab = new OffloadLab('azure');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const vm = lab.lab.vm('b', 8192);
    lab.hv.addNic('b', { mac: '00:15:5d:00:00:0b' });
    await pump(lab.lab, vm.guest.requestOffers());
    const free = vm.allocator.freePages;
    const dev = await pump(lab.lab, NetvscDevice.probe({ bus: vm.guest, memory: vm.memory, allocator: vm.allocator, loop: lab.lab.loop, channels: 2 }));
    await pump(lab.lab, dev.open());
    const runs = dev.att.rscRuns;
    expect(runs).toHaveLength(2); // one per queue
    const got: Uint8Array[] = [];
    dev.onReceive = (u8, off, len, m) => {
      if ((m.flags & RX_F_RSC) !== 0) {
        expect(u8).toBe(vm.memory.u8); // handed up in place, from guest memory
        expect(off).toBeGreaterThanOrEqual(vm.memory.gpa(runs[0]!.pfn) - 8);
      }
      got.push(u8.slice(off, off + len));
    };
    dev.setGro(false);
    const b: LabGuest = { dev, mac: dev.mac.slice(), rx: [] };
    await teach(lab, a, b);
    const payload = Uint8Array.from({ length: 30000 }, (_, i) => (i * 5 + 1) & 0xff);
    got.length = 0;
    await sendSuper(lab, a, b, payload);
    expect(got).toHaveLength(1);
    expect(got[0]!.subarray(74)).toEqual(payload);
    await pump(lab.lab, dev.setRingParams({ rx: 300 }));
    await pump(lab.lab, dev.remove());
    expect(vm.allocator.freePages).toBe(free);
  });
});
