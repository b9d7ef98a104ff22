// The demo in-process with a short run: real host and VM workers, numbers from counters. Its
// summary holds (traffic both ways, the -G landed on both ends, no corrupt frames), and its HTML
// report draws in headless Chromium with non-empty data in every chart.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runDemo, type DemoOutcome } from '../../src/cli/demo/run-demo.js';
import { DEMO_RX_SECTIONS } from '../../src/cli/demo/workload.js';

import { charts, dumpDom, reportSkip, runBrowserChecks as browser } from '../harness/chromium.js';

reportSkip('demo.test');

const dir = mkdtempSync(join(tmpdir(), 'netvsc-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


describe('netvsc demo', () => {
  let out: DemoOutcome;
  let text = '';

  test('runs the workload end to end and writes the report', async () => {
    const t0 = performance.now();
    out = await runDemo({ profile: 'azure', durationMs: 2500, reportPath: join(dir, 'demo.html'), json: false, keep: false, tty: false, write: (s) => void (text += s) });
    expect(performance.now() - t0).toBeLessThan(30_000);
    const r = out.result;
    const flow = (name: string) => r.flows.find((f) => f.name === name)!;
    const [bulk, small, frag, vlan] = [flow('bulk-tcp'), flow('small-udp'), flow('frag-udp'), flow('vlan100-udp')];
    expect(bulk.sent).toBeGreaterThan(1000);
    expect(bulk.unique).toBeGreaterThan(0);
    expect(small.parallel).toBe(32);
    expect(small.unique).toBeGreaterThan(0);
    // Fragmented datagrams arrive as several fragments each; VLAN 100 frames cross the trunks.
    expect(frag.unique).toBeGreaterThan(0);
    expect(frag.fragments).toBeGreaterThanOrEqual(3 * frag.unique);
    expect(vlan.unique).toBeGreaterThan(0);
    for (const f of r.flows) {
      expect(f.corrupt, f.name).toBe(0);
      expect(f.duplicated, f.name).toBe(0);
      expect(f.unique + f.lost, f.name).toBe(f.sent);
    }
    // The ring change halfway landed and grew the ring: the guest and the host both have 8192.
    expect(r.events.filter((e) => e.action === 'rings')).toMatchObject([{ nic: 'nic1', action: 'rings', ok: true }]);
    const nic1 = r.nics.find((n) => n.name === 'nic1')!;
    expect(nic1.rxSections).toBe(DEMO_RX_SECTIONS.grown);
    expect(nic1.hostRxSections).toBe(DEMO_RX_SECTIONS.grown);
    // What the re-attach window cost is counted at the switch port, and the port counters add up
    // across it: every frame nic0 sent was offered to
    // nic1 and either delivered or counted dropped (and the reverse direction likewise). Frames
    // over a VF enter the switch through the VF's own port, which these synthetic-port counters
    // do not see: with VF events in the workload that identity is the VF accounting's to check.
    const nic0x = r.nics.find((n) => n.name === 'nic0')!;
    if (!r.events.some((e) => e.action.startsWith('vf'))) {
      expect(nic1.switchOut + nic1.switchDropped).toBe(nic0x.switchIn);
      expect(nic0x.switchOut + nic0x.switchDropped).toBe(nic1.switchIn);
      expect(small.lost).toBe(nic0x.switchDropped);
      expect(text).toContain('offered to exactly one NIC');
    }
    // Whatever was lost on the way to nic1 shows as a counted drop (switch port or host queue).
    if (bulk.lost + frag.lost + vlan.lost > 0) expect(Object.keys(nic1.drops).length).toBeGreaterThan(0);
    // 4 channels negotiated on Azure; the 32 UDP flows all hash to one channel (UDP by addresses).
    const nic0 = r.nics.find((n) => n.name === 'nic0')!;
    expect(nic0.queues).toHaveLength(4);
    expect(nic0.queues.filter((q) => q.rxPackets > 0)).toHaveLength(1);
    expect(text).toContain(`event: nic1: ethtool -G rx ${DEMO_RX_SECTIONS.grown}`);
    expect(text).toContain(`Report: ${out.reportPath}`);
    expect(text).toMatch(/bulk-tcp\s+tcp\s+nic0→nic1\s+\d+/);
    expect(text).not.toContain('\x1b['); // not a TTY: nothing redrawn
    // Report data is the run's counters.
    expect(out.report.throughput.map((s) => s.name)).toEqual(['nic0 rx', 'nic1 rx']);
    expect(out.report.throughput[1]!.points.some(([, mbps]) => mbps > 0)).toBe(true);
    // RSS channels count synthetic frames; rxPackets also counts what arrived over the VF.
    expect(out.report.rssChannels.find((c) => c.nic === 'nic0')!.frames.reduce((a, b) => a + b, 0)).toBe(nic0.rxPackets - (nic0.guestStats.vf_rx_packets ?? 0));
    // nic0's VF went away and came back halfway, marked in the report; the data path ended on the new VF.
    expect(r.events.filter((e) => e.action.startsWith('vf-')).map((e) => [e.label, e.ok])).toEqual([['nic0: vf remove', true], ['nic0: vf add', true]]);
    expect(out.report.events.map((e) => e.kind)).toEqual(['vf-remove', 'ring-change', 'vf-add']);
    // The boot VF is normally registered long before the removal; on a loaded box its show can come
    // late, so count consistency: every VF the guest took it let go once, except at most the last.
    const g0 = nic0.guestStats;
    expect(g0.vf_registered).toBeGreaterThanOrEqual(1);
    expect(g0.vf_registered! - g0.vf_removed_planned! - g0.vf_removed_surprise!).toBeGreaterThanOrEqual(0);
    expect(g0.vf_registered! - g0.vf_removed_planned! - g0.vf_removed_surprise!).toBeLessThanOrEqual(1);
    expect(nic0.guestStats.vf_rx_packets).toBeGreaterThan(0);
  });

  test.skipIf(!browser)('its report draws every chart in headless Chromium with non-empty data', async () => {
    expect(out).toBeDefined();
    const html = readFileSync(out.reportPath, 'utf8');
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    const stdout = await dumpDom(out.reportPath, dir);
    expect(stdout).toMatch(/<body[^>]*data-drawn="true"/);
    const c = charts(stdout);
    expect([...c.keys()]).toEqual(expect.arrayContaining(['throughput', 'rss0', 'rss1', 'offloads']));
    for (const [k, svg] of c) expect(svg, k).toMatch(/^<svg[^>]*data-drawn="true"/);
    const t = c.get('throughput')!;
    expect(t.match(/<path class="series" d="M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+"/g)?.length).toBe(2);
    expect(t.match(/<line class="event"/g)?.length).toBe(3); // vf remove, -G, vf add
    expect(t).toContain(`ethtool -G rx ${DEMO_RX_SECTIONS.grown}`);
    // One bar per channel, and at least one with height above zero (frames were counted).
    for (const k of ['rss0', 'rss1']) {
      const heights = [...c.get(k)!.matchAll(/<rect class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
      expect(heights, k).toHaveLength(4);
      expect(Math.max(...heights), k).toBeGreaterThan(0);
    }
  });
});
