// The NIC `capture` field: defaults (all four layers, no trace), checked layers and trace, and
// errors that name the field.
import { describe, expect, test } from 'vitest';
import { ScenarioError, validateScenario } from './index.js';

const withCapture = (capture: unknown) => ({ vms: [{ name: 'vm1', nics: [{ name: 'eth0', capture }, { name: 'eth1' }] }] });

function issuesOf(json: unknown): readonly string[] {
  try {
    validateScenario(json, 't.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).issues;
  }
  throw new Error('expected the scenario to fail validation');
}

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
