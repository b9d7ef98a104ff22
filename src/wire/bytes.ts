/**
 * Bounds checks and byte helpers shared by every codec. Every length, offset and count read from
 * the wire is checked here against the bytes that contain it (protocol.md §8), so decoders never
 * hit a RangeError from a typed array.
 */
import { WireError } from '../core/index.js';

/** Hyper-V page size: PFNs on the wire count 4096-byte pages whatever the guest page size (protocol.md §0). */
export const HV_PAGE_SIZE = 4096;

/** Number of 4 KiB pages touched by `len` bytes starting `offset` bytes into the first page (HVPFN_UP). */
export function hvPfnUp(bytes: number): number {
  return Math.ceil(bytes / HV_PAGE_SIZE);
}

/** Throws TRUNCATED unless [at, at+len) lies inside [0, limit). `what` names the rule. */
export function need(at: number, len: number, limit: number, what: string): void {
  if (!(at >= 0 && len >= 0 && at + len <= limit)) {
    throw new WireError('TRUNCATED', `${what}: needs bytes ${at}..${at + len} but only ${limit} are there`);
  }
}

export function malformed(what: string): WireError {
  return new WireError('MALFORMED', what);
}

export function dataView(u8: Uint8Array): DataView {
  return new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Allocates `size` zeroed bytes, lets `write` encode into them through a DataView, returns them (control path). */
export function encodeNew(size: number, write: (dv: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  write(dataView(out));
  return out;
}

/** Reads a little-endian u64 as a decimal string (the vectors' form; control path only). */
export function readU64String(dv: DataView, at: number): string {
  return dv.getBigUint64(at, true).toString();
}

export function writeU64(dv: DataView, at: number, v: bigint): void {
  dv.setBigUint64(at, BigInt.asUintN(64, v), true);
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (!HEX.test(clean)) throw malformed(`hex: "${clean.slice(0, 16)}…" is not an even number of hex digits`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(u8: Uint8Array): string {
  let s = '';
  for (let i = 0; i < u8.length; i++) s += u8[i]!.toString(16).padStart(2, '0');
  return s;
}

export function macToString(u8: Uint8Array, at: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(u8[at + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function macFromString(mac: string): Uint8Array {
  const m = /^([0-9a-f]{2})(?::([0-9a-f]{2})){5}$/i.exec(mac);
  if (!m) throw malformed(`MAC "${mac}" is not six colon-separated hex bytes`);
  return hexToBytes(mac.replace(/:/g, ''));
}
