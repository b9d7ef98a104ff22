import { NETVSC_HASH_KEYLEN, NETVSC_RECEIVE_BUFFER_SIZE, NETVSC_RECEIVE_BUFFER_SIZE_LEGACY, NETVSC_SEND_BUFFER_SIZE, NVSP_PROTOCOL_VERSION_2 } from '../../wire/index.js';
import { GUEST_COUNTER_NAMES, type GuestCounters } from './counters.js';
import type { Attachment } from './lifecycle.js';
import type { Queue } from './queue.js';
import type { LinkState } from './status.js';

/** What `ethtool` shows for the device (protocol.md §7). */
export interface EthtoolView {
  readonly drvinfo: { readonly driver: 'hv_netvsc'; readonly firmware: 'N/A'; readonly nvspVersion: number; readonly ndisVersion: string };
  readonly ringparam: { readonly rxPending: number; readonly txPending: number; readonly rxMaxPending: number; readonly txMaxPending: number };
  readonly channels: { readonly maxCombined: number; readonly combined: number };
  readonly features: { readonly txCsumMask: number; readonly tso4: boolean; readonly tso6: boolean; readonly lro: boolean; readonly gsoMaxSize: number };
  readonly rxfh: { readonly hfunc: 'toeplitz'; readonly indir: readonly number[]; readonly key: Uint8Array; readonly keySize: number };
  /** ethtool -d: the 16 send indirection table entries. */
  readonly regs: readonly number[];
  readonly link: { readonly up: boolean; readonly speedMbps: number };
  readonly mtu: number;
}

export function ethtoolView(att: Attachment, cfg: { readonly mtu: number }, txTable: Uint32Array, link: LinkState): EthtoolView {
  const v = att.nv.version;
  const o = att.info.offload;
  return {
    drvinfo: { driver: 'hv_netvsc', firmware: 'N/A', nvspVersion: v, ndisVersion: `${att.nv.ndisMajor}.${att.nv.ndisMinor}` },
    ringparam: {
      rxPending: att.nv.recv.sectionCount,
      txPending: att.nv.send.sectionCount,
      rxMaxPending: Math.floor((v <= NVSP_PROTOCOL_VERSION_2 ? NETVSC_RECEIVE_BUFFER_SIZE_LEGACY : NETVSC_RECEIVE_BUFFER_SIZE) / att.nv.recv.sectionSize),
      txMaxPending: Math.floor(NETVSC_SEND_BUFFER_SIZE / att.nv.send.sectionSize),
    },
    channels: { maxCombined: att.maxChn, combined: att.queues.length },
    features: { txCsumMask: o.txCsumMask, tso4: o.tso4, tso6: o.tso6, lro: o.lro, gsoMaxSize: o.gsoMax },
    rxfh: { hfunc: 'toeplitz', indir: att.queues.length > 1 ? att.rxTable : [], key: att.key, keySize: NETVSC_HASH_KEYLEN },
    regs: [...txTable],
    link: { up: link.up, speedMbps: link.speedMbps },
    mtu: cfg.mtu,
  };
}

/** `ethtool -S` (§7): the global and VF names in Linux's order, per-queue names, then ours. */
export function deviceStats(c: GuestCounters, queues: readonly Queue[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of GUEST_COUNTER_NAMES.slice(0, 16)) out[n] = c.get(n);
  for (const q of queues) {
    const i = q.index;
    out[`tx_queue_${i}_packets`] = q.tx.packets;
    out[`tx_queue_${i}_bytes`] = q.tx.bytes;
    out[`tx_queue_${i}_xdp_xmit`] = 0;
    out[`rx_queue_${i}_packets`] = q.rx.packets;
    out[`rx_queue_${i}_bytes`] = q.rx.bytes;
    out[`rx_queue_${i}_xdp_drop`] = 0;
    out[`rx_queue_${i}_xdp_redirect`] = 0;
    out[`rx_queue_${i}_xdp_tx`] = 0;
  }
  for (const n of GUEST_COUNTER_NAMES.slice(16)) out[n] = c.get(n);
  return out;
}
