// Every scenario in examples/ validates, and says what docs/scenarios.md says it does.
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadScenario } from './index.js';

const DIR = resolve(import.meta.dirname, '../../../examples');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('examples/', () => {
  test('holds the six documented scenarios', () => {
    expect(files.sort()).toEqual(['host-version-checksum-matrix.json', 'mtu-and-ring-change.json', 'ring-pressure.json', 'rss-skew-udp-vs-tcp.json', 'vf-failover.json', 'vlan.json']);
  });

  test.each(files)('%s validates and its name matches the file', (f) => {
    const s = loadScenario(resolve(DIR, f));
    expect(`${s.name}.json`).toBe(f);
    expect(s.flows.length).toBeGreaterThan(0);
    expect(s.description.length).toBeGreaterThan(20);
  });

  test('vf-failover removes the VF both ways and re-adds it', () => {
    const s = loadScenario(resolve(DIR, 'vf-failover.json'));
    expect(s.events.map((e) => e.change)).toEqual([{ action: 'vf-remove', surprise: false }, { action: 'vf-add' }, { action: 'vf-remove', surprise: true }, { action: 'vf-add' }]);
  });
});
