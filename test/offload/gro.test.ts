// Issue 5 item 5: GRO on the guest's receive path, end to end. Frames enter the switch from the
// wire port in one host burst (one transfer-page packet) and reach a real guest, whose per-queue
// GroEngine coalesces them by the Linux rules. The full selftest matrix (44 cases, incl. the 64 KB
// limit) runs here through the whole guest, as it runs against GroEngine itself in
// src/packet/gro.test.ts (same rows: src/packet/_gro-matrix.ts), plus a 64 KB LSO send arriving as
// one coalesced frame.
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, fillL4Checksum, verifyL4Checksum } from '../../src/packet/index.js';
import { GroPath } from '../../src/guest/netvsc/gro-path.js';
import { newRxMeta, RX_F_VLAN } from '../../src/guest/netvsc/meta.js';
import { build, data, largeRows, MATRIX, MSS, type Pkt } from '../../src/packet/_gro-matrix.js';
import { PortFrameMeta } from '../../src/host/index.js';
import { TCP_ACK, TCP_FIN } from '../../src/wire/index.js';
import { OffloadLab, testSpec } from './harness.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

/** TCP payload length and FIN of a received frame (IPv4 options and IPv6 extension headers skipped). */
function tcpPayload(f: Uint8Array, v6: boolean): { len: number; fin: boolean } {
  let l4: number;
  let end: number;
  if (v6) {
    let next = f[20]!;
    l4 = 54;
    end = 54 + ((f[18]! << 8) | f[19]!);
    while (next !== 6) {
      const hl = next === 44 ? 8 : (f[l4 + 1]! + 1) * 8;
      next = f[l4]!;
      l4 += hl;
    }
  } else {
    l4 = 14 + (f[14]! & 0xf) * 4;
    end = 14 + ((f[16]! << 8) | f[17]!);
  }
  return { len: end - l4 - (f[l4 + 12]! >>> 4) * 4, fin: (f[l4 + 13]! & TCP_FIN) !== 0 };
}

describe('GRO in the guest (issue 5 item 5, protocol.md §6.5, vectors.md §6)', () => {
  test('every row of the Linux selftest matrix (incl. the 64 KB limits) through a real guest, IPv4 and IPv6', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { mtu: 9000 });
    const wire = lab.wire();
    const cases: [string, boolean, Pkt[], number[]][] = [];
    for (const [name, versions, pkts, want] of MATRIX) for (const v of versions) cases.push([`${v} ${name}`, v === 'v6', pkts(), want]);
    for (const v6 of [false, true]) {
      const { max, rem, pkts } = largeRows(v6);
      cases.push([`${v6 ? 'v6' : 'v4'} large: up to the IP maximum`, v6, pkts(rem), [max, rem]]);
      cases.push([`${v6 ? 'v6' : 'v4'} large: one byte more`, v6, pkts(rem + 1), [16 * MSS, rem + 1, rem + 1]]);
    }
    expect(cases.length).toBe(44); // 40 matrix cases over the IP versions each row applies to, 4 large
    for (const [name, v6, pkts, want] of cases) {
      const last = pkts[pkts.length - 1]!;
      const fin: Pkt = { seq: (last.seq + last.len) >>> 0, len: 0, flags: TCP_ACK | TCP_FIN, id: (last.id ?? 0) + 1 };
      b.rx.length = 0;
      const meta = new PortFrameMeta();
      for (const p of [...pkts, fin]) {
        const f = build(v6, p);
        f.set(b.mac, 0);
        meta.clear();
        expect(wire.handle.forward(f, 0, f.length, meta)).toBe(1);
      }
      await lab.settle(2);
      const got = b.rx.map((r) => tcpPayload(r.bytes, v6));
      expect(got.at(-1), `${name}: the FIN comes last`).toEqual({ len: 0, fin: true });
      expect(got.slice(0, -1).map((x) => x.len), name).toEqual(want);
    }
    // ethtool -K gro off: the same-size row is no longer coalesced
    b.dev.setGro(false);
    b.rx.length = 0;
    for (const p of data([100, 100])) {
      const f = build(false, p);
      f.set(b.mac, 0);
      wire.handle.forward(f, 0, f.length, new PortFrameMeta());
    }
    await lab.settle(2);
    expect(b.rx.map((r) => tcpPayload(r.bytes, false).len)).toEqual([100, 100]);
  });

  test('a 64 KB LSO send arrives as ONE coalesced frame with GRO on, byte-identical payload', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    const payloadLen = 65535 - 40;
    const payload = Uint8Array.from({ length: payloadLen }, (_, i) => (i * 13 + 7) & 0xff);
    const s = testSpec(b.mac, a.mac, { srcPort: 4000, dstPort: 5001, seq: 1 });
    const out = new Uint8Array(payloadLen + 100);
    const n = buildTcp4Frame(out, 0, s, payload, 0, payloadLen);
    expect(a.dev.xmit(out, 0, n, { csum: true, mss: 1460 })).toBe(true);
    a.dev.flush();
    await lab.settle();
    expect(b.rx).toHaveLength(1);
    const r = b.rx[0]!;
    expect(r.fragments).toBe(Math.ceil(payloadLen / 1460));
    expect(r.bytes.length).toBe(54 + payloadLen);
    expect(r.bytes.subarray(54)).toEqual(payload);
    expect(verifyL4Checksum(r.bytes, 14, false, 6, 34, r.bytes.length - 34)).toBe(true);
    expect((r.bytes[16]! << 8) | r.bytes[17]!).toBe(65535);
  });

  test('the guest keeps one flow on two VLANs (802.1Q in the receive PPI) apart', () => {
    const got: { vlan: number; fragments: number }[] = [];
    const gro = new GroPath(0, (_u8, _off, _len, m) => got.push({ vlan: m.flags & RX_F_VLAN ? m.vlan : -1, fragments: m.fragments }));
    const m = newRxMeta(0);
    const feed = (seq: number, vlan: number): void => {
      const f = build(false, { seq, len: MSS });
      fillL4Checksum(f, 14, false, 6, 34, f.length - 34);
      m.flags = vlan < 0 ? 0 : RX_F_VLAN;
      m.vlan = vlan < 0 ? 0 : vlan << 4;
      gro.receive(f, 0, f.length, m);
    };
    feed(0, 10);
    feed(MSS, 20); // the next segment's bytes, but VLAN 20
    feed(2 * MSS, -1); // untagged
    feed(MSS, 10); // VLAN 10's next segment: merges
    gro.flush();
    expect(got).toEqual([
      { vlan: 10 << 4, fragments: 2 },
      { vlan: 20 << 4, fragments: 1 },
      { vlan: -1, fragments: 1 },
    ]);
  });
});
