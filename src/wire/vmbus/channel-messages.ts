/**
 * VMBus channel-management messages (protocol.md §2.12–2.13): the ≤ 240-byte SynIC message
 * payloads that offer, open, close and rescind channels and establish GPADLs. Control path:
 * plain readonly objects discriminated by `msgtype`, with parse/emit. Offsets are in table F.
 */
import { WireError } from '../../core/index.js';
import {
  CHANNELMSG_ALLOFFERS_DELIVERED,
  CHANNELMSG_CLOSECHANNEL,
  CHANNELMSG_GPADL_BODY,
  CHANNELMSG_GPADL_CREATED,
  CHANNELMSG_GPADL_HEADER,
  CHANNELMSG_GPADL_TEARDOWN,
  CHANNELMSG_GPADL_TORNDOWN,
  CHANNELMSG_OFFERCHANNEL,
  CHANNELMSG_OPENCHANNEL,
  CHANNELMSG_OPENCHANNEL_RESULT,
  CHANNELMSG_RELID_RELEASED,
  CHANNELMSG_REQUESTOFFERS,
  CHANNELMSG_RESCIND_CHANNELOFFER,
  MAX_USER_DEFINED_BYTES,
} from '../constants.js';

/** SynIC message payload limit (§2.12). */
export const VMBUS_MESSAGE_MAX = 240;
/** PFNs that fit in a GPADL_HEADER with one range: (240 − 20 − 8) / 8 (§2.12). */
export const GPADL_HEADER_MAX_PFNS = 26;
/** PFNs that fit in a GPADL_BODY: (240 − 16) / 8 (§2.12). */
export const GPADL_BODY_MAX_PFNS = 28;
/** The synthetic network device class, {f8615163-df3e-46c5-913f-f2d2f965ed0e} (§2.13). */
export const HV_NIC_GUID = 'f8615163-df3e-46c5-913f-f2d2f965ed0e';

/** Field offsets from the start of each message (after the 8-byte {msgtype, padding} header). */
const F = {
  msgtype: 0,
  offer: { ifType: 8, ifInstance: 24, chnFlags: 56, mmioMegabytes: 58, userDef: 60, subChannelIndex: 180, childRelid: 184, monitorId: 188, monitorAllocated: 189, isDedicatedInterrupt: 190, connectionId: 192, size: 196 },
  open: { childRelid: 8, openId: 12, ringBufferGpadlHandle: 16, targetVp: 20, downstreamRingBufferPageOffset: 24, userData: 28, size: 148 },
  openResult: { childRelid: 8, openId: 12, status: 16, size: 20 },
  relid: { childRelid: 8, size: 12 },
  gpadlHeader: { childRelid: 8, gpadl: 12, rangeBufLen: 16, rangeCount: 18, byteCount: 20, byteOffset: 24, pfn: 28 },
  gpadlBody: { msgNumber: 8, gpadl: 12, pfn: 16 },
  gpadlCreated: { childRelid: 8, gpadl: 12, creationStatus: 16, size: 20 },
  gpadlTeardown: { childRelid: 8, gpadl: 12, size: 16 },
  gpadlTorndown: { gpadl: 8, size: 12 },
} as const;

export interface OfferChannel {
  readonly msgtype: typeof CHANNELMSG_OFFERCHANNEL;
  readonly ifType: string;
  readonly ifInstance: string;
  readonly chnFlags: number;
  readonly mmioMegabytes: number;
  /** 120 bytes of user_def; zeros when absent. */
  readonly userDefined: Uint8Array;
  readonly subChannelIndex: number;
  readonly childRelid: number;
  readonly monitorId: number;
  readonly monitorAllocated: boolean;
  readonly isDedicatedInterrupt: boolean;
  readonly connectionId: number;
}
export interface RescindChannelOffer { readonly msgtype: typeof CHANNELMSG_RESCIND_CHANNELOFFER; readonly childRelid: number }
export interface RequestOffers { readonly msgtype: typeof CHANNELMSG_REQUESTOFFERS }
export interface AllOffersDelivered { readonly msgtype: typeof CHANNELMSG_ALLOFFERS_DELIVERED }
export interface OpenChannel {
  readonly msgtype: typeof CHANNELMSG_OPENCHANNEL;
  readonly childRelid: number;
  readonly openId: number;
  readonly ringBufferGpadlHandle: number;
  readonly targetVp: number;
  /** Where the host→guest ring starts in the ring GPADL, in 4 KiB pages (§2.1). */
  readonly downstreamRingBufferPageOffset: number;
  readonly userData: Uint8Array;
}
export interface OpenChannelResult { readonly msgtype: typeof CHANNELMSG_OPENCHANNEL_RESULT; readonly childRelid: number; readonly openId: number; readonly status: number }
export interface CloseChannel { readonly msgtype: typeof CHANNELMSG_CLOSECHANNEL; readonly childRelid: number }
export interface RelidReleased { readonly msgtype: typeof CHANNELMSG_RELID_RELEASED; readonly childRelid: number }
export interface GpadlHeader {
  readonly msgtype: typeof CHANNELMSG_GPADL_HEADER;
  readonly childRelid: number;
  readonly gpadl: number;
  /** 8 + 8 × total PFNs of the range (all messages together). */
  readonly rangeBufLen: number;
  readonly rangeCount: number;
  readonly byteCount: number;
  readonly byteOffset: number;
  /** The PFNs carried in this message (at most 26); the rest follow in GPADL_BODY messages. */
  readonly pfns: readonly number[];
}
export interface GpadlBody { readonly msgtype: typeof CHANNELMSG_GPADL_BODY; readonly msgNumber: number; readonly gpadl: number; readonly pfns: readonly number[] }
export interface GpadlCreated { readonly msgtype: typeof CHANNELMSG_GPADL_CREATED; readonly childRelid: number; readonly gpadl: number; readonly creationStatus: number }
export interface GpadlTeardown { readonly msgtype: typeof CHANNELMSG_GPADL_TEARDOWN; readonly childRelid: number; readonly gpadl: number }
export interface GpadlTorndown { readonly msgtype: typeof CHANNELMSG_GPADL_TORNDOWN; readonly gpadl: number }

export type ChannelMessage =
  | OfferChannel
  | RescindChannelOffer
  | RequestOffers
  | AllOffersDelivered
  | OpenChannel
  | OpenChannelResult
  | CloseChannel
  | RelidReleased
  | GpadlHeader
  | GpadlBody
  | GpadlCreated
  | GpadlTeardown
  | GpadlTorndown;

/** Writes a GUID in its Windows byte order: first three fields little-endian, last eight as written. */
export function emitGuid(guid: string, dv: DataView, at: number): void {
  const hex = guid.replace(/[{}-]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new WireError('MALFORMED', `bad GUID ${guid}`);
  dv.setUint32(at, parseInt(hex.slice(0, 8), 16), true);
  dv.setUint16(at + 4, parseInt(hex.slice(8, 12), 16), true);
  dv.setUint16(at + 6, parseInt(hex.slice(12, 16), 16), true);
  for (let i = 0; i < 8; i++) dv.setUint8(at + 8 + i, parseInt(hex.slice(16 + 2 * i, 18 + 2 * i), 16));
}

export function parseGuid(dv: DataView, at: number): string {
  const h = (v: number, n: number): string => v.toString(16).padStart(n, '0');
  let tail = '';
  for (let i = 0; i < 8; i++) tail += h(dv.getUint8(at + 8 + i), 2);
  return `${h(dv.getUint32(at, true), 8)}-${h(dv.getUint16(at + 4, true), 4)}-${h(dv.getUint16(at + 6, true), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

/** Bytes the message occupies on the SynIC path. */
export function channelMessageSize(m: ChannelMessage): number {
  switch (m.msgtype) {
    case CHANNELMSG_OFFERCHANNEL:
      return F.offer.size;
    case CHANNELMSG_RESCIND_CHANNELOFFER:
    case CHANNELMSG_CLOSECHANNEL:
    case CHANNELMSG_RELID_RELEASED:
      return F.relid.size;
    case CHANNELMSG_REQUESTOFFERS:
    case CHANNELMSG_ALLOFFERS_DELIVERED:
      return 8;
    case CHANNELMSG_OPENCHANNEL:
      return F.open.size;
    case CHANNELMSG_OPENCHANNEL_RESULT:
      return F.openResult.size;
    case CHANNELMSG_GPADL_HEADER:
      return F.gpadlHeader.pfn + 8 * m.pfns.length;
    case CHANNELMSG_GPADL_BODY:
      return F.gpadlBody.pfn + 8 * m.pfns.length;
    case CHANNELMSG_GPADL_CREATED:
      return F.gpadlCreated.size;
    case CHANNELMSG_GPADL_TEARDOWN:
      return F.gpadlTeardown.size;
    case CHANNELMSG_GPADL_TORNDOWN:
      return F.gpadlTorndown.size;
  }
}

/** Emits a message into a new buffer of exactly channelMessageSize() bytes. */
export function emitChannelMessage(m: ChannelMessage): Uint8Array {
  const size = channelMessageSize(m);
  if (size > VMBUS_MESSAGE_MAX) throw new WireError('MALFORMED', `channel message of ${size} B exceeds ${VMBUS_MESSAGE_MAX}`);
  const u8 = new Uint8Array(size);
  const dv = new DataView(u8.buffer);
  dv.setUint32(F.msgtype, m.msgtype, true);
  switch (m.msgtype) {
    case CHANNELMSG_OFFERCHANNEL: {
      const o = F.offer;
      emitGuid(m.ifType, dv, o.ifType);
      emitGuid(m.ifInstance, dv, o.ifInstance);
      dv.setUint16(o.chnFlags, m.chnFlags, true);
      dv.setUint16(o.mmioMegabytes, m.mmioMegabytes, true);
      u8.set(m.userDefined.subarray(0, MAX_USER_DEFINED_BYTES), o.userDef);
      dv.setUint16(o.subChannelIndex, m.subChannelIndex, true);
      dv.setUint32(o.childRelid, m.childRelid, true);
      dv.setUint8(o.monitorId, m.monitorId);
      dv.setUint8(o.monitorAllocated, m.monitorAllocated ? 1 : 0);
      dv.setUint16(o.isDedicatedInterrupt, m.isDedicatedInterrupt ? 1 : 0, true);
      dv.setUint32(o.connectionId, m.connectionId, true);
      break;
    }
    case CHANNELMSG_RESCIND_CHANNELOFFER:
    case CHANNELMSG_CLOSECHANNEL:
    case CHANNELMSG_RELID_RELEASED:
      dv.setUint32(F.relid.childRelid, m.childRelid, true);
      break;
    case CHANNELMSG_REQUESTOFFERS:
    case CHANNELMSG_ALLOFFERS_DELIVERED:
      break;
    case CHANNELMSG_OPENCHANNEL: {
      const o = F.open;
      dv.setUint32(o.childRelid, m.childRelid, true);
      dv.setUint32(o.openId, m.openId, true);
      dv.setUint32(o.ringBufferGpadlHandle, m.ringBufferGpadlHandle, true);
      dv.setUint32(o.targetVp, m.targetVp, true);
      dv.setUint32(o.downstreamRingBufferPageOffset, m.downstreamRingBufferPageOffset, true);
      u8.set(m.userData.subarray(0, MAX_USER_DEFINED_BYTES), o.userData);
      break;
    }
    case CHANNELMSG_OPENCHANNEL_RESULT:
      dv.setUint32(F.openResult.childRelid, m.childRelid, true);
      dv.setUint32(F.openResult.openId, m.openId, true);
      dv.setUint32(F.openResult.status, m.status, true);
      break;
    case CHANNELMSG_GPADL_HEADER: {
      const o = F.gpadlHeader;
      dv.setUint32(o.childRelid, m.childRelid, true);
      dv.setUint32(o.gpadl, m.gpadl, true);
      dv.setUint16(o.rangeBufLen, m.rangeBufLen, true);
      dv.setUint16(o.rangeCount, m.rangeCount, true);
      dv.setUint32(o.byteCount, m.byteCount, true);
      dv.setUint32(o.byteOffset, m.byteOffset, true);
      emitPfns(dv, o.pfn, m.pfns);
      break;
    }
    case CHANNELMSG_GPADL_BODY:
      dv.setUint32(F.gpadlBody.msgNumber, m.msgNumber, true);
      dv.setUint32(F.gpadlBody.gpadl, m.gpadl, true);
      emitPfns(dv, F.gpadlBody.pfn, m.pfns);
      break;
    case CHANNELMSG_GPADL_CREATED:
      dv.setUint32(F.gpadlCreated.childRelid, m.childRelid, true);
      dv.setUint32(F.gpadlCreated.gpadl, m.gpadl, true);
      dv.setUint32(F.gpadlCreated.creationStatus, m.creationStatus, true);
      break;
    case CHANNELMSG_GPADL_TEARDOWN:
      dv.setUint32(F.gpadlTeardown.childRelid, m.childRelid, true);
      dv.setUint32(F.gpadlTeardown.gpadl, m.gpadl, true);
      break;
    case CHANNELMSG_GPADL_TORNDOWN:
      dv.setUint32(F.gpadlTorndown.gpadl, m.gpadl, true);
      break;
  }
  return u8;
}

/**
 * Parses one message. Throws WireError TRUNCATED when the bytes are shorter than the message,
 * MALFORMED for a PFN list that is not whole, and UNSUPPORTED for a msgtype we do not handle.
 */
export function parseChannelMessage(u8: Uint8Array): ChannelMessage {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const len = u8.byteLength;
  const need = (n: number, what: string): void => {
    if (len < n) throw new WireError('TRUNCATED', `${what} of ${len} B, need ${n}`);
  };
  need(8, 'channel message');
  if (len > VMBUS_MESSAGE_MAX) throw new WireError('MALFORMED', `channel message of ${len} B exceeds ${VMBUS_MESSAGE_MAX}`);
  const msgtype = dv.getUint32(F.msgtype, true);
  const u32 = (at: number): number => dv.getUint32(at, true);
  switch (msgtype) {
    case CHANNELMSG_OFFERCHANNEL: {
      const o = F.offer;
      need(o.size, 'OFFERCHANNEL');
      return {
        msgtype,
        ifType: parseGuid(dv, o.ifType),
        ifInstance: parseGuid(dv, o.ifInstance),
        chnFlags: dv.getUint16(o.chnFlags, true),
        mmioMegabytes: dv.getUint16(o.mmioMegabytes, true),
        userDefined: u8.slice(o.userDef, o.userDef + MAX_USER_DEFINED_BYTES),
        subChannelIndex: dv.getUint16(o.subChannelIndex, true),
        childRelid: u32(o.childRelid),
        monitorId: dv.getUint8(o.monitorId),
        monitorAllocated: (dv.getUint8(o.monitorAllocated) & 1) !== 0,
        isDedicatedInterrupt: (dv.getUint16(o.isDedicatedInterrupt, true) & 1) !== 0,
        connectionId: u32(o.connectionId),
      };
    }
    case CHANNELMSG_RESCIND_CHANNELOFFER:
    case CHANNELMSG_CLOSECHANNEL:
    case CHANNELMSG_RELID_RELEASED:
      need(F.relid.size, 'relid message');
      return { msgtype, childRelid: u32(F.relid.childRelid) };
    case CHANNELMSG_REQUESTOFFERS:
    case CHANNELMSG_ALLOFFERS_DELIVERED:
      return { msgtype };
    case CHANNELMSG_OPENCHANNEL: {
      const o = F.open;
      need(o.size, 'OPENCHANNEL');
      return {
        msgtype,
        childRelid: u32(o.childRelid),
        openId: u32(o.openId),
        ringBufferGpadlHandle: u32(o.ringBufferGpadlHandle),
        targetVp: u32(o.targetVp),
        downstreamRingBufferPageOffset: u32(o.downstreamRingBufferPageOffset),
        userData: u8.slice(o.userData, o.userData + MAX_USER_DEFINED_BYTES),
      };
    }
    case CHANNELMSG_OPENCHANNEL_RESULT:
      need(F.openResult.size, 'OPENCHANNEL_RESULT');
      return { msgtype, childRelid: u32(F.openResult.childRelid), openId: u32(F.openResult.openId), status: u32(F.openResult.status) };
    case CHANNELMSG_GPADL_HEADER: {
      const o = F.gpadlHeader;
      need(o.pfn, 'GPADL_HEADER');
      const rangeBufLen = dv.getUint16(o.rangeBufLen, true);
      const rangeCount = dv.getUint16(o.rangeCount, true);
      if (rangeCount !== 1 || rangeBufLen < 16 || rangeBufLen % 8 !== 0) {
        throw new WireError('MALFORMED', `GPADL_HEADER with ${rangeCount} ranges in ${rangeBufLen} B`);
      }
      const total = (rangeBufLen - 8) / 8;
      const here = Math.min(total, GPADL_HEADER_MAX_PFNS);
      need(o.pfn + 8 * here, 'GPADL_HEADER PFN list');
      return {
        msgtype,
        childRelid: u32(o.childRelid),
        gpadl: u32(o.gpadl),
        rangeBufLen,
        rangeCount,
        byteCount: u32(o.byteCount),
        byteOffset: u32(o.byteOffset),
        pfns: parsePfns(dv, o.pfn, here),
      };
    }
    case CHANNELMSG_GPADL_BODY: {
      const o = F.gpadlBody;
      need(o.pfn + 8, 'GPADL_BODY');
      if ((len - o.pfn) % 8 !== 0) throw new WireError('MALFORMED', `GPADL_BODY PFN list of ${len - o.pfn} B`);
      return { msgtype, msgNumber: u32(o.msgNumber), gpadl: u32(o.gpadl), pfns: parsePfns(dv, o.pfn, (len - o.pfn) / 8) };
    }
    case CHANNELMSG_GPADL_CREATED:
      need(F.gpadlCreated.size, 'GPADL_CREATED');
      return { msgtype, childRelid: u32(F.gpadlCreated.childRelid), gpadl: u32(F.gpadlCreated.gpadl), creationStatus: u32(F.gpadlCreated.creationStatus) };
    case CHANNELMSG_GPADL_TEARDOWN:
      need(F.gpadlTeardown.size, 'GPADL_TEARDOWN');
      return { msgtype, childRelid: u32(F.gpadlTeardown.childRelid), gpadl: u32(F.gpadlTeardown.gpadl) };
    case CHANNELMSG_GPADL_TORNDOWN:
      need(F.gpadlTorndown.size, 'GPADL_TORNDOWN');
      return { msgtype, gpadl: u32(F.gpadlTorndown.gpadl) };
    default:
      throw new WireError('UNSUPPORTED', `channel message type ${msgtype}`);
  }
}

/**
 * The GPADL_HEADER + GPADL_BODY messages that describe `pfns` as one range of `byteCount` bytes at
 * offset 0, as Linux sends them (§2.12): 26 PFNs in the header, 28 per body, msgnumber counting from 1.
 */
export function gpadlMessages(childRelid: number, gpadl: number, pfns: readonly number[], byteCount = pfns.length * 4096): ChannelMessage[] {
  const out: ChannelMessage[] = [
    {
      msgtype: CHANNELMSG_GPADL_HEADER,
      childRelid,
      gpadl,
      rangeBufLen: 8 + 8 * pfns.length,
      rangeCount: 1,
      byteCount,
      byteOffset: 0,
      pfns: pfns.slice(0, GPADL_HEADER_MAX_PFNS),
    },
  ];
  for (let at = GPADL_HEADER_MAX_PFNS, n = 1; at < pfns.length; at += GPADL_BODY_MAX_PFNS, n++) {
    out.push({ msgtype: CHANNELMSG_GPADL_BODY, msgNumber: n, gpadl, pfns: pfns.slice(at, at + GPADL_BODY_MAX_PFNS) });
  }
  return out;
}

function emitPfns(dv: DataView, at: number, pfns: readonly number[]): void {
  pfns.forEach((pfn, i) => {
    dv.setUint32(at + 8 * i, pfn % 0x100000000, true);
    dv.setUint32(at + 8 * i + 4, Math.floor(pfn / 0x100000000), true);
  });
}

function parsePfns(dv: DataView, at: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(dv.getUint32(at + 8 * i, true) + dv.getUint32(at + 8 * i + 4, true) * 0x100000000);
  return out;
}
