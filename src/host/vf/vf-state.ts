/**
 * The host's VF state machine per synthetic NIC (peers.md §1.4: openvmm's Initializing, Available,
 * AvailableAdvertised, Ready, DataPathSwitchPending, DataPathSwitched, DataPathSynthetic,
 * Unavailable-from-*), as a discriminated union with one pure function per event (STYLE §2). An
 * event illegal in the current state throws ProtocolError('UNEXPECTED_MESSAGE'); the controller
 * (host-vf.ts) counts it and performs the side effects of legal transitions.
 */
import { ProtocolError } from '../../core/index.js';

export type HostVfState =
  /** No VF is assigned to the NIC. */
  | { readonly kind: 'none' }
  /** A VF is assigned; the guest has not negotiated SR-IOV yet (NVSP ≥ 4 + sriov bit, §3.5). */
  | { readonly kind: 'initializing'; readonly serial: number }
  /** The guest can take a VF; the show delay runs (1 s on Hyper-V, peers.md §1.4). */
  | { readonly kind: 'available'; readonly serial: number }
  /** SEND_VF_ASSOCIATION {1, serial} sent (§3.10); the device is being hot-added. */
  | { readonly kind: 'advertised'; readonly serial: number }
  /** The VF is visible in the VM; the data path is synthetic; the guest may switch. */
  | { readonly kind: 'ready'; readonly serial: number }
  /** A SWITCH_DATA_PATH is being applied to the switch. */
  | { readonly kind: 'switchPending'; readonly serial: number; readonly toVf: boolean }
  /** The MAC's traffic goes through the VF port. */
  | { readonly kind: 'switched'; readonly serial: number }
  /** Back on the synthetic path (guest request or host-initiated) with the VF still present. */
  | { readonly kind: 'synthetic'; readonly serial: number }
  /** Removal in progress: association {0} sent; planned removals wait for the guest's eject ack. */
  | { readonly kind: 'unavailable'; readonly serial: number; readonly from: VfStateKind; readonly planned: boolean };

export type VfStateKind = HostVfState['kind'];

function unexpected(event: string, s: HostVfState): never {
  throw new ProtocolError('UNEXPECTED_MESSAGE', `VF event ${event} while ${s.kind}`);
}

/** A VF was assigned to the NIC. */
export function onVfAdded(s: HostVfState, serial: number, guestSriov: boolean): HostVfState {
  switch (s.kind) {
    case 'none':
      return guestSriov ? { kind: 'available', serial } : { kind: 'initializing', serial };
    default:
      return unexpected('add', s);
  }
}

/** The guest negotiated SR-IOV (observed on the NIC, §3.5/§6.8). */
export function onGuestSriov(s: HostVfState): HostVfState {
  switch (s.kind) {
    case 'initializing':
      return { kind: 'available', serial: s.serial };
    default:
      return unexpected('guestSriov', s);
  }
}

/** The show delay ran out: the association goes to the guest. */
export function onShowDelayElapsed(s: HostVfState): HostVfState {
  switch (s.kind) {
    case 'available':
      return { kind: 'advertised', serial: s.serial };
    default:
      return unexpected('showDelayElapsed', s);
  }
}

/** The device is now visible in the VM. */
export function onVfShown(s: HostVfState): HostVfState {
  switch (s.kind) {
    case 'advertised':
      return { kind: 'ready', serial: s.serial };
    default:
      return unexpected('shown', s);
  }
}

/**
 * The guest's SWITCH_DATA_PATH (§3.10). Asking for the synthetic path is always legal (the guest
 * may react to a removal the host already began); asking for the VF needs a VF the guest can see.
 */
export function onGuestSwitch(s: HostVfState, toVf: boolean): HostVfState {
  switch (s.kind) {
    case 'ready':
    case 'synthetic':
      return toVf ? { kind: 'switchPending', serial: s.serial, toVf } : s;
    case 'switched':
      return toVf ? s : { kind: 'switchPending', serial: s.serial, toVf };
    case 'switchPending':
      return unexpected(`switch(${toVf ? 1 : 0}) during a pending switch`, s);
    case 'none':
    case 'initializing':
    case 'available':
    case 'advertised':
    case 'unavailable':
      return toVf ? unexpected('switch(1) without a visible VF', s) : s;
  }
}

/** The switch now steers as the pending request asked. */
export function onSwitchApplied(s: HostVfState): HostVfState {
  switch (s.kind) {
    case 'switchPending':
      return s.toVf ? { kind: 'switched', serial: s.serial } : { kind: 'synthetic', serial: s.serial };
    default:
      return unexpected('switchApplied', s);
  }
}

/** Host-initiated switch back to synthetic (VF link down, or before a removal). */
export function onHostSwitchBack(s: HostVfState): HostVfState {
  switch (s.kind) {
    case 'switched':
      return { kind: 'synthetic', serial: s.serial };
    case 'ready':
    case 'synthetic':
      return s;
    default:
      return unexpected('hostSwitchBack', s);
  }
}

/** The VF is being removed (planned: eject request; surprise: it is already gone). */
export function onRemoveStarted(s: HostVfState, planned: boolean): HostVfState {
  switch (s.kind) {
    case 'none':
    case 'unavailable':
      return unexpected('remove', s);
    default:
      return { kind: 'unavailable', serial: s.serial, from: s.kind, planned };
  }
}

/** The device is out of the VM. */
export function onRemoved(s: HostVfState): HostVfState {
  switch (s.kind) {
    case 'unavailable':
      return { kind: 'none' };
    default:
      return unexpected('removed', s);
  }
}

/** The guest's primary channel closed (reset, reconfiguration): it must negotiate again. */
export function onGuestReset(s: HostVfState): HostVfState {
  switch (s.kind) {
    case 'none':
    case 'initializing':
    case 'unavailable':
      return s;
    default:
      return { kind: 'initializing', serial: s.serial };
  }
}
