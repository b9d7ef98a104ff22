// A switch port's capture files through a real VSwitch: the trunk port's frames carry the VLAN
// from the 802.1Q PPI as a real 802.1Q tag (TPID 0x8100, priority and id in the TCI) in both
// directions; the access port's stay untagged; everything else byte-identical.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { macAt, parseMac, PortFrameMeta, VSwitch, type SwitchPort } from '../../host/index.js';
import { readPcap } from '../../io/index.js';
import { NDIS_PACKET_TYPE_BROADCAST, NDIS_PACKET_TYPE_DIRECTED, packVlan } from '../../wire/index.js';
import { PortCapture } from './port-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'nvsc-portcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Port implements SwitchPort {
  readonly packetFilter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
  readonly macNumber: number;
  constructor(readonly name: string, mac: string) {
    this.macNumber = macAt(parseMac(mac), 0);
  }
  deliver(): boolean {
    return true;
  }
}

const MA = '00:15:5d:00:00:0a', MB = '00:15:5d:00:00:0b';

function ipv4Frame(dst: string, src: string, n: number): Uint8Array {
  const f = new Uint8Array(14 + n);
  f.set(parseMac(dst), 0);
  f.set(parseMac(src), 6);
  f.set([0x08, 0x00], 12);
  for (let i = 14; i < f.length; i++) f[i] = i & 0xff;
  return f;
}

/** `f` with an 802.1Q tag (TPID 0x8100, TCI big-endian) after the MAC addresses. */
function tagged(f: Uint8Array, pri: number, vid: number): Uint8Array {
  const tci = (pri << 13) | vid;
  return Uint8Array.from([...f.subarray(0, 12), 0x81, 0x00, tci >> 8, tci & 0xff, ...f.subarray(12)]);
}

const frames = (p: string): Uint8Array[] => readPcap(p).records.map((r) => Uint8Array.from(r.data));

describe('PortCapture', () => {
  test('the VLAN of the 802.1Q PPI becomes a tag in the trunk port\'s files; access ports stay untagged', () => {
    const sw = new VSwitch();
    const trunk = sw.addPort(new Port('a', MA), { vlan: { trunk: [20] } });
    const access = sw.addPort(new Port('b', MB), { vlan: 20 });
    const files = { ta: join(dir, 'a-in.pcap'), tb: join(dir, 'a-out.pcap'), aa: join(dir, 'b-in.pcap'), ab: join(dir, 'b-out.pcap') };
    const ct = new PortCapture({ ingress: files.ta, egress: files.tb });
    const ca = new PortCapture({ ingress: files.aa, egress: files.ab });
    trunk.setCapture(ct);
    access.setCapture(ca);
    const ab = ipv4Frame(MB, MA, 100);
    const ba = ipv4Frame(MA, MB, 1500);
    const m = new PortFrameMeta();
    m.hasVlan = true;
    m.vlanTci = packVlan(3, 0, 20);
    expect(trunk.forward(ab, 0, ab.length, m)).toBe(1);
    expect(access.forward(ba, 0, ba.length, new PortFrameMeta())).toBe(1);
    for (const c of [ct, ca]) c.close();
    expect(frames(files.ta)).toEqual([tagged(ab, 3, 20)]); // the guest's tag, priority kept
    expect(frames(files.ab)).toEqual([ab]); // access port: untagged
    expect(frames(files.aa)).toEqual([ba]);
    expect(frames(files.tb)).toEqual([tagged(ba, 0, 20)]); // the switch tags it for the trunk
    expect(ct.counts()).toEqual({ ingress: 1, egress: 1 });
  });
});
