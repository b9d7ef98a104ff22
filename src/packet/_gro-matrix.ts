/**
 * The Linux GRO selftest matrix (vectors.md §6.3) as data, shared by the GroEngine unit test
 * (gro.test.ts) and the end-to-end run through a guest (test/offload/gro.test.ts). Test fixture:
 * frames are built byte by byte, independently of frames.ts.
 */
import { TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../wire/index.js';
import { be16, ipv6Bytes } from './_fixtures.js';
import { fillIpv4HeaderChecksum, fillL4Checksum } from './checksum.js';

// The Linux selftest setup (vectors.md §6.3): ports 1500 → 8000, 192.168.1.200 → 192.168.1.100
// or fdaa::2 → fdaa::1, ACK, window 65535, TTL/hop limit 8, IPv4 DF = 1, payload 100.
export const MSS = 4096 - 20 - 40;
const NOP = 1;
const TS = (v: number): number[] => [8, 10, ...be16(v >>> 16), ...be16(v & 0xffff), 0, 0, 0, 0];

export interface Pkt {
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
export function build(v6: boolean, p: Pkt): Uint8Array {
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
export function data(lens: number[], extra: (i: number) => Partial<Pkt> = () => ({})): Pkt[] {
  let seq = 0;
  return lens.map((len, i) => {
    const p: Pkt = { seq, len, id: i + 1, ...extra(i) };
    seq += len;
    return p;
  });
}

const TS3 = (v: number, order: number): number[] =>
  order === 0 ? [NOP, NOP, ...TS(v)] : order === 1 ? [NOP, ...TS(v), NOP] : [...TS(v), NOP, NOP];
const HBH = (b: number): number[] => [6, 0, 1, 4, b, 0, 0, 0];

// vectors.md §6.3, row by row: [test, IP versions, packets, expected payloads].
export type Row = [string, ('v4' | 'v6')[], () => Pkt[], number[]];
export const MATRIX: Row[] = [
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


/**
 * The "large" rows for one IP version: 16 full segments, then "last" and "new_seg" of `r` bytes
 * (new_seg at 17 × MSS, so after a gap). Up to the IP maximum coalesces: [max, rem]; one byte more
 * does not: [16 × MSS, rem + 1, rem + 1].
 */
export function largeRows(v6: boolean): { max: number; rem: number; pkts: (r: number) => Pkt[] } {
  const max = 65535 - 20 - 40 + (v6 ? 0 : 20);
  return {
    max,
    rem: max % MSS,
    pkts: (r) => [
      ...Array.from({ length: 16 }, (_, i): Pkt => ({ seq: i * MSS, len: MSS, id: i })),
      { seq: 16 * MSS, len: r, id: 16 },
      { seq: 17 * MSS, len: r, id: 17 },
    ],
  };
}
