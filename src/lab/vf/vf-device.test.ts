// The emulated VF device through its real rings. TX offloads: the guest end writes a descriptor
// (checksum/LSO PPI values) and the frame, the host end finishes it as the wire sees it; checksums
// verify, segments carry every payload byte in order, a request that does not fit is dropped and
// counted. RX: the stripped VLAN tag travels in the RX descriptor. Eject: a VF no master took acks.
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, buildUdp4Frame, FrameSpec, verifyL4Checksum, writePseudoSeed } from '../../packet/index.js';
import { packCsumTx, packLsoV2Tx, packVlan } from '../../wire/index.js';
import { VfGuestEnd } from './guest-end.js';
import { VfHostEnd } from './host-end.js';
import { newSharedVf } from './shared-vf.js';

function pair() {
  const spec = newSharedVf({ serial: 1, mac: '00:15:5d:00:00:01', maxQueues: 1, ringBytes: 1 << 20 });
  const host = new VfHostEnd(spec);
  const guest = new VfGuestEnd(spec, 'enP1s1', () => {});
  host.plug();
  const out: Uint8Array[] = [];
  /** The 802.1Q PPI value the VF tagged each drained frame with (-1 = untagged). */
  const tags: number[] = [];
  const drain = (): Uint8Array[] => {
    out.length = 0;
    tags.length = 0;
    while (host.pollTx((b, off, len, vlan) => void (out.push(b.slice(off, off + len)), tags.push(vlan)), 64) > 0);
    return out;
  };
  return { host, guest, drain, tags };
}

const spec = (): FrameSpec => {
  const s = new FrameSpec();
  s.src4 = 0x0a000001;
  s.dst4 = 0x0a000002;
  s.srcPort = 1000;
  s.dstPort = 2000;
  return s;
};

describe('emulated VF device', () => {
  test('a checksum request: the VF finishes the seeded TCP and UDP checksums (padding after the IP packet ignored)', () => {
    const { host, guest, drain } = pair();
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    for (const [build, proto] of [[buildTcp4Frame, 6], [buildUdp4Frame, 17]] as const) {
      const f = new Uint8Array(400);
      const len = build(f, 0, spec(), payload, 0, payload.length);
      const l4Len = len - 34;
      writePseudoSeed(f, 14, false, proto, 34, l4Len);
      expect(guest.transmit(f, 0, len + 6, 0, packCsumTx(true, false, proto === 6, proto === 17, false, 34), 0, -1)).toBe(true); // 6 B of padding
      const [got] = drain();
      expect(verifyL4Checksum(got!, 14, false, proto, 34, l4Len)).toBe(true);
    }
    expect(host.txOffload.counters.csum_filled).toBe(2);
  });

  test('an LSO request: a 20 000-byte super-frame leaves as MSS 1448 segments with valid checksums and every payload byte in order', () => {
    const { host, guest, drain } = pair();
    const payload = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 7) & 0xff);
    const f = new Uint8Array(20_100);
    const len = buildTcp4Frame(f, 0, spec(), payload, 0, payload.length);
    f[16] = f[17] = 0; // IPv4 total length 0, as the guest prepares a super-frame
    writePseudoSeed(f, 14, false, 6, 34, 0);
    expect(guest.transmit(f, 0, len, 0, 0, packLsoV2Tx(1448, 34, false), -1)).toBe(true);
    const segs = drain();
    expect(segs).toHaveLength(Math.ceil(20_000 / 1448));
    const joined: number[] = [];
    for (const s of segs) {
      expect(s.length).toBeLessThanOrEqual(14 + 20 + 20 + 1448);
      expect(verifyL4Checksum(s, 14, false, 6, 34, s.length - 34)).toBe(true);
      joined.push(...s.subarray(54));
    }
    expect(Uint8Array.from(joined)).toEqual(payload);
    expect(host.txOffload.counters).toMatchObject({ lso_frames: 1, lso_segments: segs.length, offload_errors: 0 });
  });

  test('bad requests are dropped and counted: LSO of a UDP frame, a checksum offset past the frame, MSS 0', () => {
    const { host, guest, drain } = pair();
    const payload = new Uint8Array(100);
    const f = new Uint8Array(200);
    const len = buildUdp4Frame(f, 0, spec(), payload, 0, payload.length);
    guest.transmit(f, 0, len, 0, 0, packLsoV2Tx(1448, 34, false), -1);
    guest.transmit(f, 0, len, 0, packCsumTx(true, false, true, false, false, 1000), 0, -1);
    guest.transmit(f, 0, len, 0, 0, packLsoV2Tx(0, 34, false), -1);
    expect(drain()).toHaveLength(0);
    expect(host.txOffload.counters.offload_errors).toBe(3);
  });

  test('TX VLAN insertion: the tag asked for in the descriptor goes out with the frame and with every LSO segment', () => {
    const { host, guest, drain, tags } = pair();
    const payload = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
    const f = new Uint8Array(3100);
    const len = buildTcp4Frame(f, 0, spec(), payload, 0, payload.length);
    const plain = f.slice(0, 100);
    expect(guest.transmit(plain, 0, 100, 0, 0, 0, packVlan(6, 0, 42))).toBe(true);
    expect(guest.transmit(plain, 0, 100, 0, 0, 0, -1)).toBe(true);
    // Bits past the PPI's 16 are not the VF's to carry.
    expect(guest.transmit(plain, 0, 100, 0, 0, 0, (0xabcd0000 | packVlan(1, 0, 7)) >>> 0)).toBe(true);
    expect(drain().map((x) => x.length)).toEqual([100, 100, 100]);
    expect(tags).toEqual([packVlan(6, 0, 42), -1, packVlan(1, 0, 7)]);
    f[16] = f[17] = 0;
    writePseudoSeed(f, 14, false, 6, 34, 0);
    expect(guest.transmit(f, 0, len, 0, 0, packLsoV2Tx(1448, 34, false), packVlan(0, 0, 4094))).toBe(true);
    const segs = drain();
    expect(segs).toHaveLength(3);
    expect(tags).toEqual([packVlan(0, 0, 4094), packVlan(0, 0, 4094), packVlan(0, 0, 4094)]);
    // The frame bytes are what the switch carries: the tag travels beside them, not inside.
    expect(segs.every((x) => x[12] === 0x08 && x[13] === 0x00)).toBe(true);
    expect(host.txOffload.counters).toMatchObject({ vlan_inserted: 5, lso_segments: 3 });
  });

  test('RX: a tag the switch stripped travels in the RX descriptor to the guest (VLAN PPI value), untagged frames carry none', () => {
    const { host, guest } = pair();
    const got: [number, number][] = [];
    guest.onOwnReceive = (_u8, _off, len, _q, vlan) => void got.push([len, vlan]);
    const f = new Uint8Array(100);
    expect(host.deliverRx(f, 0, 100, packVlan(3, 0, 100))).toBe(true);
    expect(host.deliverRx(f, 0, 60, -1)).toBe(true);
    guest.poll(); // registers the device (present)
    guest.poll();
    expect(got).toEqual([[100, packVlan(3, 0, 100)], [60, -1]]);
  });

  test('an eject request to a VF no master took: its own driver hands on what it holds and acks (the host does not wait for a timeout)', () => {
    const { host, guest } = pair();
    const got: number[] = [];
    guest.onOwnReceive = (_u8, _off, len) => void got.push(len);
    guest.poll(); // registered, nobody enslaves it
    expect(host.deliverRx(new Uint8Array(80), 0, 80, -1)).toBe(true);
    host.requestEject();
    guest.poll();
    expect(host.ejectAcked).toBe(true);
    expect(got).toEqual([80]);
    expect(host.unplug()).toEqual({ lostTx: 0, lostRx: 0 });
  });
});
