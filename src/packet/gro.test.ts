import { describe, expect, test } from 'vitest';
import { EthernetView, Ipv4View, Ipv6View, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, TcpView } from '../wire/index.js';
import { be16, ipv6Bytes } from './_fixtures.js';
import { fillIpv4HeaderChecksum, fillL4Checksum, verifyIpv4HeaderChecksum, verifyL4Checksum } from './checksum.js';
import { GroEngine, type GroSink } from './gro.js';

// The Linux selftest setup (vectors.md §6.3): ports 1500 → 8000, 192.168.1.200 → 192.168.1.100
// or fdaa::2 → fdaa::1, ACK, window 65535, TTL/hop limit 8, IPv4 DF = 1, payload 100.
const MSS = 4096 - 20 - 40;
const NOP = 1;
const TS = (v: number): number[] => [8, 10, ...be16(v >>> 16), ...be16(v & 0xffff), 0, 0, 0, 0];

interface Pkt {
  seq: number;
  len: number;
  flags?: number;
  ack?: number;
  tcpOpts?: number[];
  ttl?: number;
  tos?: number;
  id?: number;
  df?: boolean;
  ipOpts?: number[];
  mf?: boolean;
  ext?: number[]; // IPv6 extension headers, first one's type in extType
  extType?: number;
  badCsum?: boolean;
}

/** Builds a selftest packet byte by byte (independent of frames.ts). */
function build(v6: boolean, p: Pkt): Uint8Array {
  const tcpOpts = p.tcpOpts ?? [];
  const tcpHl = 20 + tcpOpts.length;
  const tcp = [...be16(1500), ...be16(8000), ...be32(p.seq), ...be32(p.ack ?? 1), (tcpHl / 4) << 4, p.flags ?? TCP_ACK, 0xff, 0xff, 0, 0, 0, 0, ...tcpOpts];
  const payload = Array.from({ length: p.len }, (_, i) => (p.seq + i) & 0xff);
  let ip: number[];
  if (v6) {
    const ext = p.ext ?? [];
    const tc = p.tos ?? 0;
    ip = [0x60 | (tc >> 4), (tc & 0xf) << 4, 0, 0, ...be16(ext.length + tcp.length + p.len), ext.length ? p.extType! : 6, p.ttl ?? 8, ...ipv6Bytes('fdaa::2'), ...ipv6Bytes('fdaa::1'), ...ext];
  } else {
    const opts = p.ipOpts ?? [];
    const total = 20 + opts.length + tcp.length + p.len;
    const frag = (p.df ?? true ? 0x4000 : 0) | (p.mf ? 0x2000 : 0);
    ip = [0x45 + opts.length / 4, p.tos ?? 0, ...be16(total), ...be16(p.id ?? 0), ...be16(frag), p.ttl ?? 8, 6, 0, 0, 192, 168, 1, 200, 192, 168, 1, 100, ...opts];
  }
  const l2 = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, ...(v6 ? [0x86, 0xdd] : [0x08, 0x00])];
  const f = Uint8Array.from([...l2, ...ip, ...tcp, ...payload]);
  const ipOff = 14;
  const l4Off = 14 + ip.length;
  if (!v6) fillIpv4HeaderChecksum(f, ipOff);
  fillL4Checksum(f, ipOff, v6, 6, l4Off, f.length - l4Off);
  if (p.badCsum) f[l4Off + 17] = (f[l4Off + 17]! - 1) & 0xff;
  return f;
}

function be32(v: number): number[] {
  return [...be16(v >>> 16), ...be16(v & 0xffff)];
}

/** Contiguous data packets of the given payload lengths, starting at seq 0. */
function data(lens: number[], extra: (i: number) => Partial<Pkt> = () => ({})): Pkt[] {
  let seq = 0;
  return lens.map((len, i) => {
    const p: Pkt = { seq, len, id: i + 1, ...extra(i) };
    seq += len;
    return p;
  });
}

interface Received {
  payloads: number[];
  frames: Uint8Array[];
  segments: number[];
}

/** Feeds the packets and a FIN terminator; returns payload lengths received before the FIN. */
function run(v6: boolean, pkts: Pkt[]): Received {
  const got: Received = { payloads: [], frames: [], segments: [] };
  let sawFin = false;
  const eth = new EthernetView();
  const tcp = new TcpView();
  const sink: GroSink = {
    deliver(frame, off, len, segments) {
      eth.bind(frame, off, len);
      const ip = v6 ? new Ipv6View().bind(frame, eth.payloadOffset, eth.payloadLen) : new Ipv4View().bind(frame, eth.payloadOffset, eth.payloadLen);
      const l4 = ip instanceof Ipv6View ? ip.upperOffset : ip.payloadOffset;
      tcp.bind(frame, l4, ip instanceof Ipv6View ? ip.upperLen : ip.payloadLen);
      expect(sawFin).toBe(false);
      if (tcp.flags & TCP_FIN) {
        sawFin = true;
        return;
      }
      got.payloads.push(tcp.payloadLen);
      got.frames.push(frame.slice(off, off + len));
      got.segments.push(segments);
    },
  };
  const gro = new GroEngine(sink);
  const last = pkts[pkts.length - 1]!;
  const fin: Pkt = { seq: (last.seq + last.len) >>> 0, len: 0, flags: TCP_ACK | TCP_FIN, id: (last.id ?? 0) + 1 };
  for (const p of [...pkts, fin]) {
    const f = build(v6, p);
    gro.receive(f, 0, f.length, false);
  }
  gro.flush();
  expect(sawFin).toBe(true);
  return got;
}

const TS3 = (v: number, order: number): number[] =>
  order === 0 ? [NOP, NOP, ...TS(v)] : order === 1 ? [NOP, ...TS(v), NOP] : [...TS(v), NOP, NOP];
const HBH = (b: number): number[] => [6, 0, 1, 4, b, 0, 0, 0];

// vectors.md §6.3, row by row: [test, IP versions, packets, expected payloads].
type Row = [string, ('v4' | 'v6')[], () => Pkt[], number[]];
const MATRIX: Row[] = [
  ['data: same size', ['v4', 'v6'], () => data([100, 100]), [200]],
  ['data: large then small', ['v4', 'v6'], () => data([100, 50]), [150]],
  ['data: small then large', ['v4', 'v6'], () => data([50, 100]), [50, 100]],
  ['ack: pure ACK, duplicate, ack+1', ['v4', 'v6'], () => [{ seq: 0, len: 0 }, { seq: 0, len: 0 }, { seq: 0, len: 0, ack: 2 }], [0, 0, 0]],
  ['flags: PSH on the 3rd', ['v4', 'v6'], () => data([100, 100, 100, 100, 100], (i) => (i === 2 ? { flags: TCP_ACK | TCP_PSH } : {})), [300, 200]],
  ...([['SYN', TCP_SYN], ['RST', TCP_RST], ['URG', TCP_URG]] as const).map(
    ([name, flag]): Row => [`flags: ${name} on the 3rd (no payload)`, ['v4', 'v6'], () => data([100, 100, 0, 100, 100], (i) => (i === 2 ? { flags: TCP_ACK | flag } : {})), [200, 0, 200]],
  ),
  ['tcp: bad checksum on the 2nd', ['v4', 'v6'], () => data([100, 100], (i) => ({ badCsum: i === 1 })), [100, 100]],
  ['tcp: seq gap', ['v4', 'v6'], () => data([100, 100], (i) => (i === 1 ? { seq: 101 } : {})), [100, 100]],
  [
    'tcp: timestamps 0, 0, 100 (order 0), 100 (order 1), 100 (order 2)',
    ['v4', 'v6'],
    () => data([100, 100, 100, 100, 100], (i) => ({ tcpOpts: TS3(i < 2 ? 0 : 100, i < 3 ? 0 : i - 2) })),
    [200, 100, 100, 100],
  ],
  ['tcp: TS, TS, then NOP+WSCALE', ['v4', 'v6'], () => data([100, 100, 100], (i) => ({ tcpOpts: i < 2 ? TS3(0, 0) : [NOP, 3, 3, 7] })), [200, 100]],
  ['ip: ECN changed', ['v4', 'v6'], () => data([100, 100], (i) => ({ tos: i === 1 ? 1 : 0 })), [100, 100]],
  ['ip: TOS/TC changed', ['v4', 'v6'], () => data([100, 100], (i) => ({ tos: i === 1 ? 0x10 : 0 })), [100, 100]],
  ['ip: TTL 8 → 7', ['v4'], () => data([100, 100], (i) => ({ ttl: i === 1 ? 7 : 8 })), [100, 100]],
  ['ip: IP timestamp option on the middle packet', ['v4'], () => data([100, 100, 100], (i) => (i === 1 ? { ipOpts: [68, 4, 5, 0] } : {})), [100, 100, 100]],
  ['ip: MF fragment', ['v4'], () => data([100, 100], (i) => ({ mf: i === 1 })), [100, 100]],
  ['ip: DF=1 incrementing ID', ['v4'], () => data([100, 100], (i) => ({ id: 10 + i })), [200]],
  ['ip: DF=1 fixed ID', ['v4'], () => data([100, 100], () => ({ id: 10 })), [200]],
  ['ip: DF=0 incrementing ID', ['v4'], () => data([100, 100], (i) => ({ id: 10 + i, df: false })), [200]],
  ['ip: DF=0 fixed ID', ['v4'], () => data([100, 100], () => ({ id: 10, df: false })), [200]],
  ['ip: DF=1 two incrementing + one fixed', ['v4'], () => data([100, 100, 100], (i) => ({ id: [10, 11, 11][i]! })), [200, 100]],
  ['ip: DF=1 two fixed + one incrementing', ['v4'], () => data([100, 100, 100], (i) => ({ id: [10, 10, 11][i]! })), [200, 100]],
  ['ip: 3rd packet carries a fragment header', ['v6'], () => data([100, 100, 100, 100], (i) => (i === 2 ? { ext: [6, 0, 0, 0, 0, 0, 0, 1], extType: 44 } : {})), [200, 100, 100]],
  ['ip: HBH extension header, identical payload', ['v6'], () => data([100, 100], () => ({ ext: HBH(5), extType: 0 })), [200]],
  ['ip: HBH extension header, different payload', ['v6'], () => data([100, 100], (i) => ({ ext: HBH(5 + i), extType: 0 })), [100, 100]],
];

describe('GRO against the Linux selftest matrix (vectors.md §6.3)', () => {
  for (const [name, versions, pkts, expected] of MATRIX) {
    for (const v of versions) {
      test(`${v} ${name} → [${expected.join(', ')}]`, () => {
        expect(run(v === 'v6', pkts()).payloads).toEqual(expected);
      });
    }
  }
  for (const v of ['v4', 'v6'] as const) {
    // MAX_PAYLOAD = 65535 − 20 − 40 (+20 for IPv4); 16 full segments, then "last" and "new_seg"
    // of `remainder` bytes each (new_seg at 17 × MSS, so after a gap), then FIN.
    const max = 65535 - 20 - 40 + (v === 'v4' ? 20 : 0);
    const rem = max % MSS;
    const large = (r: number): Pkt[] => [
      ...Array.from({ length: 16 }, (_, i): Pkt => ({ seq: i * MSS, len: MSS, id: i })),
      { seq: 16 * MSS, len: r, id: 16 },
      { seq: 17 * MSS, len: r, id: 17 },
    ];
    test(`${v} large: up to the IP maximum coalesces → [${max}, ${rem}]`, () => {
      expect(run(v === 'v6', large(rem)).payloads).toEqual([max, rem]);
    });
    test(`${v} large: one byte more does not → [${16 * MSS}, ${rem + 1}, ${rem + 1}]`, () => {
      expect(run(v === 'v6', large(rem + 1)).payloads).toEqual([16 * MSS, rem + 1, rem + 1]);
    });
  }
});

describe('GroEngine output', () => {
  test('a merged packet has the concatenated payload, fixed lengths and valid checksums', () => {
    for (const v6 of [false, true]) {
      const got = run(v6, data([100, 100, 100], (i) => ({ flags: i === 2 ? TCP_ACK | TCP_PSH : TCP_ACK })));
      expect(got.payloads).toEqual([300]);
      expect(got.segments).toEqual([3]);
      const f = got.frames[0]!;
      const l4 = v6 ? 54 : 34;
      if (!v6) expect(verifyIpv4HeaderChecksum(f, 14)).toBe(true);
      expect(verifyL4Checksum(f, 14, v6, 6, l4, f.length - l4)).toBe(true);
      expect(f[l4 + 13]).toBe(TCP_ACK | TCP_PSH);
      expect(Array.from(f.subarray(l4 + 20))).toEqual(Array.from({ length: 300 }, (_, i) => i & 0xff));
    }
  });
  test('flows are kept apart and held packets leave at flush() in arrival order', () => {
    const out: number[] = [];
    const gro = new GroEngine({ deliver: (f, off) => out.push(f[off + 14 + 20 + 1]!) }, { maxFlows: 2 });
    const a = build(false, { seq: 0, len: 100 });
    const b = build(false, { seq: 0, len: 100 });
    b[14 + 20 + 1] = 77; // another source port
    const c = build(false, { seq: 0, len: 100 });
    c[14 + 20 + 1] = 78;
    for (const f of [a, b]) fillL4Checksum(f, 14, false, 6, 34, f.length - 34);
    fillL4Checksum(c, 14, false, 6, 34, c.length - 34);
    gro.receive(a, 0, a.length, false);
    gro.receive(b, 0, b.length, false);
    expect(out).toEqual([]);
    gro.receive(c, 0, c.length, false); // evicts the oldest flow
    expect(out).toEqual([1500 & 0xff]);
    gro.flush();
    expect(out).toEqual([1500 & 0xff, 77, 78]);
  });
  test('non-TCP and unparsable frames pass straight through', () => {
    const out: number[] = [];
    const gro = new GroEngine({ deliver: (_f, _o, len) => out.push(len) });
    const junk = new Uint8Array(10);
    gro.receive(junk, 0, 10, false);
    expect(out).toEqual([10]);
  });
});
