/**
 * Host counters. Per-queue names reuse Linux ethtool spellings where the same event exists
 * (rx/tx_packets, rx/tx_bytes); the rest name the drop or bad-input case they count, so a test
 * can assert exactly which guard fired (STYLE §2 Errors).
 */
import { Counters } from '../core/index.js';

export const QUEUE_COUNTER_NAMES = [
  'rx_packets', // frames placed in the guest's receive buffer
  'rx_bytes',
  'rx_xfer_packets', // transfer-page packets (type 7) sent
  'rx_control', // RNDIS control replies and indications placed in the receive buffer
  'rx_dropped_no_section', // no free receive section (§4.2: reuse only after completion)
  'rx_dropped_ring_full', // burst full and the ring had no room
  'rx_dropped_no_buffer', // no receive buffer yet, or revoked
  'rx_dropped_revoked', // frames written into the buffer but not yet sent when it was revoked (a subset of rx_packets)
  'rx_unacked_revoked', // frames in transfer-page packets the guest had not completed at the revoke (§1.5: 0 for a guest that drains)
  'rx_dropped_too_big', // RNDIS message larger than one receive section
  'rx_completions', // guest completions of our transfer-page packets
  'rx_bad_completion', // unknown or duplicate trans_id in a guest completion
  'rx_guest_failed', // guest completed a transfer-page packet with a non-success status
  'tx_packets', // frames read from the guest and handed to the switch
  'tx_bytes',
  'tx_vmbus_packets', // NVSP 107 data packets completed
  'tx_bad_section', // section index or size out of range
  'tx_bad_range', // GPA range outside any GPADL, or past the scratch
  'tx_bad_rndis', // msg_len / data / PPI area outside the message, wrong message type
  'tx_not_ready', // data before the buffers were set up
  'tx_comp_deferred', // completion ring full: queued for the next poll
  'tx_comp_dropped', // completion queue overflow (cannot happen with a sane requestor)
  'tx_dropped_switch', // the switch had nowhere to send it
  'tx_csum_filled', // checksums computed for the checksum PPI (offload)
  'tx_lso_segments', // segments produced from LSOv2 super-frames
  'tx_csum_bad', // checksum PPI naming a protocol the frame does not carry (dropped)
  'tx_csum_not_offered', // checksum PPI for a class the host profile does not offload (dropped)
  'tx_lso_bad', // LSO PPI on a frame TcpSegmenter refuses (dropped)
  'tx_lso_not_offered', // LSO PPI for an IP version the profile does not offer (dropped)
  'rx_rsc_packets', // coalesced packets sent as RSC fragments (§5.6)
  'rx_rsc_segments', // received segments that went into them
] as const;
export type QueueCounterName = (typeof QUEUE_COUNTER_NAMES)[number];
export type QueueCounters = Counters<QueueCounterName>;
export const newQueueCounters = (): QueueCounters => new Counters(QUEUE_COUNTER_NAMES);

export const NIC_COUNTER_NAMES = [
  'nvsp_messages',
  'nvsp_unexpected', // a message not accepted in the current state (§3.6 order)
  'nvsp_bad_message', // does not decode
  'nvsp_bad_version', // INIT outside [0x2, profile max]
  'nvsp_bad_buffer', // receive/send buffer GPADL unusable
  'subchannels_granted',
  'control_messages', // RNDIS control messages from the guest
  'control_bad', // RNDIS control bytes that do not decode / wrong state
  'control_dropped', // reply could not be queued (pending cap) or no receive buffer
  'oid_unsupported', // query/set of an OID we do not answer
  'oid_bad_set', // a set whose info buffer is invalid
  'indications', // status indications sent
  'completion_deferred', // an init completion waited for ring space
] as const;
export type NicCounterName = (typeof NIC_COUNTER_NAMES)[number];
export type NicCounters = Counters<NicCounterName>;
export const newNicCounters = (): NicCounters => new Counters(NIC_COUNTER_NAMES);
