import { describe, expect, test } from 'vitest';
import { HV_DEFAULT_L4HASH, HV_UDP4_L4HASH, NDIS_HASH_IPV4, NDIS_HASH_IPV6, NDIS_HASH_TCP_IPV4, NDIS_HASH_TCP_IPV6, NETVSC_HASH_KEY_HEX } from '../wire/index.js';
import { be16, hex, ipv4Bytes, ipv6Bytes, RSS_V4, RSS_V6 } from './_fixtures.js';
import { classifyFrame, FlowKey } from './flow-key.js';
import { NDIS_HASH_UDP_IPV4, NDIS_HASH_UDP_IPV6, rssHash, RssResult } from './rss.js';
import { toeplitzTables } from './toeplitz.js';
import { txHash, txHashTo } from './tx-hash.js';

const T = toeplitzTables(hex(NETVSC_HASH_KEY_HEX));
/** What Linux programs: Toeplitz | IPV4 | TCP_IPV4 | IPV6 | TCP_IPV6 (vectors.md §2). */
const LINUX_HASHINFO = 0x1701;
const MACS = [...Array<number>(6).fill(0xff), 0, 0x15, 0x5d, 0, 0, 1];

const V4 = RSS_V4;
const V6 = RSS_V6;

function l4Bytes(proto: number, sport: number, dport: number): number[] {
  return proto === 6
    ? [...be16(sport), ...be16(dport), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]
    : [...be16(sport), ...be16(dport), 0, 8, 0, 0];
}

interface V4Opts { proto?: number; vlan?: boolean; options?: number; fragment?: number }
function frame4(dst: string, dport: number, src: string, sport: number, o: V4Opts = {}): Uint8Array {
  const proto = o.proto ?? 6;
  const opts = Array<number>(o.options ?? 0).fill(1);
  const l4 = l4Bytes(proto, sport, dport);
  const total = 20 + opts.length + l4.length;
  const frag = o.fragment ?? 0x4000;
  const ip = [0x45 + opts.length / 4, 0, ...be16(total), 0, 1, ...be16(frag), 64, proto, 0, 0, ...ipv4Bytes(src), ...ipv4Bytes(dst), ...opts];
  const l2 = o.vlan ? [...MACS, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00] : [...MACS, 0x08, 0x00];
  return Uint8Array.from([...l2, ...ip, ...l4]);
}

function frame6(dst: string, dport: number, src: string, sport: number, proto = 6, ext: number[] = [], first = proto): Uint8Array {
  const l4 = l4Bytes(proto, sport, dport);
  const ip = [0x60, 0, 0, 0, ...be16(ext.length + l4.length), first, 64, ...ipv6Bytes(src), ...ipv6Bytes(dst)];
  return Uint8Array.from([...MACS, 0x86, 0xdd, ...ip, ...ext, ...l4]);
}

const key = new FlowKey();
const out = new RssResult();
function hashOf(f: Uint8Array, types = LINUX_HASHINFO, udp4Tuple = false): [number, number] {
  classifyFrame(f, 0, f.length, key);
  rssHash(key, T, types, udp4Tuple, out);
  return [out.hash, out.hashType];
}

describe('rssHash() on the Microsoft suite with the hash types Linux programs (vectors.md §1, §2, §5.5)', () => {
  test.each(V4)('IPv4 %s:%i ← %s:%i: TCP by 4-tuple, UDP by addresses', (dst, dport, src, sport, ipOnly, withTcp) => {
    expect(hashOf(frame4(dst, dport, src, sport))).toEqual([withTcp, NDIS_HASH_TCP_IPV4]);
    expect(hashOf(frame4(dst, dport, src, sport, { vlan: true }))).toEqual([withTcp, NDIS_HASH_TCP_IPV4]);
    expect(hashOf(frame4(dst, dport, src, sport, { options: 8 }))).toEqual([withTcp, NDIS_HASH_TCP_IPV4]);
    expect(hashOf(frame4(dst, dport, src, sport, { proto: 17 }))).toEqual([ipOnly, NDIS_HASH_IPV4]);
    expect(hashOf(frame4(dst, dport, src, sport, { proto: 1 }))).toEqual([ipOnly, NDIS_HASH_IPV4]);
    // A host that enforces the UDP 4-tuple reports it as the TCP type (vectors.md §5.5, FreeBSD).
    expect(hashOf(frame4(dst, dport, src, sport, { proto: 17 }), LINUX_HASHINFO, true)).toEqual([withTcp, NDIS_HASH_TCP_IPV4]);
    expect(hashOf(frame4(dst, dport, src, sport, { proto: 17 }), LINUX_HASHINFO | NDIS_HASH_UDP_IPV4)).toEqual([withTcp, NDIS_HASH_UDP_IPV4]);
  });
  test.each(V6)('IPv6 %s (%i) ← %s (%i): TCP by 4-tuple, UDP by addresses', (dst, dport, src, sport, ipOnly, withTcp) => {
    expect(hashOf(frame6(dst, dport, src, sport))).toEqual([withTcp, NDIS_HASH_TCP_IPV6]);
    expect(hashOf(frame6(dst, dport, src, sport, 17))).toEqual([ipOnly, NDIS_HASH_IPV6]);
    expect(hashOf(frame6(dst, dport, src, sport, 17), LINUX_HASHINFO, true)).toEqual([withTcp, NDIS_HASH_TCP_IPV6]);
    expect(hashOf(frame6(dst, dport, src, sport, 17), LINUX_HASHINFO | NDIS_HASH_UDP_IPV6)).toEqual([withTcp, NDIS_HASH_UDP_IPV6]);
    // Extension headers are skipped (vectors.md §1.7): hop-by-hop then destination options.
    const ext = [60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0];
    expect(hashOf(frame6(dst, dport, src, sport, 6, ext, 0))).toEqual([withTcp, NDIS_HASH_TCP_IPV6]);
  });
});

describe('frames the host does not hash (they go to channel 0)', () => {
  const [dst, dport, src, sport] = V4[0]!;
  const [dst6, dport6, src6, sport6] = V6[0]!;
  test('IPv4 first, middle and last fragments, TCP or UDP', () => {
    for (const fragment of [0x2000, 0x2010, 0x0010]) {
      expect(hashOf(frame4(dst, dport, src, sport, { fragment }))).toEqual([0, 0]);
      expect(hashOf(frame4(dst, dport, src, sport, { proto: 17, fragment }))).toEqual([0, 0]);
    }
  });
  test('IPv6 first and later fragments; an atomic fragment header still hashes', () => {
    expect(hashOf(frame6(dst6, dport6, src6, sport6, 6, [6, 0, 0, 1, 0, 0, 0, 7], 44))).toEqual([0, 0]);
    expect(hashOf(frame6(dst6, dport6, src6, sport6, 17, [17, 0, 0, 0x19, 0, 0, 0, 7], 44))).toEqual([0, 0]);
    expect(hashOf(frame6(dst6, dport6, src6, sport6, 6, [6, 0, 0, 0, 0, 0, 0, 7], 44))[1]).toBe(NDIS_HASH_TCP_IPV6);
  });
  test('UDP when only TCP hashing is enabled, non-IP and malformed frames', () => {
    expect(hashOf(frame4(dst, dport, src, sport, { proto: 17 }), NDIS_HASH_TCP_IPV4)).toEqual([0, 0]);
    const arp = Uint8Array.from([...MACS, 0x08, 0x06, ...Array<number>(28).fill(0)]);
    expect(hashOf(arp)).toEqual([0, 0]);
    const f = frame4(dst, dport, src, sport);
    f[14] = 0x4f; // IHL 15 runs past the packet
    expect(hashOf(f)).toEqual([0, 0]);
    expect(classifyFrame(f, 0, 10, key)).toBe(false);
  });
  test('a TCP header cut short falls back to the address hash', () => {
    const f = frame4(dst, dport, src, sport);
    f[17] = 20 + 10; // IPv4 total length: only 10 bytes of TCP
    expect(hashOf(f)).toEqual([V4[0]![4], NDIS_HASH_IPV4]);
  });
});

describe('txHash()', () => {
  const [dst, dport, src, sport] = V4[1]!;
  function tx(f: Uint8Array, l4Hash: number): number {
    classifyFrame(f, 0, f.length, key);
    return txHash(key, l4Hash, 0x1234);
  }
  test('hashes ports when the class bit is set and only addresses when it is not', () => {
    const a = frame4(dst, dport, src, sport, { proto: 17 });
    const b = frame4(dst, dport, src, sport + 1, { proto: 17 });
    expect(tx(a, HV_DEFAULT_L4HASH)).not.toBe(tx(b, HV_DEFAULT_L4HASH));
    const noUdp4 = HV_DEFAULT_L4HASH & ~HV_UDP4_L4HASH;
    expect(tx(a, noUdp4)).toBe(tx(b, noUdp4));
    expect(tx(a, noUdp4)).not.toBe(tx(a, HV_DEFAULT_L4HASH));
  });
  test('is 0 for non-IP frames and spreads flows over 16 send-table slots', () => {
    expect(tx(Uint8Array.from([...MACS, 0x08, 0x06, ...Array<number>(28).fill(0)]), HV_DEFAULT_L4HASH)).toBe(0);
    const slots = new Set<number>();
    for (let p = 0; p < 256; p++) slots.add(tx(frame4(dst, dport, src, 1000 + p), HV_DEFAULT_L4HASH) & 15);
    expect(slots.size).toBe(16);
  });
  test('txHashTo() stores txHash() in out[at] and touches no other slot (0 over an old value for non-IP)', () => {
    const out = Uint32Array.of(7, 7, 7);
    for (let p = 0; p < 64; p++) {
      const want = tx(frame4(dst, dport, src, 1000 + p), HV_DEFAULT_L4HASH);
      txHashTo(key, HV_DEFAULT_L4HASH, 0x1234, out, 1);
      expect([out[0], out[1], out[2]]).toEqual([7, want, 7]);
    }
    expect(out[1]).not.toBe(0);
    classifyFrame(Uint8Array.from([...MACS, 0x08, 0x06, ...Array<number>(28).fill(0)]), 0, 42, key);
    txHashTo(key, HV_DEFAULT_L4HASH, 0x1234, out, 1);
    expect([out[0], out[1], out[2]]).toEqual([7, 0, 7]);
  });
});
