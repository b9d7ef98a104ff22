// The virtio-net header ↔ PPI mapping on hand-built IPv4 TCP/UDP frames: what becomes a PPI,
// what is completed in software (and then verifies), and what the receive side reports.
import { describe, expect, test } from 'vitest';
import { FRAME_F_DATA_VALID, FRAME_F_NEEDS_CSUM, FRAME_GSO_TCPV4, newFrameMeta } from '../../core/index.js';
import { newRxMeta, newTxMeta, RX_F_CSUM, TX_F_CSUM, TX_F_LSO } from '../../guest/index.js';
import { fillIpv4HeaderChecksum, FlowKey, verifyL4Checksum, writePseudoSeed } from '../../packet/index.js';
import { CSUM_RX, packCsumTx, packLsoV2Tx } from '../../wire/index.js';
import { rxMetaToVnet, TX_MAP_BAD, TX_MAP_NO_LSO, TX_MAP_SEND, vnetToTxMeta, vnetToTxRequest } from './offload-map.js';

/** Ethernet + IPv4 (10.0.0.1 → 10.0.0.2) + TCP (20 B) or UDP header + payload, IP checksum set. */
function frame(proto: 6 | 17, payload: number): Uint8Array {
  const l4 = proto === 6 ? 20 : 8;
  const f = new Uint8Array(14 + 20 + l4 + payload);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]);
  const ipLen = 20 + l4 + payload;
  f.set([0x45, 0, ipLen >> 8, ipLen & 255, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  fillIpv4HeaderChecksum(f, 14);
  f.set([0x30, 0x39, 0x00, 0x50], 34);
  if (proto === 6) f[46] = 0x50;
  else f.set([(8 + payload) >> 8, (8 + payload) & 255], 38);
  for (let i = 0; i < payload; i++) f[34 + l4 + i] = i & 255;
  writePseudoSeed(f, 14, false, proto, 34, l4 + payload); // what the kernel hands with NEEDS_CSUM
  return f;
}

const ALL = { txCsumMask: 0x33, tso4: true, tso6: true, gsoMax: 65536 };
const NONE = { txCsumMask: 0, tso4: false, tso6: false, gsoMax: 0 };

describe('vnetToTxRequest (in-place transmit: the driver makes the PPIs)', () => {
  const req = { csum: false, mss: 0 };
  test('TCP/UDP partial checksums ask for the checksum, whatever the host offers (the driver decides)', () => {
    for (const [proto, at] of [[6, 16], [17, 6]] as const) {
      const f = frame(proto, 50);
      const before = [...f];
      const m = { ...newFrameMeta(), flags: FRAME_F_NEEDS_CSUM, csumStart: 34, csumOffset: at };
      expect(vnetToTxRequest(f, 0, f.length, m, NONE, req)).toBe(TX_MAP_SEND);
      expect(req).toEqual({ csum: true, mss: 0 });
      expect([...f]).toEqual(before); // untouched here
    }
  });

  test('another partial checksum is completed here; GSO needs LSO for its family and sane metadata', () => {
    const f = frame(17, 64);
    // As if the UDP checksum field were at some other offset: completed in place, no request.
    const m = { ...newFrameMeta(), flags: FRAME_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 };
    const odd = { ...m, csumOffset: 4 };
    const g = frame(17, 64);
    expect(vnetToTxRequest(g, 0, g.length, odd, ALL, req)).toBe(TX_MAP_SEND);
    expect(req.csum).toBe(false);
    expect([...g]).not.toEqual([...f]); // the 16-bit field at 34 + 4 now holds a completed sum
    const gso = { ...m, csumOffset: 16, gsoType: FRAME_GSO_TCPV4, gsoSize: 1448 };
    expect(vnetToTxRequest(f, 0, f.length, gso, ALL, req)).toBe(TX_MAP_SEND);
    expect(req).toEqual({ csum: true, mss: 1448 });
    expect(vnetToTxRequest(f, 0, f.length, gso, NONE, req)).toBe(TX_MAP_NO_LSO);
    expect(vnetToTxRequest(f, 0, f.length, { ...gso, gsoSize: 0 }, ALL, req)).toBe(TX_MAP_BAD);
    expect(vnetToTxRequest(f, 0, 36, { ...m, csumStart: 34, csumOffset: 6 }, ALL, req)).toBe(TX_MAP_BAD); // field past the end
  });

  test('a partial checksum of an inner header (GRE, VXLAN) is completed here: the driver would checksum the outer one', () => {
    // Outer Ethernet + IPv4 around a whole inner IPv4/TCP packet (frame(6, 40) minus its Ethernet header).
    const inner = frame(6, 40).subarray(14);
    for (const [outerProto, shim] of [[47, [0, 0, 8, 0]], [17, [0x12, 0xb5, 0x12, 0xb5, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]]] as const) {
      const f = new Uint8Array(14 + 20 + shim.length + inner.length);
      f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]);
      const ipLen = f.length - 14;
      f.set([0x45, 0, ipLen >> 8, ipLen & 255, 0, 2, 0x40, 0, 64, outerProto, 0, 0, 10, 1, 0, 1, 10, 1, 0, 2], 14);
      fillIpv4HeaderChecksum(f, 14);
      f.set(shim, 34);
      if (outerProto === 17) f.set([(ipLen - 20) >> 8, (ipLen - 20) & 255], 38); // outer UDP length, checksum 0
      f.set(inner, 34 + shim.length);
      const ipIn = 34 + shim.length;
      const tcpIn = ipIn + 20;
      const m = { ...newFrameMeta(), flags: FRAME_F_NEEDS_CSUM, csumStart: tcpIn, csumOffset: 16 };
      expect(vnetToTxRequest(f, 0, f.length, m, ALL, req)).toBe(TX_MAP_SEND);
      expect(req).toEqual({ csum: false, mss: 0 });
      expect(verifyL4Checksum(f, ipIn, false, 6, tcpIn, f.length - tcpIn)).toBe(true);
    }
    // csum_offset of UDP on a TCP packet: not the driver's to guess either.
    const t = frame(6, 30);
    expect(vnetToTxRequest(t, 0, t.length, { ...newFrameMeta(), flags: FRAME_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 }, ALL, req)).toBe(TX_MAP_SEND);
    expect(req.csum).toBe(false);
  });
});

describe('vnetToTxMeta', () => {
  test('a partial TCP checksum the host offers becomes the checksum PPI', () => {
    const f = frame(6, 100);
    const m = { ...newFrameMeta(), flags: FRAME_F_NEEDS_CSUM, csumStart: 34, csumOffset: 16 };
    const out = newTxMeta();
    expect(vnetToTxMeta(f, 0, f.length, m, ALL, out)).toBe(TX_MAP_SEND);
    expect(out.flags).toBe(TX_F_CSUM);
    expect(out.csum).toBe(packCsumTx(true, false, true, false, false, 34));
  });

  test('a partial UDP checksum the host does not offer is completed here and verifies', () => {
    const f = frame(17, 64);
    const m = { ...newFrameMeta(), flags: FRAME_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 };
    const out = newTxMeta();
    expect(vnetToTxMeta(f, 0, f.length, m, { ...ALL, txCsumMask: 0x11 }, out)).toBe(TX_MAP_SEND);
    expect(out.flags).toBe(0);
    expect(verifyL4Checksum(f, 14, false, 17, 34, f.length - 34)).toBe(true);
  });

  test('a TCPv4 GSO super-frame becomes LSOv2; without LSO it is refused', () => {
    const f = frame(6, 4000);
    const m = { ...newFrameMeta(), flags: FRAME_F_NEEDS_CSUM, csumStart: 34, csumOffset: 16, gsoType: FRAME_GSO_TCPV4, gsoSize: 1448, hdrLen: 54 };
    const out = newTxMeta();
    expect(vnetToTxMeta(f, 0, f.length, m, ALL, out)).toBe(TX_MAP_SEND);
    expect(out.flags).toBe(TX_F_LSO);
    expect(out.lso).toBe(packLsoV2Tx(1448, 34, false));
    expect(vnetToTxMeta(f, 0, f.length, m, NONE, out)).toBe(TX_MAP_NO_LSO);
  });
});

describe('rxMetaToVnet', () => {
  test('host-verified checksums become DATA_VALID; a failure does not', () => {
    const f = frame(6, 100);
    const rx = newRxMeta(0);
    const m = newFrameMeta();
    rx.flags = RX_F_CSUM;
    rx.csum = CSUM_RX.tcpChecksumSucceeded | CSUM_RX.ipChecksumSucceeded;
    expect(rxMetaToVnet(f, 0, f.length, rx, 1500, new FlowKey(), m)).toBe(false);
    expect(m.flags).toBe(FRAME_F_DATA_VALID);
    rx.csum = CSUM_RX.tcpChecksumFailed;
    rxMetaToVnet(f, 0, f.length, rx, 1500, new FlowKey(), m);
    expect(m.flags).toBe(0);
  });

  test('a TCP frame larger than the MTU (RSC) goes up as a GSO super-frame with a partial checksum', () => {
    const f = frame(6, 6000);
    const m = newFrameMeta();
    expect(rxMetaToVnet(f, 0, f.length, newRxMeta(0), 1500, new FlowKey(), m)).toBe(true);
    expect(m).toMatchObject({ flags: FRAME_F_NEEDS_CSUM, gsoType: FRAME_GSO_TCPV4, gsoSize: 1460, csumStart: 34, csumOffset: 16, hdrLen: 54 });
  });
});
