// Bad options fail with a ConfigError that names the field, and leave nothing running.
import { describe, expect, test } from 'vitest';
import { Lab } from '../../src/lab/index.js';
import { newLab } from './fixtures.js';

describe('bad options', () => {
  test('Lab.create() names the bad field', async () => {
    await expect(Lab.create({ profile: 'ws2003' as never })).rejects.toThrow(/^profile: 'ws2003'/);
    await expect(Lab.create({ mode: 'threads' as never })).rejects.toThrow(/^mode:/);
    await expect(Lab.create({ callTimeoutMs: 5 })).rejects.toThrow(/^callTimeoutMs:/);
  });

  test('addVm() names the VM or NIC field and the lab keeps working', async () => {
    const lab = await newLab({ mode: 'single-thread' });
    await expect(lab.addVm({ name: 'a b' })).rejects.toMatchObject({ name: 'ConfigError', code: 'BAD_CONFIG' });
    await expect(lab.addVm({ name: 'a', nics: [{ mtu: 10 }] })).rejects.toThrow(/^nics\[0\]\.mtu: 10/);
    await expect(lab.addVm({ name: 'a', nics: [{ mac: 'nope' }] })).rejects.toThrow(/^nics\[0\]\.mac:/);
    await expect(lab.addVm({ name: 'a', nics: [{ rxSections: 5 }] })).rejects.toThrow(/^nics\[0\]\.rxSections:/);
    await expect(lab.addVm({ name: 'a', nics: [{ name: 'x' }, { name: 'x' }] })).rejects.toThrow(/^nics: NIC names must be unique/);
    const vm = await lab.addVm({ name: 'a' });
    await expect(lab.addVm({ name: 'a' })).rejects.toThrow(/^name: a VM named 'a' already exists/);
    expect(() => vm.nic('eth9')).toThrow(/^nic:/);
  });

  test('traffic apps name the field, across the worker boundary too', async () => {
    const lab = await newLab({ mode: 'workers' });
    const nic = (await lab.addVm({ name: 'a' })).nics[0]!;
    await expect(nic.startGenerator({ flow: 1, dstMac: nic.mac, sizes: [2000], count: 1 })).rejects.toThrow(/^sizes\[0\]: 2000/);
    await expect(nic.startGenerator({ flow: 1, dstMac: 'x', sizes: [60], count: 1 })).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/^dstMac:/) });
    await expect(nic.startSink({ flow: 1, count: 0 })).rejects.toThrow(/^count:/);
    await expect(nic.setMtu(1)).rejects.toMatchObject({ name: 'ConfigError' });
  });
});
