import {
  ITAB_NUM,
  ITAB_NUM_MAX,
  NDIS_HASH_FUNC_TOEPLITZ,
  NDIS_HASH_IPV4,
  NDIS_HASH_IPV6,
  NDIS_HASH_TCP_IPV4,
  NDIS_HASH_TCP_IPV6,
  NDIS_OBJECT_TYPE_RSS_CAPABILITIES,
  NDIS_OBJECT_TYPE_RSS_PARAMETERS,
  NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_2,
  NDIS_RECEIVE_SCALE_PARAMETERS_REVISION_2,
  NETVSC_HASH_KEY_HEX,
  VRSS_CHANNEL_MAX,
  VRSS_SEND_TAB_SIZE,
  emitRssCaps,
  hexToBytes,
  structSizes,
  type NdisRecvScaleCap,
} from '../../wire/index.js';

/** sizeof(struct ndis_recv_scale_param) = 40 (§5.10), from the kernel-derived table. */
const RSS_PARAM_SIZE = structSizes['struct ndis_recv_scale_param'];
/** TOEPLITZ | IPV4 | TCP_IPV4 | IPV6 | TCP_IPV6 = 0x1701 (§5.10). */
export const RSS_HASHINFO = NDIS_HASH_FUNC_TOEPLITZ | NDIS_HASH_IPV4 | NDIS_HASH_TCP_IPV4 | NDIS_HASH_IPV6 | NDIS_HASH_TCP_IPV6;

/** The RSS-caps query input: an 18-byte object with only its header set (§5.8). */
export function rssCapsQueryInput(): Uint8Array {
  const out = new Uint8Array(18);
  emitRssCaps({ hdr: { type: NDIS_OBJECT_TYPE_RSS_CAPABILITIES, rev: NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_2, size: 18 }, capFlag: 0, numIntMsg: 0, numRecvQue: 0, numIndirectTabent: 0 }, new DataView(out.buffer), 0);
  return out;
}

/** §3.6 step 9 and §8 item 47: table size and the channel ceiling from the host's caps. */
export function planChannels(caps: NdisRecvScaleCap | null, requested: number): { maxChn: number; tableSize: number } {
  if (!caps || caps.numRecvQue < 2) return { maxChn: 1, tableSize: ITAB_NUM };
  const n = caps.numIndirectTabent;
  const tableSize = n >= 1 && n <= ITAB_NUM_MAX ? n : ITAB_NUM;
  const maxChn = Math.min(VRSS_CHANNEL_MAX, caps.numRecvQue, Math.max(1, requested));
  return { maxChn, tableSize };
}

/** The default even spread (entry i = i mod n). */
export function defaultTable(size: number, n: number): number[] {
  return Array.from({ length: size }, (_, i) => i % n);
}

/** tx_table after sub-channels open: i mod num_chn for the 16 entries (§3.6 step 10.4). */
export function defaultSendTable(n: number): Uint32Array {
  const t = new Uint32Array(VRSS_SEND_TAB_SIZE);
  for (let i = 0; i < t.length; i++) t[i] = i % n;
  return t;
}

export const DEFAULT_RSS_KEY: Uint8Array = hexToBytes(NETVSC_HASH_KEY_HEX);

/** The SET body of OID_GEN_RECEIVE_SCALE_PARAMETERS for emitRndis, and its length (40 + 4N + 40). */
export function rssParamsSet(table: readonly number[], key: Uint8Array, flag: number): { len: number; body: Record<string, unknown> } {
  const n = table.length;
  const len = RSS_PARAM_SIZE + 4 * n + key.length;
  const rssp = {
    hdr: { type: NDIS_OBJECT_TYPE_RSS_PARAMETERS, rev: NDIS_RECEIVE_SCALE_PARAMETERS_REVISION_2, size: RSS_PARAM_SIZE },
    flag,
    baseCpuNumber: 0,
    hashinfo: RSS_HASHINFO,
    indirectTabsize: 4 * n,
    indirectTaboffset: RSS_PARAM_SIZE,
    hashkeySize: key.length,
    hashkeyOffset: RSS_PARAM_SIZE + 4 * n,
    processorMasksOffset: 0,
    numProcessorMasks: 0,
    processorMasksEntrySize: 0,
  };
  return { len, body: { rssp, itab: [...table], keyp: key } };
}
