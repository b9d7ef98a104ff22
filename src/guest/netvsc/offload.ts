import {
  NDIS_LSOV2_CAP_IP6,
  NDIS_OBJECT_TYPE_DEFAULT,
  NDIS_OBJECT_TYPE_OFFLOAD,
  NDIS_OFFLOAD_ENCAP_8023,
  NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED,
  NDIS_OFFLOAD_PARAMETERS_REVISION_3,
  NDIS_OFFLOAD_PARAMETERS_RSC_DISABLED,
  NDIS_OFFLOAD_PARAMETERS_RSC_ENABLED,
  NDIS_OFFLOAD_PARAMETERS_TX_RX_DISABLED,
  NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED,
  NDIS_OFFLOAD_SIZE,
  NDIS_OFFLOAD_SIZE_6_0,
  NDIS_OFFLOAD_SIZE_6_1,
  NDIS_TXCSUM_ALL_TCP4,
  NDIS_TXCSUM_ALL_TCP6,
  NDIS_TXCSUM_CAP_UDP4,
  NDIS_TXCSUM_CAP_UDP6,
  NVSP_PROTOCOL_VERSION_4,
  NVSP_PROTOCOL_VERSION_5,
  VERSION_4_OFFLOAD_SIZE,
  type NdisObjectHeader,
  type NdisOffload,
  type NdisOffloadParams,
} from '../../wire/index.js';
import { ProtocolError } from '../../core/index.js';

/** The NDIS object header of the hardware-caps query input, by NVSP version (§5.8). */
export function offloadQueryHeader(nvsp: number): NdisObjectHeader {
  if (nvsp >= NVSP_PROTOCOL_VERSION_5) return { type: NDIS_OBJECT_TYPE_OFFLOAD, revision: 3, size: NDIS_OFFLOAD_SIZE };
  if (nvsp >= NVSP_PROTOCOL_VERSION_4) return { type: NDIS_OBJECT_TYPE_OFFLOAD, revision: 2, size: NDIS_OFFLOAD_SIZE_6_1 };
  return { type: NDIS_OBJECT_TYPE_OFFLOAD, revision: 1, size: NDIS_OFFLOAD_SIZE_6_0 };
}

/** Checks the host's capabilities (§8 item 46); a failure fails device initialisation. */
export function validateHwCaps(caps: NdisOffload, returned: number): void {
  const h = caps.header;
  if (h.type !== NDIS_OBJECT_TYPE_OFFLOAD || h.revision < 1 || h.size > returned || h.size < NDIS_OFFLOAD_SIZE_6_0) {
    throw new ProtocolError('MALFORMED', `offload caps header {type 0x${h.type.toString(16)}, revision ${h.revision}, size ${h.size}} of ${returned} B`);
  }
}

/** TX checksum classes the host takes (the Linux mask, §6.1): IPV4_TCP 1, IPV4_UDP 2, IPV6_TCP 0x10, IPV6_UDP 0x20. */
export interface OffloadPlan {
  readonly params: NdisOffloadParams;
  /** Bytes sent: 22 for NVSP ≤ 4, 28 otherwise (§5.9). */
  readonly size: number;
  readonly txCsumMask: number;
  readonly tso4: boolean;
  readonly tso6: boolean;
  readonly lro: boolean;
  readonly gsoMax: number;
}

/** rndis_netdev_set_hwcaps (§6.1): what to enable from what the host offers. */
export function planOffload(caps: NdisOffload, nvsp: number, lroWanted = true): OffloadPlan {
  const g = (grp: { readonly [k: string]: number } | undefined, k: string): number => grp?.[k] ?? 0;
  const csum = caps.csum;
  const lso = caps.lsov2;
  const p: Record<string, number> = { ipV4Csum: NDIS_OFFLOAD_PARAMETERS_TX_RX_DISABLED };
  let mask = 0;
  let gsoMax = 65536;
  let tso4 = false;
  let tso6 = false;
  const ip4 = g(csum, 'ip4Txcsum');
  if ((ip4 & NDIS_TXCSUM_ALL_TCP4) === NDIS_TXCSUM_ALL_TCP4) {
    mask |= 0x01;
    p['tcpIpV4Csum'] = NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED;
    if (g(lso, 'ip4Encap') & NDIS_OFFLOAD_ENCAP_8023) {
      p['lsoV2Ipv4'] = NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED;
      tso4 = true;
      gsoMax = Math.min(gsoMax, g(lso, 'ip4Maxsz'));
    }
    if (ip4 & NDIS_TXCSUM_CAP_UDP4) {
      p['udpIpV4Csum'] = NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED;
      mask |= 0x02;
    }
  }
  const ip6 = g(csum, 'ip6Txcsum');
  if ((ip6 & NDIS_TXCSUM_ALL_TCP6) === NDIS_TXCSUM_ALL_TCP6) {
    mask |= 0x10;
    p['tcpIpV6Csum'] = NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED;
    if (g(lso, 'ip6Encap') & NDIS_OFFLOAD_ENCAP_8023 && (g(lso, 'ip6Opts') & NDIS_LSOV2_CAP_IP6) === NDIS_LSOV2_CAP_IP6) {
      p['lsoV2Ipv6'] = NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED;
      tso6 = true;
      gsoMax = Math.min(gsoMax, g(lso, 'ip6Maxsz'));
    }
    if (ip6 & NDIS_TXCSUM_CAP_UDP6) {
      p['udpIpV6Csum'] = NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED;
      mask |= 0x20;
    }
  }
  const lro = g(caps.rsc, 'ip4') !== 0 && g(caps.rsc, 'ip6') !== 0;
  if (lro) {
    const v = lroWanted ? NDIS_OFFLOAD_PARAMETERS_RSC_ENABLED : NDIS_OFFLOAD_PARAMETERS_RSC_DISABLED;
    p['rscIpV4'] = v;
    p['rscIpV6'] = v;
  }
  const legacy = nvsp <= NVSP_PROTOCOL_VERSION_4;
  if (legacy) {
    // 22-byte params: the UDP fields are forced off (no change) before NVSP 5 (§6.1), RSC is past the end.
    p['udpIpV4Csum'] = 0;
    p['udpIpV6Csum'] = 0;
    delete p['rscIpV4'];
    delete p['rscIpV6'];
  }
  const size = legacy ? VERSION_4_OFFLOAD_SIZE : 28;
  const params: NdisOffloadParams = { header: { type: NDIS_OBJECT_TYPE_DEFAULT, revision: NDIS_OFFLOAD_PARAMETERS_REVISION_3, size }, ...p };
  return { params, size, txCsumMask: mask, tso4, tso6, lro: lro && lroWanted && !legacy, gsoMax };
}
