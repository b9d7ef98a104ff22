/**
 * `vf add` / `vf remove [--surprise]` on a running lab NIC (scenario events and the control
 * socket): the host assigns a new VF (shown after the lab's show delay, then the guest switches
 * its data path to it) or takes it away. Returns notes saying what happened, read back from the
 * running system: the serial given, and for a removal what was lost in flight (surprise) or that
 * the guest acknowledged the eject with nothing lost (planned).
 */
import { isNetvscError } from '../../core/index.js';
import type { LabNic } from '../lab-vm.js';

/** Longest a planned removal waits for the guest's eject ack before the event reports it as still pending. */
const EJECT_WAIT_MS = 5000;

export async function addVf(nic: LabNic): Promise<string[]> {
  const serial = await nic.addVf();
  return [`VF serial ${serial} assigned; the host shows it after ${nic.vm.lab.vfOptions.showDelayMs ?? 0} ms`];
}

export async function removeVf(nic: LabNic, surprise: boolean): Promise<string[]> {
  const loss = await nic.removeVf({ surprise });
  if (surprise) return [`VF surprise-removed: in flight lost tx ${loss?.lostTx ?? 0}, rx ${loss?.lostRx ?? 0}`];
  // Planned: the host switched the data path back first; the VF leaves when the guest acks the eject.
  // Only the wait running out is an outcome reported here; any other failure (the stats call) is the event's.
  let state = '';
  await nic.vm.lab
    .waitFor(`${nic.name}'s VF to leave`, async () => (state = (await nic.stats()).host.vf.state) === 'none', EJECT_WAIT_MS)
    .catch((e: unknown) => {
      if (!(isNetvscError(e) && e.code === 'TIMEOUT')) throw e;
    });
  if (state !== 'none') return [`data path switched to synthetic; VF still ${state} (eject not acknowledged in ${EJECT_WAIT_MS} ms)`];
  const s = await nic.stats();
  return [`data path switched to synthetic; VF removed (lost tx ${s.host.vf.counters.vf_lost_tx ?? 0}, rx ${s.host.vf.counters.vf_lost_rx ?? 0} in all)`];
}
