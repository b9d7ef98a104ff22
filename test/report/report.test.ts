// The HTML report renders in headless Chromium and every chart draws: the dumped DOM (after
// the page's script ran) has one path per throughput series, one marker per event, one bar
// per RSS channel, offload counter and drop reason, and data-drawn="true" on each chart.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type ReportData, renderReport } from '../../src/cli/report/index.js';

import { charts, dumpDom, reportSkip, runBrowserChecks } from '../harness/chromium.js';

reportSkip('report.test');

const sample: ReportData = {
  title: 'netvsc demo <azure>',
  generatedAt: '2025-01-01T00:00:00Z',
  summary: [{ label: 'Duration', value: '3.0 s' }, { label: 'Frames delivered', value: '1 204 331' }],
  throughput: [
    { name: 'vm1 → vm2 TCP', points: Array.from({ length: 30 }, (_, i) => [i * 100, 900 + (i % 5) * 40] as const) },
    { name: 'vm2 → vm1 UDP', points: Array.from({ length: 30 }, (_, i) => [i * 100, i > 10 && i < 14 ? 0 : 300] as const) },
    { name: 'fragments', points: [[0, 10], [2900, 12]] },
  ],
  events: [
    { atMs: 1000, kind: 'vf-remove', label: 'VF removed (eth0)' },
    { atMs: 1400, kind: 'vf-add', label: 'VF added (eth0)' },
    { atMs: 2000, kind: 'ring-change', label: 'ethtool -G eth1 rx 1024' },
  ],
  rssChannels: [{ nic: 'eth0', frames: [100, 200, 300, 400] }, { nic: 'eth1', frames: [5000, 0] }],
  offloads: [
    { nic: 'eth0', counters: [{ name: 'tx_csum_host', value: 10 }, { name: 'lso_sends', value: 4 }] },
    { nic: 'eth1', counters: [{ name: 'gro_merged', value: 40 }] },
  ],
  drops: { tx_no_space: 3, rx_no_memory: 1, vlan_filtered: 7, '</script><b>x': 1 },
  versions: { header: ['NIC', 'NVSP', 'NDIS'], rows: [['eth0', '6.1', '6.30']] },
  queues: { header: ['NIC', 'QUEUE', 'RX PKTS'], rows: [['eth0', 0, 17], ['eth0', 1, 23]] },
};

const dir = mkdtempSync(join(tmpdir(), 'netvsc-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const count = (svg: string, re: RegExp): number => svg.match(re)?.length ?? 0;

describe('renderReport()', () => {
  const html = renderReport(sample);

  test('is one self-contained file: no external URL, data embedded safely', () => {
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(/);
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data's "</script>" is escaped
    expect(html).toContain('<title>netvsc demo &lt;azure&gt;</title>');
    expect(html).toMatch(/<td>eth0<\/td><td class="num">1<\/td><td class="num">23<\/td>/);
  });

  test.skipIf(!runBrowserChecks)('draws every chart in headless Chromium', async () => {
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const stdout = await dumpDom(file, dir);
    expect(stdout).toMatch(/<body[^>]*data-drawn="true"/);
    const c = charts(stdout);
    expect([...c.keys()].sort()).toEqual(['drops', 'offloads', 'rss0', 'rss1', 'throughput']);
    for (const [k, svg] of c) expect(svg, k).toMatch(/^<svg[^>]*data-drawn="true"/);
    const t = c.get('throughput')!;
    expect(count(t, /<path class="series" d="M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+"/g)).toBe(3);
    expect(count(t, /<line class="event"/g)).toBe(3);
    expect(t).toContain('VF removed (eth0)');
    expect(count(c.get('rss0')!, /<rect class="bar"/g)).toBe(4);
    expect(count(c.get('rss1')!, /<rect class="bar"/g)).toBe(2);
    expect(count(c.get('offloads')!, /<rect class="bar"/g)).toBe(3);
    expect(count(c.get('drops')!, /<rect class="bar"/g)).toBe(4);
    // The tallest RSS bar is channel 3 of eth0 (400 frames): bar heights follow the data.
    const heights = [...c.get('rss0')!.matchAll(/<rect class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights).toEqual([...heights].sort((a, b) => a - b));
    expect(heights[3]).toBeCloseTo(heights[0]! * 4, 0);
  });
});
