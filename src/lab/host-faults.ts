/**
 * What the host runtime reports about faults (issue 9, docs/robustness.md): what it reclaimed
 * from a VM that died, and every NIC's receive-buffer audit. Read-only views over host objects;
 * the host runtime decides when a VM is gone (its MessagePort closed) and removes it.
 */
import type { HostNic } from '../host/index.js';

/** What the host took back from a VM that died (its link closed with no removeVm). */
export interface VmReclaim {
  readonly vm: string;
  readonly nics: number;
  /** Receive sections the VM's NICs still had on packets in flight when it died. */
  readonly sectionsHeld: number;
  /** GPADL mappings (receive and send buffers) the host held for the VM, and how many are still mapped after. */
  readonly mappingsHeld: number;
  readonly mappingsLeft: number;
  /** Host channel ends of the VM's NICs still open after the reclaim. */
  readonly channelsLeft: number;
}

/** One NIC's receive-buffer audit (RecvBuffer.audit(): null when sound). */
export interface NicAudit {
  readonly vm: string;
  readonly nic: string;
  readonly audit: string | null;
  readonly sectionsInUse: number;
}

/** Runs `remove` (which takes the VM's NICs off the host) and reports what it freed and what is left. */
export function reclaimVm(vm: string, nics: readonly HostNic[], remove: () => void): VmReclaim {
  const held: { readonly mapped: boolean }[] = [];
  let sections = 0;
  for (const n of nics) {
    const c = n.coordinator;
    if (c.recv) {
      held.push(c.recv.mapping);
      sections += c.recv.sectionsInUse;
    }
    if (c.send) held.push(c.send.mapping);
  }
  remove();
  return {
    vm,
    nics: nics.length,
    sectionsHeld: sections,
    mappingsHeld: held.length,
    mappingsLeft: held.filter((m) => m.mapped).length,
    channelsLeft: nics.reduce((k, n) => k + n.device.channels.length, 0),
  };
}

export function auditNics(nics: readonly HostNic[]): NicAudit[] {
  return nics.map((n) => {
    const r = n.coordinator.recv;
    return { vm: n.vmId, nic: n.name, audit: r?.audit() ?? null, sectionsInUse: r?.sectionsInUse ?? 0 };
  });
}
