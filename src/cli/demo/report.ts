/**
 * Turns a run's results into the HTML report's data: throughput per NIC from the sampled byte
 * counters, events as markers, frames per RSS channel, offload counters, drops by reason,
 * negotiated versions and per-queue counters. Every number comes from the lab's counters.
 */
import type { EventResult, RunSample, ScenarioResult } from '../../lab/index.js';
import type { ReportData, ReportEventKind, ThroughputSeries } from '../report/index.js';
import { ndisVersionName, nvspVersionName } from '../version-names.js';

const EVENT_KINDS: Readonly<Record<string, ReportEventKind>> = {
  rings: 'ring-change',
  channels: 'channels-change',
  mtu: 'mtu-change',
  link: 'link',
  'vf-add': 'vf-add',
  'vf-remove': 'vf-remove',
};

/** Received payload Mbit/s per NIC between consecutive samples, at the later sample's time. */
export function throughputSeries(samples: readonly RunSample[]): ThroughputSeries[] {
  const names = samples[0]?.nics.map((n) => n.name) ?? [];
  return names.map((name) => {
    const points: [number, number][] = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1]!;
      const b = samples[i]!;
      const dt = b.atMs - a.atMs;
      const now = b.nics.find((n) => n.name === name)?.rxBytes ?? 0;
      const before = a.nics.find((n) => n.name === name)?.rxBytes ?? 0;
      // A re-attach (-G, -L, MTU) restarts the guest's counters: then all of `now` came after it.
      const bytes = now >= before ? now - before : now;
      if (dt > 0) points.push([b.atMs, (bytes * 8) / dt / 1000]);
    }
    return { name: `${name} rx`, points };
  });
}

export function eventLabel(e: EventResult): string {
  return e.ok ? e.label : `${e.label} (failed: ${e.error ?? 'unknown'})`;
}

export function demoReportData(r: ScenarioResult, skipped: readonly string[]): ReportData {
  const drops: Record<string, number> = {};
  for (const n of r.nics) for (const [k, v] of Object.entries(n.drops)) drops[k] = (drops[k] ?? 0) + v;
  const frames = r.flows.reduce((a, f) => a + f.sent, 0);
  const lost = r.flows.reduce((a, f) => a + f.lost, 0);
  return {
    title: `netvsc demo — ${r.profileTitle}`,
    generatedAt: new Date().toISOString(),
    summary: [
      { label: 'Host profile', value: `${r.profile} (${r.profileTitle})` },
      { label: 'Run', value: `${(r.elapsedMs / 1000).toFixed(1)} s, ${r.mode}` },
      { label: 'Frames sent', value: String(frames) },
      { label: 'Frames lost', value: String(lost) },
      ...r.flows.map((f) => ({ label: `Flow ${f.name}`, value: `${f.unique}/${f.sent} delivered, ${f.reordered} reordered, ${f.duplicated} duplicated` })),
      ...skipped.map((s) => ({ label: 'Skipped', value: s })),
    ],
    throughput: throughputSeries(r.samples),
    events: r.events.map((e) => ({ atMs: e.appliedAtMs, kind: EVENT_KINDS[e.action] ?? 'other', label: eventLabel(e) })),
    rssChannels: r.nics.map((n) => ({ nic: n.name, frames: n.queues.map((q) => q.rxPackets) })),
    offloads: r.nics.map((n) => ({ nic: n.name, counters: Object.entries(n.offloads).map(([name, value]) => ({ name, value })) })),
    drops,
    versions: {
      header: ['NIC', 'VM', 'NVSP', 'NDIS', 'MTU', 'Channels', 'RX sections', 'TX sections'],
      rows: r.nics.map((n) => [n.name, n.vm, nvspVersionName(n.nvspVersion), ndisVersionName(n.ndisVersion), n.mtu, n.queues.length, n.rxSections, n.txSections]),
    },
    queues: {
      header: ['NIC', 'Queue', 'RX packets', 'RX bytes', 'TX packets', 'TX bytes'],
      rows: r.nics.flatMap((n) => n.queues.map((q) => [n.name, q.queue, q.rxPackets, q.rxBytes, q.txPackets, q.txBytes])),
    },
  };
}
