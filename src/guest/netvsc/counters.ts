import { Counters } from '../../core/index.js';

/**
 * Device-wide counters. The first eleven are Linux's `ethtool -S` global names in Linux's order
 * (protocol.md §7), then the five VF names; the rest are our hardening counters, one per §8 check
 * (named for the case they count), so a test can prove every check fired.
 */
export const GUEST_COUNTER_NAMES = [
  'tx_scattered',
  'tx_no_memory',
  'tx_no_space',
  'tx_too_big',
  'tx_busy',
  'tx_send_full',
  'rx_comp_busy',
  'rx_no_memory',
  'stop_queue',
  'wake_queue',
  'vlan_error',
  'vf_rx_packets',
  'vf_rx_bytes',
  'vf_tx_packets',
  'vf_tx_bytes',
  'vf_tx_dropped',
  // --- our own: NVSP completions (§8 items 4, 6–10)
  'comp_bad_id', // unknown, duplicate or stale trans_id (item 4)
  'comp_empty', // zero-length completion not for SWITCH_DATA_PATH (item 6)
  'comp_short', // shorter than 4 or than its type's minimum (items 7, 8)
  'comp_unknown_type', // a type we never asked for, or not the one the request expects (item 9)
  'comp_send_failed', // SEND_RNDIS_PKT_COMPLETE with a non-success status (item 10)
  // --- in-band host messages (items 17–20)
  'inband_short',
  'send_table_bad', // count ≠ 16, offset outside, too short (item 18)
  'inband_unknown',
  // --- transfer-page packets (items 21–25: rejected whole, but still completed with FAIL)
  'rx_bad_nvsp', // NVSP length < 4 or type ≠ 107 (items 21, 22)
  'rx_bad_xfer_header', // offset8 < 24, range_cnt past offset8 (items 23, 25)
  'rx_bad_pageset', // xfer_pageset_id ≠ 0xCAFE (item 24)
  // --- per range (items 26–34): the range fails, the packet completes with FAIL
  'rx_bad_range', // outside the receive buffer (item 26)
  'rx_range_too_big', // byte_count > recv_section_size (item 27)
  'rx_bad_rndis', // header, msg_len, data or PPI area out of bounds (items 29, 30, 32, 33)
  'rx_unknown_rndis', // unhandled message type (item 31)
  'rx_bad_rsc', // RSC fragment out of sequence or too many (item 34)
  'rx_completed_fail', // transfer-page packets completed with NVSP_STAT_FAIL
  'rx_comp_dropped', // a completion that did not fit the pending ring (never expected)
  // --- control responses (items 40–51)
  'rndis_unexpected', // a response while uninitialized or for an unknown req_id (items 40–42)
  'rndis_bad_response', // a response whose lengths/offsets are out of bounds (items 41, 43, 44)
  'rndis_init_clamped', // INIT_C pkt_alignment_factor > 12 or max_pkt_per_msg 0 (§8 "not validated"), clamped
  'rndis_timeout', // a request that got no response within the timeout (Linux waits forever)
  'indicate_bad', // an INDICATE with a short body or status buffer (item 51)
  'indicate_ignored', // an INDICATE status we do not act on
  'link_changes',
  'vf_association',
] as const;

export type GuestCounterName = (typeof GUEST_COUNTER_NAMES)[number];
export type GuestCounters = Counters<GuestCounterName>;

export function newGuestCounters(): GuestCounters {
  return new Counters(GUEST_COUNTER_NAMES);
}
