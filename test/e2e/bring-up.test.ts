// Bring-up against every host profile, host and VM in separate workers (compiled JS: run
// `npx tsc -p tsconfig.json` first), and the same in single-thread mode.
import { describe, expect, test } from 'vitest';
import { HOST_PROFILE_NAMES, hostProfile } from '../../src/host/index.js';
import { NVSP_PROTOCOL_VERSION_4 } from '../../src/wire/index.js';
import { newLab } from './fixtures.js';

/** What Linux asks for after NVSP init: NDIS 6.1 up to NVSP 4, 6.30 above (protocol.md §3.6 step 4). */
const expectedNdis = (nvsp: number): number => (nvsp <= NVSP_PROTOCOL_VERSION_4 ? (6 << 16) | 1 : (6 << 16) | 30);

describe.each(['workers', 'single-thread'] as const)('bring-up (%s)', (mode) => {
  test.each([...HOST_PROFILE_NAMES])('against %s negotiates the versions the profile speaks', async (name) => {
    const profile = hostProfile(name);
    const lab = await newLab({ profile: name, mode });
    const vm = await lab.addVm({ name: 'a', nics: [{ rxSections: 64, txSections: 16 }] });
    const nic = vm.nics[0]!;
    expect(nic.info.nvspVersion).toBe(profile.maxNvspVersion);
    expect(nic.info.ndisVersion).toBe(expectedNdis(profile.maxNvspVersion));
    expect(nic.info.linkUp).toBe(true);
    const s = await nic.stats();
    expect(s.host.nvspVersion).toBe(profile.maxNvspVersion);
    expect(s.host.mac).toBe(nic.mac);
    expect(s.host.nvsp).toBe('ready');
  });
});
