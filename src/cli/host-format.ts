/** `netvsc host`: the profile, what it offers, and what each NIC negotiated. */
import type { HostInfo } from './control/index.js';
import { textTable } from './text-table.js';
import { ndisVersionName, nvspVersionName } from './version-names.js';

const yes = (b: boolean): string => (b ? 'yes' : 'no');

export function formatHost(h: HostInfo): string {
  const head = [
    `Host profile: ${h.profile} (${h.title})`,
    `NVSP up to ${nvspVersionName(h.maxNvspVersion)}, NDIS ${ndisVersionName(h.ndisVersion)}, up to ${h.maxQueues} queue(s) per NIC`,
    `SR-IOV: ${yes(h.sriov)}   RSC over VMBus: ${yes(h.rsc)}   UDP hash 4-tuple: ${yes(h.udpHash4Tuple)}`,
  ];
  const rows = h.nics.map((n) => [n.name, n.vm, n.mac, nvspVersionName(n.nvspVersion), ndisVersionName(n.ndisVersion), n.queues, n.mtu, n.link, n.vf, n.checksumOffload.join(',') || '-', yes(n.lso), yes(n.rsc)]);
  const table = textTable(['NIC', 'VM', 'MAC', 'NVSP', 'NDIS', 'QUEUES', 'MTU', 'LINK', 'VF', 'CSUM OFFLOAD', 'LSO', 'RSC'], rows);
  return [...head, '', h.nics.length ? table : 'No NICs.'].join('\n');
}
