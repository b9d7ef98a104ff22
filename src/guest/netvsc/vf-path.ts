/**
 * Where this NIC's traffic flows (STYLE §2 DataPath; protocol.md §3.10, §6.8). `onVf` is Linux's
 * data_path_is_vf: TX uses the VF only there. Leaving the VF clears it BEFORE SWITCH_DATA_PATH(0)
 * goes out; reaching it waits for the host's completion of SWITCH_DATA_PATH(1).
 */
import { ProtocolError } from '../../core/index.js';

export type GuestDataPath =
  | { readonly kind: 'synthetic' }
  | { readonly kind: 'switchingToVf'; readonly serial: number }
  | { readonly kind: 'onVf'; readonly serial: number }
  | { readonly kind: 'switchingToSynthetic'; readonly serial: number };

/** The VF is usable and the path is synthetic: SWITCH_DATA_PATH(1) is being sent. */
export function onStartToVf(s: GuestDataPath, serial: number): GuestDataPath {
  switch (s.kind) {
    case 'synthetic':
      return { kind: 'switchingToVf', serial };
    default:
      throw new ProtocolError('UNEXPECTED_MESSAGE', `switch to VF while ${s.kind}`);
  }
}

/** The VF is not usable any more: data_path_is_vf is cleared now, SWITCH_DATA_PATH(0) follows. */
export function onStartToSynthetic(s: GuestDataPath): GuestDataPath {
  switch (s.kind) {
    case 'onVf':
      return { kind: 'switchingToSynthetic', serial: s.serial };
    default:
      throw new ProtocolError('UNEXPECTED_MESSAGE', `switch to synthetic while ${s.kind}`);
  }
}

/** The host completed (ok) or the request failed: a failed switch to the VF leaves traffic synthetic. */
export function onSwitchDone(s: GuestDataPath, ok: boolean): GuestDataPath {
  switch (s.kind) {
    case 'switchingToVf':
      return ok ? { kind: 'onVf', serial: s.serial } : { kind: 'synthetic' };
    case 'switchingToSynthetic':
      return { kind: 'synthetic' };
    default:
      throw new ProtocolError('UNEXPECTED_MESSAGE', `switch completion while ${s.kind}`);
  }
}
