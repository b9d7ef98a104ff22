// Scenario validation: defaults, cross-field rules, every error names its field, and random
// JSON fails only with ConfigError.
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../core/index.js';
import { ScenarioError, type ScenarioSpec, readNicChange, Issues, validateScenario, type NicChange } from './index.js';

const minimal = (extra: Record<string, unknown> = {}) => ({
  vms: [
    { name: 'vm1', vcpus: 4, nics: [{ name: 'eth0' }] },
    { name: 'vm2', nics: [{ name: 'eth1', vlan: { mode: 'trunk', allowed: [20, 10, 10] } }] },
  ],
  ...extra,
});

function issuesOf(json: unknown): readonly string[] {
  try {
    validateScenario(json, 't.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).issues;
  }
  throw new Error('expected the scenario to fail validation');
}

describe('validateScenario()', () => {
  test('fills defaults for host, NICs, flows and duration', () => {
    const s: ScenarioSpec = validateScenario(minimal({ flows: [{ protocol: 'udp', from: 'eth0', to: 'eth1' }] }));
    expect(s.host).toEqual({ profile: 'azure', overrides: {}, vfAddDelayMs: 1000 });
    const [a, b] = [s.vms[0]!.nics[0]!, s.vms[1]!.nics[0]!];
    expect(a).toMatchObject({ vm: 'vm1', mac: '00:15:5d:00:00:00', ipv4: '10.0.0.1', ipv6: 'fd00::1', queues: 4, rxSections: 9709, txSections: 170, mtu: 1500, vf: 'none', vlan: { mode: 'untagged' } });
    expect(b).toMatchObject({ mac: '00:15:5d:00:01:01', ipv4: '10.0.0.2', queues: 2, vlan: { mode: 'trunk', allowed: [10, 20] } });
    expect(s.flows[0]).toMatchObject({ name: 'flow0', family: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', srcPort: 49152, dstPort: 5201, size: 1514, rate: { kind: 'max' }, startMs: 0, parallel: 1, fragment: false, lso: false });
    expect(s.durationMs).toBe(1000);
  });

  test('sorts events by time, keeping file order for ties, and sizes the run to the last event', () => {
    const s = validateScenario(minimal({
      events: [
        { at: 900, nic: 'eth0', action: 'link', state: 'up' },
        { at: 300, nic: 'eth0', action: 'link', state: 'down' },
        { at: 900, nic: 'eth1', action: 'vf-remove', surprise: true },
      ],
    }));
    expect(s.events.map((e) => [e.atMs, e.nic, e.change.action])).toEqual([[300, 'eth0', 'link'], [900, 'eth0', 'link'], [900, 'eth1', 'vf-remove']]);
    expect(s.events[2]!.change).toEqual({ action: 'vf-remove', surprise: true });
    expect(s.durationMs).toBe(1400);
  });

  test('names the field of a bad size with its range', () => {
    const flows = [0, 1, 2].map((i) => ({ protocol: 'udp', from: 'eth0', to: 'eth1', size: i === 2 ? 70000 : 100 }));
    expect(issuesOf(minimal({ flows }))).toEqual(['flows[2].size: must be an integer 60..65535, got 70000']);
  });

  test('collects every error in one pass', () => {
    const bad = {
      host: { profile: 'ws2030', overrides: { maxQueues: 0 }, extra: 1 },
      vms: [{ name: 'vm1', nics: [{ name: 'eth0', mtu: 20, mac: '01:00:00:00:00:01' }, { name: 'eth0', queues: 65 }] }],
      flows: [{ protocol: 'sctp', from: 'eth0', to: 'nope' }],
      events: [{ at: -1, nic: 'eth0', action: 'explode' }],
    };
    const got = issuesOf(bad);
    expect(got).toEqual(expect.arrayContaining([
      expect.stringMatching(/^host\.profile: must be one of ws2012, .*azure, got "ws2030"$/),
      'host.overrides.maxQueues: must be an integer 1..64, got 0',
      expect.stringMatching(/^host\.extra: unknown field/),
      'vms[0].nics[0].mac: must be a unicast address (first octet even)',
      'vms[0].nics[0].mtu: must be an integer 68..65521, got 20',
      'vms[0].nics[1].queues: must be an integer 1..64, got 65',
      "vms[0].nics[1].name: duplicate NIC name 'eth0' (NIC names are unique across VMs)",
      expect.stringMatching(/^flows\[0\]\.protocol: must be one of tcp, udp, icmp/),
      "flows[0].to: no NIC named 'nope' (NICs: eth0)",
      'events[0].at: must be an integer 0..3600000, got -1',
      expect.stringMatching(/^events\[0\]\.action: must be one of rings, channels/),
    ]));
    expect(got.length).toBeGreaterThanOrEqual(11);
  });

  test('frames above the MTU need lso (TCP) or fragment (UDP)', () => {
    expect(issuesOf(minimal({ flows: [{ protocol: 'udp', from: 'eth0', to: 'eth1', size: 4000 }] }))).toEqual([
      'flows[0].size: 4000 exceeds the MTU of eth0 (1500) + 14; set fragment: true or lower the size',
    ]);
    expect(issuesOf(minimal({ flows: [{ protocol: 'tcp', from: 'eth0', to: 'eth1', size: 4000, lso: false }] }))[0]).toMatch(/^flows\[0\]\.size: .*set lso: true/);
    expect(issuesOf(minimal({ flows: [{ protocol: 'udp', from: 'eth0', to: 'eth1', size: 400, fragment: true }] }))[0]).toMatch(/^flows\[0\]\.fragment: a 400-byte frame fits/);
    const ok = validateScenario(minimal({ flows: [{ protocol: 'tcp', from: 'eth0', to: 'eth1', size: 65535 }] }));
    expect(ok.flows[0]!.lso).toBe(true);
  });

  test('IPv6 headers must fit the frame and addresses must match the family', () => {
    expect(issuesOf(minimal({ flows: [{ protocol: 'tcp', family: 'ipv6', from: 'eth0', to: 'eth1', size: 60, dst: '10.0.0.9' }] }))).toEqual([
      'flows[0].dst: must be an IPv6 address (the flow\'s family), got "10.0.0.9"',
      'flows[0].size: 60 is below the 74 bytes of Ethernet + ipv6 + tcp headers',
    ]);
  });

  test('VLAN tags only from a trunk port that allows them', () => {
    const scen = (vlan: number, from: string) => minimal({ flows: [{ protocol: 'udp', from, to: from === 'eth1' ? 'eth0' : 'eth1', size: 100, vlan }] });
    expect(issuesOf(scen(30, 'eth1'))).toEqual(["flows[0].vlan: VLAN 30 is not in eth1's trunk (allowed: 10, 20)"]);
    expect(issuesOf(scen(10, 'eth0'))[0]).toMatch(/^flows\[0\]\.vlan: eth0 is an untagged port/);
    expect(validateScenario(scen(20, 'eth1')).flows[0]!.vlan).toBe(20);
  });

  test('ICMP takes no ports; rates parse with units', () => {
    expect(issuesOf(minimal({ flows: [{ protocol: 'icmp', from: 'eth0', to: 'eth1', dstPort: 7 }] }))).toEqual(['flows[0].dstPort: ICMP has no ports; leave it out']);
    const s = validateScenario(minimal({ flows: [
      { protocol: 'udp', from: 'eth0', to: 'eth1', size: 100, rate: '1.5gbit' },
      { protocol: 'udp', from: 'eth0', to: 'eth1', size: 100, rate: '10kpps' },
      { protocol: 'udp', from: 'eth0', to: 'eth1', size: 100, rate: 250 },
    ] }));
    expect(s.flows.map((f) => f.rate)).toEqual([{ kind: 'bitrate', bitsPerSecond: 1.5e9 }, { kind: 'pps', pps: 10000 }, { kind: 'pps', pps: 250 }]);
    expect(issuesOf(minimal({ flows: [{ protocol: 'udp', from: 'eth0', to: 'eth1', rate: 'fast' }] }))[0]).toMatch(/^flows\[0\]\.rate: must be "max"/);
  });

  test('a VF at boot is refused when the host has SR-IOV turned off', () => {
    const j = { host: { overrides: { sriov: false } }, vms: [{ name: 'v', nics: [{ name: 'e0', vf: 'boot' }] }], events: [{ at: 5, nic: 'e0', action: 'vf-add' }] };
    expect(issuesOf(j)).toEqual([
      'vms[0].nics[0].vf: a VF at boot needs SR-IOV, which host.overrides.sriov turns off',
      'events[0].action: vf-add needs SR-IOV, which host.overrides.sriov turns off',
    ]);
  });

  test('a non-object or a missing vms is one clear issue', () => {
    expect(issuesOf([])).toEqual(['(top level): must be an object, got an array']);
    expect(issuesOf({})).toEqual(['vms: is required: at least one VM with one NIC']);
  });

  propTest.prop([fc.jsonValue({ maxDepth: 6 })], { numRuns: 500 })('random JSON fails only with ConfigError', (j) => {
    try {
      validateScenario(j);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
    }
  });

  const arbNic = fc.record({ name: fc.constantFrom('eth0', 'eth1', 'bad name', 7), mtu: fc.oneof(fc.integer(), fc.constant(9000)), queues: fc.integer({ min: -2, max: 70 }), vlan: fc.anything() }, { requiredKeys: ['name'] });
  const arbFlow = fc.record({ protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'x'), from: fc.constantFrom('eth0', 'eth1'), to: fc.constantFrom('eth0', 'eth1', 'eth9'), size: fc.integer({ min: 0, max: 70000 }), fragment: fc.boolean(), lso: fc.boolean(), vlan: fc.integer({ min: 0, max: 5000 }), rate: fc.anything(), parallel: fc.integer({ min: 0, max: 70000 }), srcPort: fc.integer({ min: 0, max: 70000 }) }, { requiredKeys: [] });
  const arbEvent = fc.record({ at: fc.integer({ min: -5, max: 5000 }), nic: fc.constantFrom('eth0', 'eth1', 'zz'), action: fc.constantFrom('rings', 'channels', 'rxfh', 'features', 'rx-flow-hash', 'mtu', 'link', 'vf-add', 'vf-remove', 'q'), rx: fc.anything(), equal: fc.integer({ min: 0, max: 70 }), weight: fc.array(fc.integer({ min: -1, max: 3 })), hkey: fc.anything(), features: fc.dictionary(fc.constantFrom('lro', 'gro', 'rx', 'nope'), fc.anything()) }, { requiredKeys: [] });
  propTest.prop([fc.record({ vms: fc.array(fc.record({ name: fc.constantFrom('a', 'b'), nics: fc.array(arbNic, { maxLength: 3 }) }), { maxLength: 3 }), flows: fc.array(arbFlow, { maxLength: 4 }), events: fc.array(arbEvent, { maxLength: 4 }) })], { numRuns: 500 })(
    'near-valid scenarios either validate or fail with issues that each name a field',
    (j) => {
      try {
        const s = validateScenario(j);
        for (const f of s.flows) expect(s.vms.flatMap((v) => v.nics.map((n) => n.name))).toContain(f.from);
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        for (const line of (e as ScenarioError).issues) expect(line).toMatch(/^([A-Za-z][\w-]*|\(top level\))(\.[A-Za-z_][\w-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*: \S/);
      }
    },
  );
});

describe('readNicChange()', () => {
  const read = (v: unknown) => {
    const issues = new Issues();
    return { change: readNicChange(v, 'change', issues), issues: issues.list };
  };

  test('reads the hkey as colon hex and normalises feature aliases', () => {
    const key = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(2, '0')).join(':');
    expect(read({ action: 'rxfh', equal: 2, hkey: key }).change).toEqual({ action: 'rxfh', equal: 2, hkey: Array.from({ length: 40 }, (_, i) => i) });
    expect(read({ action: 'features', features: { lro: false, 'generic-receive-offload': true } }).change).toEqual({ action: 'features', features: { 'large-receive-offload': false, 'generic-receive-offload': true } });
  });

  test('rejects rxfh alternatives given together, short keys and unknown fields', () => {
    expect(read({ action: 'rxfh', equal: 2, default: true, hkey: 'aa:bb', x: 1 }).issues).toEqual([
      'change.hkey: must be 40 bytes (the Toeplitz key size), got 2',
      'change.equal: equal, weight and default are alternatives; give one',
      'change.x: unknown field (known: action, equal, weight, default, hkey)',
    ]);
  });

  const arbChange: fc.Arbitrary<NicChange> = fc.oneof(
    fc.record({ action: fc.constant('rings' as const), rx: fc.integer({ min: 10, max: 18811 }), tx: fc.integer({ min: 10, max: 2560 }) }, { requiredKeys: ['action', 'rx'] }),
    fc.record({ action: fc.constant('channels' as const), combined: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ action: fc.constant('rxfh' as const), weight: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 64 }), hkey: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 40, maxLength: 40 }) }),
    fc.record({ action: fc.constant('rx-flow-hash' as const), flowType: fc.constantFrom('tcp4', 'tcp6', 'udp4', 'udp6'), fields: fc.constantFrom('sd', 'sdfn') }),
    fc.record({ action: fc.constant('mtu' as const), mtu: fc.integer({ min: 68, max: 65521 }) }),
    fc.record({ action: fc.constant('vf-remove' as const), surprise: fc.boolean() }),
  );
  propTest.prop([arbChange])('a normalised change reads back as itself', (c) => {
    expect(read(JSON.parse(JSON.stringify(c)))).toEqual({ change: c, issues: [] });
  });
});

const withCapture = (capture: unknown) => ({ vms: [{ name: 'vm1', nics: [{ name: 'eth0', capture }, { name: 'eth1' }] }] });

describe('vms[].nics[].capture', () => {
  test('defaults to every layer without a trace; a NIC without it captures nothing', () => {
    const s = validateScenario(withCapture({ dir: '/tmp/cap' }));
    expect(s.vms[0]!.nics[0]!.capture).toEqual({ dir: '/tmp/cap', layers: ['guest-tx', 'guest-rx', 'switch-in', 'switch-out'], trace: false });
    expect(s.vms[0]!.nics[1]!.capture).toBeUndefined();
  });

  test('keeps the layers named (once each) and the trace switch', () => {
    const s = validateScenario(withCapture({ dir: 'out', layers: ['switch-out', 'guest-rx', 'switch-out'], trace: true }));
    expect(s.vms[0]!.nics[0]!.capture).toEqual({ dir: 'out', layers: ['switch-out', 'guest-rx'], trace: true });
  });

  test('errors name the field', () => {
    expect(issuesOf(withCapture({ layers: ['guest-tx'] }))).toEqual(['vms[0].nics[0].capture.dir: is required']);
    expect(issuesOf(withCapture({ dir: 'x', layers: ['wire'] }))[0]).toMatch(/^vms\[0\]\.nics\[0\]\.capture\.layers: must be a non-empty array of guest-tx/);
    expect(issuesOf(withCapture({ dir: 'x', trace: 'yes' }))[0]).toMatch(/^vms\[0\]\.nics\[0\]\.capture\.trace: /);
    expect(issuesOf(withCapture({ dir: 'x', snaplen: 9 }))[0]).toMatch(/^vms\[0\]\.nics\[0\]\.capture\.snaplen: /);
    expect(issuesOf(withCapture('x'))[0]).toMatch(/^vms\[0\]\.nics\[0\]\.capture: /);
  });
});
