/**
 * What a generator and a sink are told (structured-cloneable: it crosses postMessage at setup),
 * and the checks that turn a user's options into one, with ConfigError naming the bad field.
 */
import { ConfigError } from '../../core/index.js';
import { PAYLOAD_HEADER_LEN } from './payload.js';

export type TrafficProtocol = 'udp' | 'tcp';

export interface GeneratorSpec {
  /** Carried in every payload; the sink of the same flow id counts it. */
  readonly flow: number;
  readonly protocol: TrafficProtocol;
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
}

const ETH_IP = 14 + 20;

/** Ethernet + IPv4 + L4 header bytes before the lab payload. */
export function frameHeaderLen(p: TrafficProtocol): number {
  return ETH_IP + (p === 'udp' ? 8 : 20);
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

/** Checks generator options against the sending NIC (its MAC and MTU). */
export function generatorSpec(o: GeneratorOptions, srcMac: string, mtu: number): GeneratorSpec {
  const protocol = o.protocol ?? 'udp';
  if (protocol !== 'udp' && protocol !== 'tcp') throw new ConfigError('BAD_CONFIG', `protocol: '${String(protocol)}' is not udp or tcp`);
  const minSize = Math.max(60, frameHeaderLen(protocol) + PAYLOAD_HEADER_LEN);
  if (!Array.isArray(o.sizes) || o.sizes.length === 0) throw new ConfigError('BAD_CONFIG', 'sizes: give at least one frame size');
  const sizes = o.sizes.map((s, i) => int(`sizes[${i}]`, s, minSize, mtu + 14));
  return {
    flow: int('flow', o.flow, 0, 0xffffffff),
    protocol,
    srcMac,
    dstMac: checkMac('dstMac', o.dstMac),
    src: checkIpv4('src', o.src ?? '10.0.0.1'),
    dst: checkIpv4('dst', o.dst ?? '10.0.0.2'),
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
  return { flow: int('flow', o.flow, 0, 0xffffffff), count: int('count', o.count, 1, 1 << 26) };
}
