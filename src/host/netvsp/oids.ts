/**
 * RNDIS OIDs the host answers (protocol.md §5.8, §3.6 step 8): every query the Linux guest makes,
 * the general ones (supported list, media, statistics), and the sets (packet filter, offload
 * parameters, RSS parameters, NetworkAddress). Replies are built with the src/wire emitters.
 */
import * as W from '../../wire/index.js';
import type { NdisOffload, NdisRecvScaleParams } from '../../wire/index.js';
import { isNetvscError, WireError } from '../../core/index.js';
import type { NicState } from './nic-state.js';

/** A query's answer: RNDIS status and info bytes. */
export interface OidAnswer {
  readonly status: number;
  readonly info: Uint8Array;
}

/** Statistics the general OIDs report, read from the NIC's counters. */
export interface OidStats {
  xmitOk: number;
  rcvOk: number;
  xmitError: number;
  rcvError: number;
  rcvNoBuffer: number;
}

export const SUPPORTED_OIDS: readonly number[] = [
  W.RNDIS_OID_GEN_SUPPORTED_LIST, W.RNDIS_OID_GEN_HARDWARE_STATUS, W.RNDIS_OID_GEN_MEDIA_SUPPORTED,
  W.RNDIS_OID_GEN_MEDIA_IN_USE, W.RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE, W.RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE,
  W.RNDIS_OID_GEN_LINK_SPEED, W.RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER,
  W.RNDIS_OID_GEN_FRIENDLY_NAME, W.RNDIS_OID_GEN_VENDOR_ID, W.RNDIS_OID_GEN_VENDOR_DESCRIPTION,
  W.RNDIS_OID_GEN_MAXIMUM_SEND_PACKETS, W.RNDIS_OID_GEN_XMIT_OK, W.RNDIS_OID_GEN_RCV_OK,
  W.RNDIS_OID_GEN_XMIT_ERROR, W.RNDIS_OID_GEN_RCV_ERROR, W.RNDIS_OID_GEN_RCV_NO_BUFFER,
  W.RNDIS_OID_802_3_PERMANENT_ADDRESS, W.RNDIS_OID_802_3_CURRENT_ADDRESS, W.RNDIS_OID_802_3_MAXIMUM_LIST_SIZE,
  W.RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, W.OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, W.OID_TCP_OFFLOAD_PARAMETERS,
  W.OID_GEN_RECEIVE_SCALE_CAPABILITIES, W.OID_GEN_RECEIVE_SCALE_PARAMETERS,
];

/** Microsoft's IEEE OUI, which Hyper-V MACs (00:15:5d) carry; reported as the vendor id. */
const VENDOR_ID = 0x00155d;
const VENDOR_DESCRIPTION = 'Microsoft Hyper-V Network Adapter';

const ok = (info: Uint8Array): OidAnswer => ({ status: W.RNDIS_STATUS_SUCCESS, info });
const fail = (status: number): OidAnswer => ({ status, info: new Uint8Array(0) });

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
function u64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(v))), true);
  return b;
}
/** NUL-terminated UTF-16LE, the NDIS string form (§3.6 step 8.3: UCS-2). */
function ucs2(s: string): Uint8Array {
  const b = new Uint8Array((s.length + 1) * 2);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < s.length; i++) dv.setUint16(2 * i, s.charCodeAt(i), true);
  return b;
}

/**
 * The ndis_offload the host reports (§5.9), sized by the revision of the guest's input header
 * (1 → 112, 2 → 144, 3 → 156; §5.8) and filled from the profile.
 */
export function offloadCaps(st: NicState, revision: number): Uint8Array {
  const p = st.profile;
  const rev = revision >= 3 ? 3 : revision === 2 ? 2 : 1;
  const size = rev === 3 ? W.NDIS_OFFLOAD_SIZE : rev === 2 ? W.NDIS_OFFLOAD_SIZE_6_1 : W.NDIS_OFFLOAD_SIZE_6_0;
  const c = p.checksum;
  const v4 = W.NDIS_TXCSUM_CAP_IP4 | W.NDIS_TXCSUM_CAP_IP4OPT | (c.tcp4 ? W.NDIS_TXCSUM_CAP_TCP4 | W.NDIS_TXCSUM_CAP_TCP4OPT : 0) | (c.udp4 ? W.NDIS_TXCSUM_CAP_UDP4 : 0);
  const v6 = W.NDIS_TXCSUM_CAP_IP6EXT | (c.tcp6 ? W.NDIS_TXCSUM_CAP_TCP6 | W.NDIS_TXCSUM_CAP_TCP6OPT : 0) | (c.udp6 ? W.NDIS_TXCSUM_CAP_UDP6 : 0);
  const e = W.NDIS_OFFLOAD_ENCAP_8023;
  const l = p.lsoV2;
  const o: NdisOffload = {
    header: { type: W.NDIS_OBJECT_TYPE_OFFLOAD, revision: rev, size },
    csum: { ip4Txenc: e, ip4Txcsum: v4, ip4Rxenc: e, ip4Rxcsum: v4, ip6Txenc: e, ip6Txcsum: v6, ip6Rxenc: e, ip6Rxcsum: v6 },
    lsov2: {
      ip4Encap: l.ipv4 ? e : 0, ip4Maxsz: l.ipv4 ? l.maxSizeBytes : 0, ip4Minsg: l.ipv4 ? l.minSegments : 0,
      ip6Encap: l.ipv6 ? e : 0, ip6Maxsz: l.ipv6 ? l.maxSizeBytes : 0, ip6Minsg: l.ipv6 ? l.minSegments : 0,
      ip6Opts: l.ipv6 ? W.NDIS_LSOV2_CAP_IP6 : 0,
    },
    ...(rev === 3 ? { rsc: { ip4: p.rsc ? 1 : 0, ip6: p.rsc ? 1 : 0 } } : {}),
  };
  const out = new Uint8Array(size);
  W.emitOffload(o, new DataView(out.buffer), 0);
  return out;
}

/** Answers a QUERY. `input` is the request's info buffer (the offload/RSS input headers, §5.8). */
export function queryOid(oid: number, input: Uint8Array, st: NicState, stats: OidStats): OidAnswer {
  switch (oid) {
    case W.RNDIS_OID_GEN_SUPPORTED_LIST: {
      const b = new Uint8Array(4 * SUPPORTED_OIDS.length);
      const dv = new DataView(b.buffer);
      SUPPORTED_OIDS.forEach((v, i) => dv.setUint32(4 * i, v >>> 0, true));
      return ok(b);
    }
    case W.RNDIS_OID_GEN_HARDWARE_STATUS:
      return ok(u32(0)); // NdisHardwareStatusReady
    case W.RNDIS_OID_GEN_MEDIA_SUPPORTED:
    case W.RNDIS_OID_GEN_MEDIA_IN_USE:
      return ok(u32(W.RNDIS_MEDIUM_802_3));
    case W.RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE:
      return ok(u32(st.ndisMtu - 14)); // the MTU: Linux lowers its MTU to it if smaller (§3.6 8.1)
    case W.RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE:
      return ok(u32(st.ndisMtu));
    case W.RNDIS_OID_GEN_MAXIMUM_SEND_PACKETS:
      return ok(u32(st.profile.maxPktPerMsg));
    case W.RNDIS_OID_GEN_LINK_SPEED:
      return ok(u32(st.linkSpeed100bps));
    case W.RNDIS_OID_GEN_MEDIA_CONNECT_STATUS:
      return ok(u32(st.linkUp ? 0 : 1)); // 0 = connected (§3.6 8.6)
    case W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER:
      return ok(u32(st.packetFilter));
    case W.RNDIS_OID_GEN_FRIENDLY_NAME:
      return ok(ucs2(st.name));
    case W.RNDIS_OID_GEN_VENDOR_ID:
      return ok(u32(VENDOR_ID));
    case W.RNDIS_OID_GEN_VENDOR_DESCRIPTION:
      return ok(new TextEncoder().encode(VENDOR_DESCRIPTION + '\0'));
    case W.RNDIS_OID_802_3_PERMANENT_ADDRESS:
      return ok(st.permanentMac.slice(0, 6));
    case W.RNDIS_OID_802_3_CURRENT_ADDRESS:
      return ok(st.mac.slice(0, 6));
    case W.RNDIS_OID_802_3_MAXIMUM_LIST_SIZE:
      return ok(u32(32));
    case W.RNDIS_OID_GEN_XMIT_OK:
      return ok(u64(stats.xmitOk));
    case W.RNDIS_OID_GEN_RCV_OK:
      return ok(u64(stats.rcvOk));
    case W.RNDIS_OID_GEN_XMIT_ERROR:
      return ok(u64(stats.xmitError));
    case W.RNDIS_OID_GEN_RCV_ERROR:
      return ok(u64(stats.rcvError));
    case W.RNDIS_OID_GEN_RCV_NO_BUFFER:
      return ok(u64(stats.rcvNoBuffer));
    case W.OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES: {
      // The input is an ndis_offload header {0xA7, revision, size} (§5.8); revision picks the size.
      if (input.length < 4 || input[0] !== W.NDIS_OBJECT_TYPE_OFFLOAD) return fail(W.RNDIS_STATUS_INVALID_DATA);
      return ok(offloadCaps(st, input[1]!));
    }
    case W.OID_GEN_RECEIVE_SCALE_CAPABILITIES: {
      if (st.profile.maxQueues < 2 || st.nvspVersion < W.NVSP_PROTOCOL_VERSION_5) return fail(W.RNDIS_STATUS_NOT_SUPPORTED);
      const b = new Uint8Array(18);
      W.emitRssCaps(
        {
          hdr: { type: W.NDIS_OBJECT_TYPE_RSS_CAPABILITIES, rev: 2, size: 18 },
          capFlag: W.NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV4 | W.NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6 | W.NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6_EX,
          numIntMsg: st.profile.maxQueues,
          numRecvQue: st.profile.maxQueues,
          numIndirectTabent: st.profile.indirectionTableSize,
        },
        new DataView(b.buffer),
        0,
      );
      return ok(b);
    }
    default:
      return fail(W.RNDIS_STATUS_NOT_SUPPORTED);
  }
}

/** Applies a SET; returns the RNDIS status. `msg` is the parsed SET (info found by its OID). */
export function setOid(msg: Extract<W.RndisMessage, { ndisMsgType: typeof W.RNDIS_MSG_SET }>, st: NicState): number {
  try {
    switch (msg.oid) {
      case W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER:
        if (msg.newFilter === undefined) return W.RNDIS_STATUS_INVALID_LENGTH;
        st.packetFilter = msg.newFilter >>> 0;
        return W.RNDIS_STATUS_SUCCESS;
      case W.OID_TCP_OFFLOAD_PARAMETERS:
        return setOffloadParams(msg.offloadParams, st);
      case W.OID_GEN_RECEIVE_SCALE_PARAMETERS:
        return setRssParams(msg, st);
      case W.RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER:
        return setConfigParameter(msg.cfgNwadr, msg.cfgMac, st);
      default:
        return W.RNDIS_STATUS_NOT_SUPPORTED;
    }
  } catch (e) {
    if (isNetvscError(e)) return W.RNDIS_STATUS_INVALID_DATA;
    throw e;
  }
}

type Obj = { readonly [k: string]: unknown };

/** §5.9: 22 bytes (NVSP ≤ 4) or 28; records each non-zero ("change") field. */
function setOffloadParams(p: Obj | undefined, st: NicState): number {
  const header = p?.['header'] as { type: number; size: number } | undefined;
  if (!p || !header || header.type !== W.NDIS_OBJECT_TYPE_DEFAULT || (header.size !== 22 && header.size !== 28)) return W.RNDIS_STATUS_INVALID_DATA;
  st.offload.size = header.size;
  for (const [k, v] of Object.entries(p)) if (k !== 'header' && typeof v === 'number' && v !== 0) st.offload.raw[k] = v;
  return W.RNDIS_STATUS_SUCCESS;
}

/**
 * §5.10: the table and key come from the offsets the message gives (parsed by src/wire);
 * entries must name an open channel, the table fit the size we report, the key be 40 bytes.
 */
function setRssParams(msg: { readonly rssp?: Obj; readonly itab?: readonly number[]; readonly keyp?: Uint8Array }, st: NicState): number {
  const p = msg.rssp as Partial<NdisRecvScaleParams> | undefined;
  if (!p || p.hdr?.type !== W.NDIS_OBJECT_TYPE_RSS_PARAMETERS) return W.RNDIS_STATUS_INVALID_DATA;
  const flag = p.flag ?? 0;
  if ((flag & W.NDIS_RSS_PARAM_FLAG_DISABLE_RSS) !== 0) {
    st.disableRss();
    return W.RNDIS_STATUS_SUCCESS;
  }
  const table = msg.itab ?? [];
  const max = Math.max(st.profile.indirectionTableSize, 1);
  if ((flag & W.NDIS_RSS_PARAM_FLAG_ITABLE_UNCHANGED) === 0) {
    if (table.length === 0 || table.length > Math.max(max, 256)) return W.RNDIS_STATUS_INVALID_LENGTH;
    for (const e of table) if (e >= st.channelCount) return W.RNDIS_STATUS_INVALID_DATA;
  }
  let key: Uint8Array | null = null;
  if ((flag & W.NDIS_RSS_PARAM_FLAG_HASH_KEY_UNCHANGED) === 0) {
    if (!msg.keyp || msg.keyp.length !== W.NETVSC_HASH_KEYLEN) return W.RNDIS_STATUS_INVALID_LENGTH;
    key = msg.keyp;
  } else if (!st.rss.tables) return W.RNDIS_STATUS_INVALID_DATA;
  const newTable = (flag & W.NDIS_RSS_PARAM_FLAG_ITABLE_UNCHANGED) === 0 ? table : Array.from(st.rss.table);
  const hashInfo = (flag & W.NDIS_RSS_PARAM_FLAG_HASH_INFO_UNCHANGED) === 0 ? (p.hashinfo ?? 0) : st.rss.hashInfo;
  st.setRss(hashInfo, newTable, key);
  return W.RNDIS_STATUS_SUCCESS;
}

/** §5.12: name "NetworkAddress" (UTF-16LE), value 12 hex digits (UTF-16LE). */
function setConfigParameter(name: Uint8Array | undefined, value: Uint8Array | undefined, st: NicState): number {
  if (!name || !value) return W.RNDIS_STATUS_INVALID_DATA;
  const str = (b: Uint8Array): string => {
    if (b.length % 2 !== 0) throw new WireError('MALFORMED', 'UTF-16 string of odd length');
    let s = '';
    for (let i = 0; i < b.length; i += 2) s += String.fromCharCode(b[i]! | (b[i + 1]! << 8));
    return s.replace(/\0+$/, '');
  };
  if (str(name) !== 'NetworkAddress') return W.RNDIS_STATUS_NOT_SUPPORTED;
  const hex = str(value);
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) return W.RNDIS_STATUS_INVALID_DATA;
  const mac = W.hexToBytes(hex);
  if ((mac[0]! & 1) !== 0) return W.RNDIS_STATUS_INVALID_DATA; // a group address cannot be a station MAC
  st.setMac(mac);
  return W.RNDIS_STATUS_SUCCESS;
}
