import { describe, expect, test } from 'vitest';
import { EthernetView, writeEthernetHeader } from './ethernet.js';

const DST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const SRC = Uint8Array.of(0x00, 0x15, 0x5d, 0x01, 0x02, 0x03);

describe('EthernetView', () => {
  test('reads an untagged IPv4 frame', () => {
    const f = Uint8Array.from([...DST, ...SRC, 0x08, 0x00, 0x45]);
    const v = new EthernetView().bind(f, 0, f.length);
    expect([v.headerLen, v.hasVlan, v.vlanTci, v.vlanId, v.etherType, v.payloadOffset, v.payloadLen]).toEqual([14, false, -1, -1, 0x0800, 14, 1]);
    expect([v.dstOffset, v.srcOffset]).toEqual([0, 6]);
  });
  test('reads an 802.1Q tag: PCP 5, DEI 0, VLAN 100, inner IPv6', () => {
    const f = Uint8Array.from([...DST, ...SRC, 0x81, 0x00, 0xa0, 0x64, 0x86, 0xdd]);
    const v = new EthernetView().bind(f, 0, f.length);
    expect([v.headerLen, v.vlanTci, v.vlanId, v.etherType, v.payloadLen]).toEqual([18, 0xa064, 100, 0x86dd, 0]);
  });
  test('rejects frames shorter than their header', () => {
    const v = new EthernetView();
    expect(v.tryBind(new Uint8Array(13), 0, 13)).toBe(false);
    const f = Uint8Array.from([...DST, ...SRC, 0x81, 0x00, 0xa0]);
    expect(v.tryBind(f, 0, f.length)).toBe(false);
    expect(v.fault).toMatch(/802\.1Q/);
  });
  test('writeEthernetHeader() writes tagged and untagged headers', () => {
    const out = new Uint8Array(18);
    expect(writeEthernetHeader(out, 0, DST, SRC, 0x0800)).toBe(14);
    expect(Array.from(out.subarray(0, 14))).toEqual([...DST, ...SRC, 0x08, 0x00]);
    expect(writeEthernetHeader(out, 0, DST, SRC, 0x86dd, 0xa064)).toBe(18);
    expect(Array.from(out)).toEqual([...DST, ...SRC, 0x81, 0x00, 0xa0, 0x64, 0x86, 0xdd]);
  });
});
