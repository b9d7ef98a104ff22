/**
 * One NIC's counters at a moment, from both ends: the guest driver's `ethtool -S` names and the
 * host's NetVSP counters, folded into the shape every consumer wants (per-queue traffic, drops by
 * reason, offload use, negotiated versions). The scenario runner, the demo's live view and the
 * control socket's `stats` all read this one shape so their numbers agree.
 */
import type { LabNic, LabNicStats } from '../lab-vm.js';

export interface QueueSnapshot {
  readonly queue: number;
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
}

export interface NicSnapshot {
  readonly name: string;
  readonly vm: string;
  readonly mac: string;
  readonly link: 'up' | 'down';
  readonly dataPath: 'synthetic' | 'vf';
  /** The NIC's SR-IOV VF: none, present (assigned, not carrying traffic), active (the data path). */
  readonly vf: 'none' | 'present' | 'active';
  /** Negotiated NVSP version as on the wire (0x60001 = 6.1). */
  readonly nvspVersion: number;
  /** major << 16 | minor. */
  readonly ndisVersion: number;
  readonly mtu: number;
  readonly rxSections: number;
  readonly txSections: number;
  /** The host's receive/send buffer sections (what -G changed, seen from the other end). */
  readonly hostRxSections: number;
  readonly hostTxSections: number;
  /**
   * The NIC's switch port, counted across re-attaches (the driver's and the host's queue
   * counters start again at each -G/-L/MTU change): frames it sent into the switch, frames the
   * switch handed to it, and frames offered to it but dropped (link down, packet filter off
   * while re-attaching, VLAN rules).
   */
  readonly switchIn: number;
  readonly switchOut: number;
  readonly switchDropped: number;
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
  /** Guest queues (the driver's per-channel counters). */
  readonly queues: readonly QueueSnapshot[];
  /** Drops by reason, zero reasons left out; guest names as in ethtool -S, host ones prefixed `host_`. */
  readonly drops: Readonly<Record<string, number>>;
  /** Offload counters from both ends (host checksum fills, LSO segments, RSC, send-buffer fallbacks). */
  readonly offloads: Readonly<Record<string, number>>;
  /** The host's per-queue counters in its own names. */
  readonly hostQueues: readonly Readonly<Record<string, number>>[];
  readonly guestStats: Readonly<Record<string, number>>;
}

/** Guest counters that count a frame not sent or not received (Linux's names). */
const GUEST_DROPS = ['tx_no_memory', 'tx_no_space', 'tx_too_big', 'rx_comp_busy', 'rx_no_memory', 'vlan_error', 'vf_tx_dropped', 'rx_completed_fail'] as const;
/** Lab plumbing counters that count a lost frame (port_tx_held is a retry, not a loss). */
const LAB_DROPS = ['port_rx_dropped'] as const;
/** Host per-queue counters that count a dropped frame. */
const HOST_QUEUE_DROPS = ['rx_dropped_no_section', 'rx_dropped_ring_full', 'rx_dropped_no_buffer', 'rx_dropped_too_big', 'rx_dropped_revoked', 'tx_dropped_switch', 'tx_bad_section', 'tx_bad_range', 'tx_bad_rndis'] as const;
/** Counters that show an offload or a fallback at work. */
const HOST_QUEUE_OFFLOADS = ['tx_csum_filled', 'tx_lso_segments'] as const;
const GUEST_OFFLOADS = ['tx_csum_offloaded', 'tx_csum_software', 'tx_lso_packets', 'tx_vlan_popped', 'tx_scattered', 'tx_send_full', 'stop_queue', 'wake_queue'] as const;
/** Switch port counters (kept across re-attaches) of frames not handed to this NIC: link down, packet filter off while it re-attaches, VLAN rules. */
const SWITCH_DROPS = ['tx_dropped', 'tx_filtered', 'vlan_filtered', 'vlan_dropped'] as const;

/** A host queue counter over the open queues and every queue closed by a re-attach. */
function sumHost(host: LabNicStats['host'], name: string): number {
  let n = host.closedQueues[name] ?? 0;
  for (const q of host.queues) n += q[name] ?? 0;
  return n;
}

/** Folds one NIC's raw counters into a snapshot. */
export function snapshotOf(nic: LabNic, s: LabNicStats): NicSnapshot {
  const g = s.guest.ethtool;
  const info = s.guest.info;
  const queues: QueueSnapshot[] = [];
  for (let q = 0; `rx_queue_${q}_packets` in g; q++) {
    queues.push({
      queue: q,
      rxPackets: g[`rx_queue_${q}_packets`] ?? 0,
      rxBytes: g[`rx_queue_${q}_bytes`] ?? 0,
      txPackets: g[`tx_queue_${q}_packets`] ?? 0,
      txBytes: g[`tx_queue_${q}_bytes`] ?? 0,
    });
  }
  const drops: Record<string, number> = {};
  const put = (name: string, v: number): void => {
    if (v > 0) drops[name] = (drops[name] ?? 0) + v;
  };
  for (const n of GUEST_DROPS) put(n, g[n] ?? 0);
  for (const n of LAB_DROPS) put(n, s.guest.lab[n]);
  for (const n of HOST_QUEUE_DROPS) put(`host_${n}`, sumHost(s.host, n));
  // The VF's port: frames its receive queues had no room for, and what a surprise removal lost.
  for (const n of ['vf_frames_to_guest_dropped', 'vf_lost_tx', 'vf_lost_rx'] as const) put(`host_${n}`, s.host.vf.counters[n] ?? 0);
  for (const n of SWITCH_DROPS) put(`switch_${n}`, s.host.port[n] ?? 0);
  const offloads: Record<string, number> = {};
  for (const n of HOST_QUEUE_OFFLOADS) offloads[`host_${n}`] = sumHost(s.host, n);
  for (const n of GUEST_OFFLOADS) offloads[n] = g[n] ?? 0;
  const total = (k: keyof QueueSnapshot): number => queues.reduce((a, q) => a + q[k], 0);
  return {
    name: nic.name,
    vm: nic.vm.name,
    mac: nic.mac,
    link: info.linkUp ? 'up' : 'down',
    // Linux's data_path_is_vf: TX and RX go over the VF, not VMBus (docs/vf.md).
    dataPath: s.guest.vf.dataPath === 'onVf' ? 'vf' : 'synthetic',
    vf: s.guest.vf.dataPath === 'onVf' ? 'active' : s.host.vf.state === 'none' ? 'none' : 'present',
    nvspVersion: info.nvspVersion,
    ndisVersion: info.ndisVersion,
    mtu: info.mtu,
    rxSections: info.rxSections,
    txSections: info.txSections,
    hostRxSections: s.host.recvBuffer?.sections ?? 0,
    hostTxSections: s.host.sendBuffer?.sections ?? 0,
    switchIn: s.host.port['rx_frames'] ?? 0,
    switchOut: s.host.port['tx_frames'] ?? 0,
    switchDropped: SWITCH_DROPS.reduce((a, n) => a + (s.host.port[n] ?? 0), 0),
    // Frames over the VF count too: the synthetic channels' counters do not see them.
    rxPackets: total('rxPackets') + (g.vf_rx_packets ?? 0),
    rxBytes: total('rxBytes') + (g.vf_rx_bytes ?? 0),
    txPackets: total('txPackets') + (g.vf_tx_packets ?? 0),
    txBytes: total('txBytes') + (g.vf_tx_bytes ?? 0),
    queues,
    drops,
    offloads,
    hostQueues: s.host.queues,
    guestStats: g,
  };
}

/** Reads a snapshot of one NIC (one control call to its VM and one to the host). */
export async function snapshotNic(nic: LabNic): Promise<NicSnapshot> {
  return snapshotOf(nic, await nic.stats());
}
