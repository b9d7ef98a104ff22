/**
 * NDIS objects carried in RNDIS info buffers (protocol.md §5.9, §5.10). Objects may be shorter
 * than the full struct (offload params 22/28, ndis_offload 112/144/156): a decoder gets only the
 * fields inside the size.
 */
import { type Layout, layout, struct, u16, u32, u32s, u8 } from '../layout/struct.js';

/** `struct ndis_object_header` {u8 type, u8 revision, u16 size} (offload structs). */
export const ndisObjectHeader: Layout = layout('ndis_object_header', 4, [u8('type', 0), u8('revision', 1), u16('size', 2)]);
/** `struct ndis_obj_header` {u8 type, u8 rev, u16 size} (RSS structs). */
export const ndisObjHeader: Layout = layout('ndis_obj_header', 4, [u8('type', 0), u8('rev', 1), u16('size', 2)]);

const u8s = (at: number, ...names: string[]) => names.map((n, i) => u8(n, at + i));

export const ndisOffloadParams: Layout = layout('ndis_offload_params', 28, [
  struct('header', 0, ndisObjectHeader),
  ...u8s(4, 'ip_v4_csum', 'tcp_ip_v4_csum', 'udp_ip_v4_csum', 'tcp_ip_v6_csum', 'udp_ip_v6_csum', 'lso_v1', 'ip_sec_v1', 'lso_v2_ipv4', 'lso_v2_ipv6', 'tcp_connection_ip_v4', 'tcp_connection_ip_v6'),
  u32('flags', 16),
  ...u8s(20, 'ip_sec_v2', 'ip_sec_v2_ip_v4', 'rsc_ip_v4', 'rsc_ip_v6', 'encapsulated_packet_task_offload', 'encapsulation_types'),
]);

export const ndisOffload: Layout = layout('ndis_offload', 156, [
  struct('header', 0, ndisObjectHeader),
  struct('csum', 4, layout('ndis_csum_offload', 32, u32s(0, 'ip4_txenc', 'ip4_txcsum', 'ip4_rxenc', 'ip4_rxcsum', 'ip6_txenc', 'ip6_txcsum', 'ip6_rxenc', 'ip6_rxcsum'))),
  struct('lsov1', 36, layout('ndis_lsov1_offload', 16, u32s(0, 'encap', 'maxsize', 'minsegs', 'opts'))),
  struct('ipsecv1', 52, layout('ndis_ipsecv1_offload', 28, u32s(0, 'encap', 'ah_esp', 'xport_tun', 'ip4_opts', 'flags', 'ip4_ah', 'ip4_esp'))),
  struct('lsov2', 80, layout('ndis_lsov2_offload', 28, u32s(0, 'ip4_encap', 'ip4_maxsz', 'ip4_minsg', 'ip6_encap', 'ip6_maxsz', 'ip6_minsg', 'ip6_opts'))),
  u32('flags', 108),
  struct(
    'ipsecv2',
    112,
    layout('ndis_ipsecv2_offload', 32, [
      u32('encap', 0),
      ...u8s(4, 'ip6', 'ip4opt', 'ip6ext', 'ah', 'esp', 'ah_esp', 'xport', 'tun', 'xport_tun', 'lso', 'extseq'),
      ...u32s(16, 'udp_esp', 'auth', 'crypto', 'sa_caps'),
    ]),
  ),
  struct('rsc', 144, layout('ndis_rsc_offload', 2, u8s(0, 'ip4', 'ip6'))),
  struct('encap_gre', 148, layout('ndis_encap_offload', 8, u32s(0, 'flags', 'maxhdr'))),
]);

export const ndisRecvScaleCap: Layout = layout('ndis_recv_scale_cap', 18, [
  struct('hdr', 0, ndisObjHeader),
  ...u32s(4, 'cap_flag', 'num_int_msg', 'num_recv_que'),
  u16('num_indirect_tabent', 16),
]);

/** `struct ndis_recv_scale_param`: natural alignment, 2 pad bytes after each u16 size (§5.10). */
export const ndisRecvScaleParam: Layout = layout('ndis_recv_scale_param', 40, [
  struct('hdr', 0, ndisObjHeader),
  u16('flag', 4),
  u16('base_cpu_number', 6),
  u32('hashinfo', 8),
  u16('indirect_tabsize', 12),
  u32('indirect_taboffset', 16),
  u16('hashkey_size', 20),
  ...u32s(24, 'hashkey_offset', 'processor_masks_offset', 'num_processor_masks', 'processor_masks_entry_size'),
]);
