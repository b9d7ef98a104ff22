/**
 * Control-path face of the NDIS objects (protocol.md §5.9, §5.10): camelCase plain objects.
 * Sized objects (offload params 22/28, ndis_offload 112/144/156) emit header.size bytes.
 */
import { need } from '../bytes.js';
import { decodeLayout, encodeLayout } from '../layout/struct.js';
import { REPR, type ValueObject } from '../layout/value.js';
import { decodeRssParamsWithTables, decodeSized, encodeRssParamsWithTables, encodeSized, rssParamsSize, sizedLength } from './codec.js';
import { ndisOffload, ndisOffloadParams, ndisRecvScaleCap } from './layouts.js';

export interface NdisObjectHeader {
  readonly type: number;
  readonly revision: number;
  readonly size: number;
}
export interface NdisObjHeader {
  readonly type: number;
  readonly rev: number;
  readonly size: number;
}
type Group = { readonly [field: string]: number };

/** `struct ndis_offload`: groups of u32/u8 capability fields; absent groups are zero or past `size`. */
export interface NdisOffload {
  readonly header: NdisObjectHeader;
  readonly csum?: Group;
  readonly lsov1?: Group;
  readonly ipsecv1?: Group;
  readonly lsov2?: Group;
  readonly flags?: number;
  readonly ipsecv2?: Group;
  readonly rsc?: Group;
  readonly encapGre?: Group;
}
export interface NdisOffloadParams {
  readonly header: NdisObjectHeader;
  readonly [field: string]: number | NdisObjectHeader;
}
export interface NdisRecvScaleCap {
  readonly hdr: NdisObjHeader;
  readonly capFlag: number;
  readonly numIntMsg: number;
  readonly numRecvQue: number;
  readonly numIndirectTabent: number;
}
/** RSS parameters with the table and key found at the offsets the object gives. */
export interface NdisRecvScaleParams {
  readonly hdr: NdisObjHeader;
  readonly flag: number;
  readonly baseCpuNumber: number;
  readonly hashinfo: number;
  readonly indirectTabsize: number;
  readonly indirectTaboffset: number;
  readonly hashkeySize: number;
  readonly hashkeyOffset: number;
  readonly processorMasksOffset: number;
  readonly numProcessorMasks: number;
  readonly processorMasksEntrySize: number;
  readonly itab: readonly number[];
  readonly keyp: Uint8Array;
}

export function parseOffload(dv: DataView, at: number, len: number): NdisOffload {
  return decodeSized(ndisOffload, dv, at, len, REPR) as unknown as NdisOffload;
}
export function offloadSize(o: NdisOffload): number {
  return sizedLength(ndisOffload, o as unknown as ValueObject, REPR);
}
export function emitOffload(o: NdisOffload, dv: DataView, at: number): number {
  const n = offloadSize(o);
  encodeSized(ndisOffload, o as unknown as ValueObject, dv, at, n, REPR);
  return n;
}

export function parseOffloadParams(dv: DataView, at: number, len: number): NdisOffloadParams {
  return decodeSized(ndisOffloadParams, dv, at, len, REPR) as unknown as NdisOffloadParams;
}
export function emitOffloadParams(o: NdisOffloadParams, dv: DataView, at: number): number {
  const n = sizedLength(ndisOffloadParams, o as unknown as ValueObject, REPR);
  encodeSized(ndisOffloadParams, o as unknown as ValueObject, dv, at, n, REPR);
  return n;
}

export function parseRssCaps(dv: DataView, at: number, len: number): NdisRecvScaleCap {
  need(0, ndisRecvScaleCap.size, len, 'ndis_recv_scale_cap');
  return decodeLayout(ndisRecvScaleCap, dv, at, ndisRecvScaleCap.size, REPR) as unknown as NdisRecvScaleCap;
}
export function emitRssCaps(c: NdisRecvScaleCap, dv: DataView, at: number): number {
  encodeLayout(ndisRecvScaleCap, c as unknown as ValueObject, dv, at, ndisRecvScaleCap.size, REPR);
  return ndisRecvScaleCap.size;
}

/** Parses RSS parameters; itab and keyp are read at indirect_taboffset/hashkey_offset, in any order. */
export function parseRssParams(dv: DataView, at: number, len: number): NdisRecvScaleParams {
  return decodeRssParamsWithTables(dv, at, len, REPR) as unknown as NdisRecvScaleParams;
}
export function rssParamsLength(p: NdisRecvScaleParams): number {
  return rssParamsSize(p as unknown as ValueObject, REPR);
}
export function emitRssParams(p: NdisRecvScaleParams, dv: DataView, at: number): number {
  return encodeRssParamsWithTables(p as unknown as ValueObject, dv, at, REPR);
}
