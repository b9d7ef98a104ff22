// --uplink-vlan / tapUp({ uplinkVlan }) parsing and the checks that run before anything is made
// (no root needed: tapUp rejects bad values before it looks for /dev/net/tun).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/index.js';
import { tapUp } from './up.js';
import { checkUplinkVlan } from './uplink.js';

describe('checkUplinkVlan', () => {
  it('reads trunk:ID[,ID…] and access:ID into the PortConfig.vlan value', () => {
    expect(checkUplinkVlan('trunk:10,20')).toEqual({ trunk: [10, 20] });
    expect(checkUplinkVlan('trunk:4094')).toEqual({ trunk: [4094] });
    expect(checkUplinkVlan('access:10')).toBe(10);
    expect(checkUplinkVlan('access:0')).toBe(0);
    expect(checkUplinkVlan({ trunk: [1, 7] })).toEqual({ trunk: [1, 7] });
    expect(checkUplinkVlan(30)).toBe(30);
  });

  it.each([
    ['trunk:0', "'0' is not a VLAN id 1..4094"],
    ['trunk:4095', "'4095' is not a VLAN id 1..4094"],
    ['trunk:', "'' is not a VLAN id 1..4094"],
    ['trunk:10,,20', "'' is not a VLAN id 1..4094"],
    ['trunk:10,x', "'x' is not a VLAN id 1..4094"],
    ['access:4095', "'4095' is not a VLAN id 0..4094"],
    ['access:-1', "'-1' is not a VLAN id 0..4094"],
    ['access:1.5', "'1.5' is not a VLAN id 0..4094"],
    ['vlan10', "'vlan10' is neither trunk:… nor access:…"],
    ['', "'' is neither trunk:… nor access:…"],
  ])('rejects %j: %s', (spec, why) => {
    let err: unknown;
    try {
      checkUplinkVlan(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('BAD_CONFIG');
    expect((err as Error).message).toContain(`--uplink-vlan: ${why}`);
  });

  it('rejects structured values out of range or an empty trunk', () => {
    expect(() => checkUplinkVlan({ trunk: [] })).toThrow(/a trunk needs at least one VLAN id/);
    expect(() => checkUplinkVlan({ trunk: [10, 5000] })).toThrow(/'5000' is not a VLAN id 1..4094/);
    expect(() => checkUplinkVlan(4095)).toThrow(/'4095' is not a VLAN id 0..4094/);
  });
});

describe('tapUp option checks', () => {
  it('rejects uplinkVlan without an uplink, a bad uplinkVlan, and a VLAN for a VM it does not make', async () => {
    await expect(tapUp({ uplinkVlan: 'trunk:10' })).rejects.toThrow(/--uplink-vlan needs --uplink NAME/);
    await expect(tapUp({ uplink: 'u', uplinkVlan: 'trunk:0' })).rejects.toThrow(/--uplink-vlan: '0' is not a VLAN id/);
    await expect(tapUp({ vms: 2, vmVlans: { vm2: 10 } })).rejects.toThrow(/vmVlans: no VM 'vm2' \(vm0..vm1\)/);
    // vm01 names no VM (the VM is vm1): before, it passed the check and its VLAN was never applied.
    await expect(tapUp({ vms: 2, vmVlans: { vm01: 10 } })).rejects.toThrow(/vmVlans: no VM 'vm01' \(vm0..vm1\)/);
  });
});
