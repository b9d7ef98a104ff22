// Every example scenario in examples/ runs through the scenario runner with a short duration and
// its results are asserted: the ones the lab can run pass their own `expect` plus checks of what
// they are meant to show; the ones needing what the lab lacks fail up front with UNSUPPORTED and
// the reasons named.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadScenario, runScenario } from '../../src/lab/index.js';

const DIR = resolve(import.meta.dirname, '../../examples');
const load = (name: string) => loadScenario(join(DIR, `${name}.json`));

/** Examples refused today, with a pattern their UNSUPPORTED message must match. */
const UNSUPPORTED: Readonly<Record<string, RegExp>> = {
  'host-version-checksum-matrix': /flows\[2\] \(tcp6\)\.family: the lab's traffic apps build IPv4 frames only/,
  'mtu-and-ring-change': /flows\[0\] \(bulk\)\.lso.*events\[2\]: rxfh/,
  'vf-failover': /vms\[0\]\.nics\[0\]\.vf: the lab does not wire VFs/,
  vlan: /vms\[0\]\.nics\[0\]\.vlan: the switch has no VLAN port modes yet.*ICMP/,
};
const RUNS = ['ring-pressure', 'rss-skew-udp-vs-tcp'];

describe('examples/', () => {
  test('every example is covered here', () => {
    const names = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
    expect(names).toEqual([...Object.keys(UNSUPPORTED), ...RUNS].sort());
  });

  test.each(Object.entries(UNSUPPORTED))('%s is refused as UNSUPPORTED, naming why', async (name, why) => {
    await expect(runScenario(load(name), { durationMs: 300 })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(why) });
  });

  test('ring-pressure: 10-section buffers under a flood; every lost frame is a counted drop', async () => {
    const r = await runScenario(load('ring-pressure'), { durationMs: 600 });
    expect(r.passed).toBe(true);
    const [flood] = r.flows;
    expect(flood!.unique).toBeGreaterThan(0);
    expect(flood!.corrupt).toBe(0);
    const rx = r.nics.find((n) => n.name === 'eth1')!;
    expect(rx.rxSections).toBeLessThanOrEqual(12);
    // Loss happens, and it is exactly what the host counted as no free receive section.
    expect(flood!.lost).toBeGreaterThan(0);
    expect(rx.drops['host_rx_dropped_no_section']).toBe(flood!.lost);
  });

  test('rss-skew-udp-vs-tcp: TCP flows spread over 4 channels, UDP flows pile on one', async () => {
    const r = await runScenario(load('rss-skew-udp-vs-tcp'), { durationMs: 600 });
    expect(r.passed).toBe(true);
    for (const f of r.flows) expect(f, f.name).toMatchObject({ sent: 12800, unique: 12800, lost: 0, duplicated: 0, corrupt: 0 });
    const q = r.nics.find((n) => n.name === 'eth1')!.queues.map((x) => x.rxPackets);
    expect(q).toHaveLength(4);
    expect(q.reduce((a, b) => a + b, 0)).toBe(25600);
    // The UDP flows all land on one channel (hashed by addresses only); TCP adds to every channel.
    const busiest = Math.max(...q);
    expect(busiest).toBeGreaterThanOrEqual(12800);
    expect(q.every((n) => n > 0)).toBe(true);
  });
});
