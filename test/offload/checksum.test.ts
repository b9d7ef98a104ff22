// Issue 5 item 1: the checksum matrix, per host profile × {TCP, UDP} × {IPv4, IPv6}, through a real
// guest, the real host and a second real guest (plus the wire port): which side computed the L4
// checksum, and every checksum that arrives verifies.
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, buildTcp6Frame, buildUdp4Frame, buildUdp6Frame, classifyFrame, fillL4Checksum, FlowKey, verifyIpv4HeaderChecksum, verifyL4Checksum } from '../../src/packet/index.js';
import { HOST_PROFILES, HOST_PROFILE_NAMES, type HostProfileName } from '../../src/host/index.js';
import { CSUM_RX, IPPROTO_TCP } from '../../src/wire/index.js';
import { RX_F_CSUM } from '../../src/guest/netvsc/meta.js';
import { OffloadLab, macBytes, testSpec } from './harness.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

type Kind = 'tcp4' | 'udp4' | 'tcp6' | 'udp6';
const KINDS: readonly Kind[] = ['tcp4', 'udp4', 'tcp6', 'udp6'];

/** A frame as the stack hands it over with CHECKSUM_PARTIAL: L4 checksum field garbage, IPv4 header checksum not yet filled. */
export function partialFrame(kind: Kind, dst: Uint8Array, src: Uint8Array, payloadLen: number, seq = 1000): Uint8Array {
  const s = testSpec(dst, src, { srcPort: 40000, dstPort: 5201, seq });
  const payload = Uint8Array.from({ length: payloadLen }, (_, i) => (i * 7 + 3) & 0xff);
  const out = new Uint8Array(payloadLen + 200);
  const build = { tcp4: buildTcp4Frame, udp4: buildUdp4Frame, tcp6: buildTcp6Frame, udp6: buildUdp6Frame }[kind];
  const n = build(out, 0, s, payload, 0, payloadLen);
  const f = out.slice(0, n);
  const l4 = kind.endsWith('4') ? 34 : 54;
  const at = l4 + (kind.startsWith('tcp') ? 16 : 6);
  f[at] = 0xde;
  f[at + 1] = 0xad;
  if (kind.endsWith('4')) {
    f[24] = 0;
    f[25] = 0;
  }
  return f;
}

/** Every checksum in the frame verifies (IPv4 header and L4). */
export function checksumsValid(f: Uint8Array): boolean {
  const k = new FlowKey();
  if (!classifyFrame(f, 0, f.length, k) || k.l4Off < 0) return false;
  if (k.ipVersion === 4 && !verifyIpv4HeaderChecksum(f, k.ipOff)) return false;
  return verifyL4Checksum(f, k.ipOff, k.ipVersion === 6, k.l4Proto, k.l4Off, k.l4Len);
}

describe('checksum offload matrix (issue 5 item 1, protocol.md §6.1–6.3)', () => {
  test.each(HOST_PROFILE_NAMES.map((p) => [p] as [HostProfileName]))('%s', async (profile) => {
    const lab = new OffloadLab(profile);
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    const wire = lab.wire();
    const offers = HOST_PROFILES[profile].checksum;
    const rows: string[] = [];
    for (const kind of KINDS) {
      const before = { ...a.dev.txPrep.counters.snapshot() };
      const hostBefore = lab.hv.allNics[0]!.stats().queues[0]!['tx_csum_filled']!;
      const sent = partialFrame(kind, b.mac, a.mac, 333);
      const copy = sent.slice();
      b.rx.length = 0;
      wire.got.length = 0;
      expect(a.dev.xmit(copy, 0, copy.length, { csum: true, mss: 0 })).toBe(true);
      a.dev.flush();
      await lab.settle();
      const after = a.dev.txPrep.counters.snapshot();
      const hostFilled = lab.hv.allNics[0]!.stats().queues[0]!['tx_csum_filled']! - hostBefore;
      const byHost = offers[kind];
      // Which side computed it: the host exactly for the classes its profile offers.
      expect(after['tx_csum_offloaded']! - before['tx_csum_offloaded']!, `${kind} offloaded`).toBe(byHost ? 1 : 0);
      expect(after['tx_csum_software']! - before['tx_csum_software']!, `${kind} software`).toBe(byHost ? 0 : 1);
      expect(hostFilled, `${kind} host filled`).toBe(byHost ? 1 : 0);
      // What arrives (guest b, and the wire since b's MAC is learned only after b sends) is whole and valid.
      expect(b.rx).toHaveLength(1);
      const got = b.rx[0]!;
      expect(checksumsValid(got.bytes), `${kind} checksums at b`).toBe(true);
      expect(got.bytes.length).toBe(sent.length);
      // Payload and headers other than the checksums are what was sent.
      const l4 = kind.endsWith('4') ? 34 : 54;
      const csAt = l4 + (kind.startsWith('tcp') ? 16 : 6);
      for (let i = 0; i < sent.length; i++) if (i !== csAt && i !== csAt + 1 && i !== 24 && i !== 25) expect(got.bytes[i], `${kind} byte ${i}`).toBe(sent[i]);
      for (const w of wire.got) expect(checksumsValid(w.bytes)).toBe(true);
      // RX state (§6.3): the L4 result only for a class the host offloads; the IPv4 header always verified.
      const tcp = kind.startsWith('tcp');
      const v4 = kind.endsWith('4');
      const expectBits = (byHost ? (tcp ? CSUM_RX.tcpChecksumSucceeded : CSUM_RX.udpChecksumSucceeded) : 0) | (v4 ? CSUM_RX.ipChecksumSucceeded : 0);
      // meta.csum is meaningful only with RX_F_CSUM (the meta object is reused per queue).
      expect((got.flags & RX_F_CSUM) !== 0 ? got.csum : 0, `${kind} rx csum bits`).toBe(expectBits);
      expect((got.flags & RX_F_CSUM) !== 0).toBe(expectBits !== 0);
      rows.push(`${kind}:${byHost ? 'host' : 'guest'}`);
    }
    expect(rows).toEqual(KINDS.map((k) => `${k}:${offers[k] ? 'host' : 'guest'}`));
  });

  test('a checksum request for a class the profile does not offer is dropped and counted on the host (ws2012, UDP)', async () => {
    const lab = new OffloadLab('ws2012');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    // Force the PPI the way a guest that ignores the caps would.
    const f = partialFrame('udp4', b.mac, a.mac, 100);
    const ok = a.dev.send(f, 0, f.length, { flags: 4, hash: 0, vlan: 0, csum: (1 | (1 << 3) | (34 << 16)) >>> 0, lso: 0 });
    expect(ok).toBe(true);
    a.dev.flush();
    await lab.settle();
    expect(b.rx).toHaveLength(0);
    expect(lab.hv.allNics[0]!.stats().queues[0]!['tx_csum_not_offered']).toBe(1);
    // and a PPI naming TCP on a UDP frame is bad input
    const ok2 = a.dev.send(f, 0, f.length, { flags: 4, hash: 0, vlan: 0, csum: (1 | (1 << 2) | (34 << 16)) >>> 0, lso: 0 });
    expect(ok2).toBe(true);
    a.dev.flush();
    await lab.settle();
    expect(lab.hv.allNics[0]!.stats().queues[0]!['tx_csum_bad']).toBe(1);
    expect(b.rx).toHaveLength(0);
  });

  test('a checksum the guest computed passes unverified: no L4 bits, wrong or right, and the receiver sees the bytes as sent', async () => {
    // docs/design.md: the host reports "succeeded" only for what it computed; a guest-computed
    // checksum is the receiver's stack to verify (Linux re-verifies a "failed" frame anyway, §6.3).
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    const bad = partialFrame('tcp4', b.mac, a.mac, 50);
    // IPv4 header filled by xmit (no csum request), TCP checksum left wrong on purpose
    expect(a.dev.xmit(bad, 0, bad.length, { csum: false, mss: 0 })).toBe(true);
    a.dev.flush();
    await lab.settle();
    expect(b.rx).toHaveLength(1);
    expect(b.rx[0]!.csum).toBe(CSUM_RX.ipChecksumSucceeded);
    expect(checksumsValid(b.rx[0]!.bytes)).toBe(false); // still wrong: nothing was fixed or claimed
    expect([...b.rx[0]!.bytes.subarray(50, 52)]).toEqual([0xde, 0xad]);
    // A right one gets the same (no "succeeded" the host did not establish).
    const good = partialFrame('udp4', b.mac, a.mac, 50);
    fillL4Checksum(good, 14, false, 17, 34, good.length - 34);
    expect(a.dev.xmit(good, 0, good.length, { csum: false, mss: 0 })).toBe(true);
    a.dev.flush();
    await lab.settle();
    expect(b.rx).toHaveLength(2);
    expect(b.rx[1]!.csum).toBe(CSUM_RX.ipChecksumSucceeded);
    expect(checksumsValid(b.rx[1]!.bytes)).toBe(true);
    expect(IPPROTO_TCP).toBe(6);
    expect(macBytes('00:15:5d:00:00:0b')).toEqual(b.mac);
  });
});
