// Offload edge cases from a hostile guest (issue 9 item 1, docs/robustness.md): raw RNDIS PACKETs
// with LSO, checksum and VLAN PPIs the host must refuse (counted, nothing forwarded) or handle per
// protocol (§6.1–6.2, §5.5). Each case asserts its own outcome — counter, what B receives and the
// NVSP completion — beyond the fuzzers' general invariants, which are checked after each case too.
import { beforeEach, describe, expect, test } from 'vitest';
import * as W from '../../src/wire/index.js';
import { HypervHost } from '../../src/host/index.js';
import { buildTcp4Frame, buildTcp6Frame, buildUdp4Frame, classifyFrame, FlowKey, FrameSpec, verifyL4Checksum } from '../../src/packet/index.js';
import { ScriptedGuest, TestLab } from '../harness/scripted-guest.js';
import { boundedSettle } from '../harness/fuzz-kit.js';
import { testSpec } from '../offload/harness.js';
import { fullBringUp, testFrame } from '../harness/fuzz-hostile-guest.js';

const MAC_A = [0, 0x15, 0x5d, 0, 0, 0x0a];
const MAC_B = [0, 0x15, 0x5d, 0, 0, 0x0b];

let lab: TestLab;
let a: ScriptedGuest;
let b: ScriptedGuest;
let section = 0;

beforeEach(async () => {
  lab = new TestLab(new HypervHost({ profile: 'ws2019', ageingMs: 0 }));
  lab.settle = async () => {
    await boundedSettle(lab.loop, 'helper');
  };
  a = await ScriptedGuest.create(lab, 'a', { mac: '00:15:5d:00:00:0a', port: { vlan: 10 } });
  b = await ScriptedGuest.create(lab, 'b', { mac: '00:15:5d:00:00:0b', port: { vlan: 10 } });
  await fullBringUp(a);
  await fullBringUp(b);
});

function spec(): FrameSpec {
  return testSpec(MAC_B, MAC_A, { srcPort: 40000, dstPort: 5201, seq: 1000 });
}

const payload = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

function tcp4(n: number): Uint8Array {
  const out = new Uint8Array(n + 100);
  return out.slice(0, buildTcp4Frame(out, 0, spec(), payload(n), 0, n));
}

function tcp6(n: number): Uint8Array {
  const out = new Uint8Array(n + 100);
  return out.slice(0, buildTcp6Frame(out, 0, spec(), payload(n), 0, n));
}

/** IPv6 + hop-by-hop extension header (8 bytes of PadN) + TCP: the TCP header is not at +40. */
function tcp6Ext(n: number): Uint8Array {
  const plain = tcp6(n);
  const f = new Uint8Array(plain.length + 8);
  f.set(plain.subarray(0, 54), 0);
  f[20] = 0; // next header: hop-by-hop
  f.set([6, 0, 1, 4, 0, 0, 0, 0], 54); // HBH: next TCP, len 0 (8 B), PadN of 4
  f.set(plain.subarray(54), 62);
  new DataView(f.buffer).setUint16(18, plain.length - 54 + 8); // payload length
  return f;
}

function udp4(n: number): Uint8Array {
  const out = new Uint8Array(n + 100);
  return out.slice(0, buildUdp4Frame(out, 0, spec(), payload(n), 0, n));
}

/** IPv4 ICMP echo (protocol 1): IP but neither TCP nor UDP. */
function icmp4(): Uint8Array {
  const f = tcp4(40);
  f[23] = 1;
  return f;
}

/** A into its send section: one RNDIS PACKET with the given PPIs; returns A's completion status and B's new frames. */
async function send(frame: Uint8Array, ppis: readonly (readonly [number, number])[]): Promise<{ status: number | null; got: { data: Uint8Array; slots: W.PpiSlots }[] }> {
  const m = new Uint8Array(44 + 16 * ppis.length + frame.length);
  const dv = new DataView(m.buffer);
  let p = W.writeRndisPacketHeader(dv, 0, ppis.length, frame.length, 0);
  for (const [type, value] of ppis) p = W.writePpi(dv, p, type, 0, value);
  m.set(frame, p);
  const idx = section++ % 8;
  a.write(a.sendPfns, idx * a.sendSectionSize, m);
  const before = b.rx.length;
  const cookie = a.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: idx, sendBufSectionSize: m.length });
  await boundedSettle(lab.loop, 'send');
  const comp = a.completions.get(cookie);
  const got = b.frames(b.rx.slice(before));
  b.completeRx();
  await boundedSettle(lab.loop, 'complete');
  return { status: comp ? new DataView(comp.buffer).getUint32(4, true) : null, got };
}

const q = (g: ScriptedGuest, k: string): number => g.nic.stats().queues.reduce((s, x) => s + (x[k] ?? 0), 0);
const port = (g: ScriptedGuest, k: string): number => lab.hv.vswitch.portStats()[`${g.nic.name}`]?.[k] ?? 0;
const LSO = W.TCP_LARGESEND_PKTINFO;
const CSUM = W.TCPIP_CHKSUM_PKTINFO;

/** The TCP payload bytes of each segment B got, joined, and whether every segment's checksum verifies. */
function reassemble(got: readonly { data: Uint8Array }[]): { bytes: number[]; csumOk: boolean } {
  const k = new FlowKey();
  const bytes: number[] = [];
  let csumOk = true;
  for (const g of got) {
    expect(classifyFrame(g.data, 0, g.data.length, k)).toBe(true);
    csumOk &&= verifyL4Checksum(g.data, k.ipOff, k.ipVersion === 6, k.l4Proto, k.l4Off, k.l4Len);
    const tcpHdr = (g.data[k.l4Off + 12]! >>> 4) * 4;
    bytes.push(...g.data.subarray(k.l4Off + tcpHdr));
  }
  return { bytes, csumOk };
}

/** After every case: the host is sound, every receive section is back, and A → B still works. */
async function sound(): Promise<void> {
  for (const nic of lab.hv.allNics) {
    expect(nic.coordinator.recv!.audit(), nic.name).toBeNull();
    expect(nic.coordinator.recv!.sectionsInUse, nic.name).toBe(0);
  }
  const f = testFrame(MAC_B, MAC_A, 300, 5);
  const r = await send(f, []);
  expect(r.status).toBe(W.NVSP_STAT_SUCCESS);
  expect(r.got.map((x) => [...x.data])).toEqual([[...f]]);
}

describe('offload edge cases from a hostile guest', () => {
  test('LSO with MSS 0: refused (tx_lso_bad), nothing forwarded, the send completes', async () => {
    const r = await send(tcp4(3000), [[LSO, W.packLsoV2Tx(0, 34, false)]]);
    expect(q(a, 'tx_lso_bad')).toBe(1);
    expect(r.got).toHaveLength(0);
    expect(r.status).toBe(W.NVSP_STAT_SUCCESS); // accepted from the ring, dropped by the offload: one completion
    await sound();
  });

  test('LSO with MSS larger than the payload: one segment, lengths and checksum finished, payload intact', async () => {
    const r = await send(tcp4(1000), [[LSO, W.packLsoV2Tx(9000, 34, false)]]);
    expect(q(a, 'tx_lso_bad')).toBe(0);
    expect(q(a, 'tx_lso_segments')).toBe(1);
    expect(r.got).toHaveLength(1);
    const s = reassemble(r.got);
    expect(s.csumOk).toBe(true);
    expect(s.bytes).toEqual([...payload(1000)]);
    await sound();
  });

  test('LSO whose TCP header offset is out of range: the host finds the header itself (the PPI offset is not trusted)', async () => {
    const good = await send(tcp4(3000), [[LSO, W.packLsoV2Tx(1000, 34, false)]]);
    const bad = await send(tcp4(3000), [[LSO, W.packLsoV2Tx(1000, 1023, false)]]);
    expect(bad.got.map((x) => [...x.data])).toEqual(good.got.map((x) => [...x.data]));
    expect(bad.got).toHaveLength(3);
    expect(reassemble(bad.got)).toEqual({ bytes: [...payload(3000)], csumOk: true });
    expect(q(a, 'tx_lso_bad')).toBe(0);
    await sound();
  });

  test('LSO over IPv6 with a hop-by-hop extension header: segmented, the extension header kept in every segment', async () => {
    const r = await send(tcp6Ext(3000), [[LSO, W.packLsoV2Tx(1000, 62, true)]]);
    expect(q(a, 'tx_lso_bad')).toBe(0);
    expect(r.got).toHaveLength(3);
    for (const g of r.got) expect([g.data[20], ...g.data.subarray(54, 62)]).toEqual([0, 6, 0, 1, 4, 0, 0, 0, 0]); // the HBH header travels in every segment
    expect(reassemble(r.got)).toEqual({ bytes: [...payload(3000)], csumOk: true });
    expect(r.status).toBe(W.NVSP_STAT_SUCCESS);
    await sound();
  });

  test('LSO on a UDP frame, and a frame too short for any header: refused (tx_lso_bad), nothing forwarded', async () => {
    const r1 = await send(udp4(3000), [[LSO, W.packLsoV2Tx(1000, 34, false)]]);
    const r2 = await send(testFrame(MAC_B, MAC_A, 20, 1), [[LSO, W.packLsoV2Tx(1000, 34, false)]]);
    expect(q(a, 'tx_lso_bad')).toBe(2);
    expect(r1.got.length + r2.got.length).toBe(0);
    await sound();
  });

  test('checksum PPI on frames that are not TCP/UDP (ICMP, a non-IP ethertype) or asking for both: refused (tx_csum_bad)', async () => {
    const tcpAsked = W.packCsumTx(true, false, true, false, false, 34);
    const r1 = await send(icmp4(), [[CSUM, tcpAsked]]);
    const r2 = await send(testFrame(MAC_B, MAC_A, 100, 2), [[CSUM, tcpAsked]]);
    const r3 = await send(tcp4(200), [[CSUM, W.packCsumTx(true, false, true, true, false, 34)]]);
    // The class named must be the frame's own: a UDP request on a TCP frame is refused as well.
    const r4 = await send(tcp4(200), [[CSUM, W.packCsumTx(true, false, false, true, false, 34)]]);
    expect(q(a, 'tx_csum_bad')).toBe(4);
    expect(r1.got.length + r2.got.length + r3.got.length + r4.got.length).toBe(0);
    for (const r of [r1, r2, r3, r4]) expect(r.status).toBe(W.NVSP_STAT_SUCCESS);
    // The same PPI on the right frame is honoured: the checksum is filled and verifies at B.
    const ok = await send(tcp4(200), [[CSUM, tcpAsked]]);
    expect(ok.got).toHaveLength(1);
    expect(reassemble(ok.got).csumOk).toBe(true);
    expect(q(a, 'tx_csum_filled')).toBe(1);
    await sound();
  });

  test('VLAN PPI on an access port: a tag for another VLAN is dropped (vlan_dropped); its own VLAN goes out untagged', async () => {
    const other = await send(testFrame(MAC_B, MAC_A, 100, 3), [[W.IEEE_8021Q_INFO, W.packVlan(0, 0, 20)]]);
    expect(other.got).toHaveLength(0);
    expect(port(a, 'vlan_dropped')).toBe(1);
    const own = await send(testFrame(MAC_B, MAC_A, 100, 4), [[W.IEEE_8021Q_INFO, W.packVlan(3, 0, 10)]]);
    expect(own.got).toHaveLength(1);
    expect(own.got[0]!.slots.present & W.PPI_VLAN).toBe(0); // B is an access port: untagged
    expect([...own.got[0]!.data]).toEqual([...testFrame(MAC_B, MAC_A, 100, 4)]);
    expect(port(a, 'vlan_dropped')).toBe(1);
    await sound();
  });
});
