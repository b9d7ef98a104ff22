// netvsc up's VLAN flags read without root: --nic-vlan nicI=SPEC into tapUp's vmVlans, bad items refused.
import { describe, expect, it } from 'vitest';
import { readNicVlans } from './up.js';

describe('readNicVlans (--nic-vlan)', () => {
  it('maps nicI=SPEC to vmI and reads SPEC as --uplink-vlan does', () => {
    expect(readNicVlans(undefined, 2)).toBeUndefined();
    expect(readNicVlans(['nic0=access:10', 'nic1=trunk:10,20'], 2)).toEqual({ vm0: 10, vm1: { trunk: [10, 20] } });
  });

  it.each([
    [['nic2=access:10'], /--nic-vlan: 'nic2=access:10' is not nicI=.* with I < 2/],
    [['vm0=access:10'], /--nic-vlan: 'vm0=access:10' is not nicI=/],
    [['nic0=10'], /--nic-vlan nic0: '10' is neither trunk:… nor access:…/],
    [['nic1=trunk:4095'], /--nic-vlan nic1: '4095' is not a VLAN id 1..4094/],
    [['nic0=access:1', 'nic0=access:2'], /--nic-vlan: nic0 given twice/],
  ])('rejects %j', (list, why) => {
    expect(() => readNicVlans(list, 2)).toThrow(why);
  });
});
