/**
 * The text a run ends with: per-flow delivery, per-NIC and per-queue counters, versions, drops
 * and events, as aligned tables. `netvsc run` and `netvsc demo` print the same form.
 */
import type { ScenarioResult } from '../../lab/index.js';
import { textTable } from '../text-table.js';
import { ndisVersionName, nvspVersionName } from '../version-names.js';
import { eventLabel } from './report.js';

const mbit = (bytes: number, ms: number): string => (ms > 0 ? ((bytes * 8) / ms / 1000).toFixed(1) : '0');

export function formatResult(r: ScenarioResult): string {
  const out: string[] = [];
  out.push(`Scenario ${r.name} on ${r.profileTitle} (${r.profile}), ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.mode}`);
  out.push('', 'Flows:');
  out.push(
    textTable(
      ['flow', 'proto', 'from→to', 'sent', 'delivered', 'lost', 'reordered', 'duplicated', 'corrupt', 'merged', 'fragments', 'Mbit/s', 'result'],
      r.flows.map((f) => [f.name, f.protocol, `${f.from}→${f.to}`, f.sent, f.unique, f.lost, f.reordered, f.duplicated, f.corrupt, f.coalesced, f.fragments, mbit(f.rxBytes, r.durationMs), f.failures.length === 0 ? 'ok' : `FAIL: ${f.failures.join('; ')}`]),
    ),
  );
  out.push('', 'NICs:');
  out.push(
    textTable(
      ['nic', 'vm', 'link', 'NVSP', 'NDIS', 'MTU', 'ch', 'rx sect', 'tx sect', 'rx frames', 'tx frames', 'drops'],
      r.nics.map((n) => [n.name, n.vm, n.link, nvspVersionName(n.nvspVersion), ndisVersionName(n.ndisVersion), n.mtu, n.queues.length, n.rxSections, n.txSections, n.rxPackets, n.txPackets, Object.entries(n.drops).map(([k, v]) => `${k}=${v}`).join(' ') || '-']),
    ),
  );
  // The host's counters are exact; the guest's count each time xmit() prepared a frame, so a frame
  // the queue refused and the generator offered again counts twice there.
  out.push('', 'Offloads (TX checksums filled by the host or summed by the guest, LSO segments cut by the host, VLAN tags sent as PPIs):');
  const o = (n: ScenarioResult['nics'][number], k: string): number => n.offloads[k] ?? 0;
  out.push(
    textTable(
      ['nic', 'csum by host', 'csum by guest', 'host LSO segments', 'VLAN tags'],
      r.nics.map((n) => [n.name, o(n, 'host_tx_csum_filled'), o(n, 'tx_csum_software'), o(n, 'host_tx_lso_segments'), o(n, 'tx_vlan_popped')]),
    ),
  );
  out.push('', 'Switch ports (counted across re-attaches; offered = delivered + dropped):');
  out.push(
    textTable(
      ['nic', 'sent into switch', 'offered to nic', 'delivered', 'dropped'],
      r.nics.map((n) => [n.name, n.switchIn, n.switchOut + n.switchDropped, n.switchOut, n.switchDropped]),
    ),
  );
  const sentIn = r.nics.reduce((a, n) => a + n.switchIn, 0);
  const offered = r.nics.reduce((a, n) => a + n.switchOut + n.switchDropped, 0);
  out.push(
    sentIn === offered
      ? 'Every frame sent into the switch was offered to exactly one NIC, and delivered or counted as a drop.'
      : `${sentIn} frames sent into the switch through these ports, ${offered} offered to them (they differ when frames enter or leave through a VF's port, or are flooded to several); each offered frame was delivered or counted as a drop.`,
  );
  out.push('', 'Queues (since the last re-attach):');
  out.push(textTable(['nic', 'queue', 'rx frames', 'rx bytes', 'tx frames', 'tx bytes'], r.nics.flatMap((n) => n.queues.map((q) => [n.name, q.queue, q.rxPackets, q.rxBytes, q.txPackets, q.txBytes]))));
  if (r.events.length > 0) {
    out.push('', 'Events:');
    out.push(textTable(['at ms', 'applied ms', 'took ms', 'event', 'notes'], r.events.map((e) => [e.atMs, e.appliedAtMs, e.tookMs, eventLabel(e), e.notes.join('; ') || '-'])));
  }
  out.push('', r.passed ? 'Every expectation held.' : 'Some expectations failed.');
  return out.join('\n');
}
