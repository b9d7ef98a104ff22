// `vf remove` (planned) waits for the guest's eject ack by reading the NIC's stats: running out of
// time is reported in the notes, but a stats call that fails is the event's failure, not hidden.
import { describe, expect, test } from 'vitest';
import { ResourceError } from '../../core/index.js';
import type { LabNic } from '../lab-vm.js';
import { removeVf } from './vf-change.js';

/** A NIC whose host VF state reads from `states` in turn (a thrown Error is a failed stats call). */
function nicWith(states: readonly (string | Error)[]): LabNic {
  let i = 0;
  const stats = async () => {
    const s = states[Math.min(i++, states.length - 1)]!;
    if (s instanceof Error) throw s;
    return { host: { vf: { state: s, counters: { vf_lost_tx: 0, vf_lost_rx: 0 } } } };
  };
  // The lab's waitFor: polls check() a few times, then TIMEOUT.
  const waitFor = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    for (let t = 0; t < 3; t++) if (await check()) return;
    throw new ResourceError('TIMEOUT', `lab: gave up waiting for ${what}`);
  };
  return { name: 'eth0', removeVf: async () => null, stats, vm: { lab: { waitFor } } } as unknown as LabNic;
}

describe('removeVf() (planned)', () => {
  test('the VF leaving is reported with what was lost', async () => {
    expect(await removeVf(nicWith(['present', 'none']), false)).toEqual(['data path switched to synthetic; VF removed (lost tx 0, rx 0 in all)']);
  });

  test('no eject ack in time is reported as still pending', async () => {
    expect(await removeVf(nicWith(['present']), false)).toEqual(['data path switched to synthetic; VF still present (eject not acknowledged in 5000 ms)']);
  });

  test('a failing stats call fails the event with its error instead of being swallowed', async () => {
    const err = new ResourceError('CHANNEL_CLOSED', 'device is detached');
    await expect(removeVf(nicWith(['present', err]), false)).rejects.toBe(err);
  });
});
