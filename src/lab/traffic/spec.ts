/**
 * What a generator and a sink are told (structured-cloneable: it crosses postMessage at setup),
 * and the checks that turn a user's options into one, with ConfigError naming the bad field.
 */
import { ConfigError } from '../../core/index.js';
import { PAYLOAD_HEADER_LEN } from './payload.js';

export type TrafficProtocol = 'udp' | 'tcp' | 'icmp';
export type TrafficFamily = 'ipv4' | 'ipv6';

export interface GeneratorSpec {
  /** Carried in every payload; the sink of the same flow id counts it. */
  readonly flow: number;
  readonly protocol: TrafficProtocol;
  readonly family: TrafficFamily;
  /** 802.1Q VLAN id put in the frame (the guest turns it into the VLAN PPI); -1 = untagged. */
  readonly vlan: number;
  /** TCP: sends of `sizes` above the MTU go as LSOv2 super-frames of MSS-sized records. */
  readonly lso: boolean;
  /** UDP/ICMP: datagrams above the MTU go out as IP fragments. */
  readonly fragment: boolean;
  /**
   * Through the driver's xmit() (the stack's path: checksum requested from the host, TX hash
   * picks the queue, VLAN tag and LSO as PPIs) instead of send() with software checksums on
   * queue 0. Implied by vlan, lso and fragment.
   */
  readonly stack: boolean;
  /**
   * On the stack path, compute L4 checksums here instead of asking xmit() for them (a device
   * without checksum offload, like the lab's emulated VF: frames needing an offload go synthetic).
   */
  readonly softwareChecksum: boolean;
  /** The sending NIC's MTU when the generator started (MSS and fragment size follow it). */
  readonly mtu: number;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Ethernet frame sizes without FCS, used in turn. */
  readonly sizes: readonly number[];
  readonly count: number;
  /** Frames per second; 0 = as fast as the NIC takes them. */
  readonly pps: number;
  /** Frames per poll (the xmit_more run handed to the driver). */
  readonly batch: number;
}

export interface GeneratorOptions {
  readonly flow: number;
  readonly protocol?: TrafficProtocol;
  readonly family?: TrafficFamily;
  readonly vlan?: number;
  readonly lso?: boolean;
  readonly fragment?: boolean;
  readonly stack?: boolean;
  readonly softwareChecksum?: boolean;
  readonly dstMac: string;
  readonly src?: string;
  readonly dst?: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly sizes: readonly number[];
  readonly count: number;
  readonly pps?: number;
  readonly batch?: number;
}

export interface SinkSpec {
  readonly flow: number;
  /** Frames the generator sends; sizes the seen-bitmap (lost = count − unique delivered). */
  readonly count: number;
  /**
   * The VLAN the frames must arrive on, from the receive VLAN PPI (0 = untagged); a frame on
   * another counts wrongVlan and its records corrupt. Absent: not checked.
   */
  readonly vlan?: number;
}

/** IP header bytes (no options, no extension headers). */
export function ipHeaderLen(f: TrafficFamily): number {
  return f === 'ipv6' ? 40 : 20;
}

/** L4 header bytes before the lab payload (UDP 8, ICMP echo 8, TCP 20). */
export function l4HeaderLen(p: TrafficProtocol): number {
  return p === 'tcp' ? 20 : 8;
}

/** Ethernet (+ 802.1Q) + IP + L4 header bytes before the lab payload. */
export function frameHeaderLen(p: TrafficProtocol, f: TrafficFamily = 'ipv4', vlan = -1): number {
  return 14 + (vlan >= 0 ? 4 : 0) + ipHeaderLen(f) + l4HeaderLen(p);
}

/** TCP segment size for an MTU: what fits after the IP and TCP headers. */
export function tcpMss(f: TrafficFamily, mtu: number): number {
  return mtu - ipHeaderLen(f) - 20;
}

/**
 * Records (sequence numbers) one send of `size` carries: an LSO super-frame carries as many
 * MSS-sized records as fit (each becomes one segment on the wire); any other send carries one.
 */
export function recordsPerSend(o: { readonly protocol: TrafficProtocol; readonly family: TrafficFamily; readonly lso: boolean; readonly vlan: number }, size: number, mtu: number): number {
  if (!o.lso || o.protocol !== 'tcp' || size - (o.vlan >= 0 ? 4 : 0) <= mtu + 14) return 1;
  return Math.max(1, Math.floor((size - frameHeaderLen('tcp', o.family, o.vlan)) / tcpMss(o.family, mtu)));
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError('BAD_CONFIG', `${field}: ${String(v)} is not an integer in [${min}, ${max}]`);
  }
  return v;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function checkMac(field: string, v: unknown): string {
  if (typeof v !== 'string' || !MAC_RE.test(v)) throw new ConfigError('BAD_CONFIG', `${field}: '${String(v)}' is not a MAC address like 00:15:5d:00:00:01`);
  return v.toLowerCase();
}

/** Parses an IPv6 address (with at most one '::') into 16 bytes, or null. */
export function ipv6Bytes(v: string): Uint8Array | null {
  const halves = v.split('::');
  if (halves.length > 2) return null;
  const words = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const w of h.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(w)) return null;
      out.push(parseInt(w, 16));
    }
    return out;
  };
  const a = words(halves[0]!);
  const b = halves.length === 2 ? words(halves[1]!) : [];
  if (!a || !b) return null;
  const fill = 8 - a.length - b.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...a, ...new Array<number>(fill).fill(0), ...b];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[i * 2] = w >>> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

function checkIp(field: string, v: unknown, family: TrafficFamily): string {
  if (family === 'ipv4') return checkIpv4(field, v);
  if (typeof v !== 'string' || !ipv6Bytes(v)) throw new ConfigError('BAD_CONFIG', `${field}: '${String(v)}' is not an IPv6 address`);
  return v;
}

function checkIpv4(field: string, v: unknown): string {
  const m = typeof v === 'string' ? IPV4_RE.exec(v) : null;
  if (!m || m.slice(1).some((x) => Number(x) > 255)) throw new ConfigError('BAD_CONFIG', `${field}: '${String(v)}' is not an IPv4 address`);
  return v as string;
}

export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':'), (x) => parseInt(x, 16));
}

export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, x) => acc * 256 + Number(x), 0) >>> 0;
}

/** Checks generator options against the sending NIC (its MAC, MTU and largest LSO super-frame). */
export function generatorSpec(o: GeneratorOptions, srcMac: string, mtu: number, gsoMax = 65536): GeneratorSpec {
  const protocol = o.protocol ?? 'udp';
  if (protocol !== 'udp' && protocol !== 'tcp' && protocol !== 'icmp') throw new ConfigError('BAD_CONFIG', `protocol: '${String(protocol)}' is not udp, tcp or icmp`);
  const family = o.family ?? 'ipv4';
  if (family !== 'ipv4' && family !== 'ipv6') throw new ConfigError('BAD_CONFIG', `family: '${String(family)}' is not ipv4 or ipv6`);
  const vlan = o.vlan === undefined ? -1 : int('vlan', o.vlan, 1, 4094);
  const lso = o.lso === true;
  const fragment = o.fragment === true;
  if (lso && protocol !== 'tcp') throw new ConfigError('BAD_CONFIG', 'lso: only TCP is segmented by the host');
  if (fragment && protocol === 'tcp') throw new ConfigError('BAD_CONFIG', 'fragment: TCP is not fragmented (use lso)');
  const tag = vlan >= 0 ? 4 : 0;
  const minSize = Math.max(60 + tag, frameHeaderLen(protocol, family, vlan) + PAYLOAD_HEADER_LEN);
  // Above the MTU only what the host segments (LSO, up to its GSO limit) or what IP fragments.
  const maxSize = lso ? Math.min(14 + tag + 65535, 14 + tag + gsoMax - 1) : fragment ? 14 + tag + ipHeaderLen(family) + 65000 : mtu + 14 + tag;
  if (!Array.isArray(o.sizes) || o.sizes.length === 0) throw new ConfigError('BAD_CONFIG', 'sizes: give at least one frame size');
  const sizes = o.sizes.map((s, i) => int(`sizes[${i}]`, s, minSize, maxSize));
  if (lso && mtu + 14 + tag < frameHeaderLen(protocol, family, vlan) + PAYLOAD_HEADER_LEN) throw new ConfigError('BAD_CONFIG', `lso: MTU ${mtu} leaves no room for a record`);
  const v6 = family === 'ipv6';
  return {
    flow: int('flow', o.flow, 0, 0xffffffff),
    protocol,
    family,
    vlan,
    lso,
    fragment,
    stack: o.stack === true || vlan >= 0 || lso || fragment,
    softwareChecksum: o.softwareChecksum === true,
    mtu,
    srcMac,
    dstMac: checkMac('dstMac', o.dstMac),
    src: checkIp('src', o.src ?? (v6 ? 'fd00::1' : '10.0.0.1'), family),
    dst: checkIp('dst', o.dst ?? (v6 ? 'fd00::2' : '10.0.0.2'), family),
    srcPort: int('srcPort', o.srcPort ?? 40000, 1, 65535),
    dstPort: int('dstPort', o.dstPort ?? 9, 1, 65535),
    sizes,
    count: int('count', o.count, 1, 2 ** 31),
    pps: int('pps', o.pps ?? 0, 0, 100_000_000),
    batch: int('batch', o.batch ?? 32, 1, 4096),
  };
}

/** The sink keeps one bit-per-frame map, so count is bounded. */
export function sinkSpec(o: SinkSpec): SinkSpec {
  return { flow: int('flow', o.flow, 0, 0xffffffff), count: int('count', o.count, 1, 1 << 26), ...(o.vlan !== undefined ? { vlan: int('vlan', o.vlan, 0, 4094) } : {}) };
}
