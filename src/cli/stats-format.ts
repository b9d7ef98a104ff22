/** `netvsc stats`: per-NIC totals, drops by reason, then per-queue counters. */
import type { StatsSummary } from './control/index.js';
import { textTable } from './text-table.js';

export function formatStats(s: StatsSummary): string {
  const out: string[] = [`Uptime ${(s.uptimeMs / 1000).toFixed(1)} s`, ''];
  out.push(textTable(
    ['NIC', 'VM', 'LINK', 'PATH', 'RX PKTS', 'RX BYTES', 'TX PKTS', 'TX BYTES', 'DROPS'],
    s.nics.map((n) => [n.name, n.vm, n.link, n.dataPath, n.rxPackets, n.rxBytes, n.txPackets, n.txBytes, Object.values(n.drops).reduce((a, b) => a + b, 0)]),
  ));
  for (const n of s.nics) {
    out.push('', `${n.name} queues:`);
    out.push(textTable(['QUEUE', 'RX PKTS', 'RX BYTES', 'TX PKTS', 'TX BYTES'], n.queues.map((q) => [q.queue, q.rxPackets, q.rxBytes, q.txPackets, q.txBytes])));
    const drops = Object.entries(n.drops).filter(([, v]) => v > 0);
    if (drops.length) out.push(`${n.name} drops: ${drops.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return out.join('\n');
}
