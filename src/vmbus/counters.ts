import { Counters } from '../core/index.js';

/**
 * Per-channel (and per-bus) VMBus counters. Ring names follow Linux's debugfs/ethtool spelling where
 * one exists (`out_full_total`, `out_full_first`); the rest name the bad-input case they count.
 */
export const VMBUS_COUNTER_NAMES = [
  'out_full_total', // a write found no room (§2.3 step 2)
  'out_full_first', // ... and it was the first failure since the last success
  'pkts_written',
  'pkts_read',
  'batches_read',
  'pkt_truncated', // a packet longer than max_pkt_size was clamped (§2.4 step 3)
  'ring_corrupt', // indexes or descriptors outside the ring
  'bad_gpadl', // a GPADL handle, page or range that does not exist
  'gpadl_limit', // a GPADL refused: the VM holds its maximum, or a page would be in more than 65535 GPADL entries
  'bad_transaction', // unknown, duplicate or stale transaction id
  'bad_message', // a channel message that does not decode or is out of sequence
  'closed_writes', // a write on a closed, rescinded or failed channel
  'reclaimed_ids', // outstanding requests dropped by rescind/close
  'signals_sent',
  'signals_received',
  'pending_send_set', // a blocked writer set pending_send_sz
] as const;

export type VmbusCounterName = (typeof VMBUS_COUNTER_NAMES)[number];
export type VmbusCounters = Counters<VmbusCounterName>;

export function newVmbusCounters(): VmbusCounters {
  return new Counters(VMBUS_COUNTER_NAMES);
}
