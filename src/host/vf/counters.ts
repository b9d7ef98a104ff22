import { Counters } from '../../core/index.js';

/** Host-side VF counters of one NIC (docs/vf.md). */
export const HOST_VF_COUNTER_NAMES = [
  'vf_unexpected', // an event illegal in the current state (ProtocolError UNEXPECTED_MESSAGE)
  'vf_added',
  'vf_associations_sent', // SEND_VF_ASSOCIATION messages written (allocated 1 and 0)
  'vf_association_deferred', // the primary ring was full: sent on a later poll
  'vf_switch_to_vf', // guest SWITCH_DATA_PATH(1) applied
  'vf_switch_to_synthetic', // guest SWITCH_DATA_PATH(0) applied
  'vf_switch_noop', // a request for the path already in use (legal, completed)
  'vf_switch_refused', // SWITCH_DATA_PATH(1) while the VF link is down: path stays synthetic
  'vf_host_switch_back', // host-initiated move back to synthetic (link down, removal, guest reset)
  'vf_planned_removals',
  'vf_surprise_removals',
  'vf_eject_timeouts', // a planned removal the guest did not acknowledge in time: surprise-removed
  'vf_guest_resets', // the guest's primary channel closed while a VF was shown
  'vf_lost_tx', // frames in the VF's transmit queues when it vanished
  'vf_lost_rx', // frames in the VF's receive queues when it vanished
  'vf_frames_to_guest',
  'vf_bytes_to_guest',
  'vf_frames_to_guest_dropped', // a VF receive queue was full
  'vf_frames_from_guest',
  'vf_bytes_from_guest',
] as const;
export type HostVfCounterName = (typeof HOST_VF_COUNTER_NAMES)[number];
export type HostVfCounters = Counters<HostVfCounterName>;
