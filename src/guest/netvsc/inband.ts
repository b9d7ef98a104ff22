import { NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION, NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE, NVSP_PROTOCOL_VERSION_6, VRSS_SEND_TAB_SIZE } from '../../wire/index.js';
import type { Channel, VmbusPacket } from '../../vmbus/index.js';
import type { GuestCounters } from './counters.js';

/** The host's VF offer (§3.10): issue 6 builds failover on it. */
export interface VfAssociation {
  readonly allocated: boolean;
  readonly serial: number;
}

/** What in-band handling touches on the device. */
export interface InbandTarget {
  readonly counters: GuestCounters;
  readonly txTable: Uint32Array;
  /** Set when a host table is taken, so the attach's default does not overwrite it. */
  txTableFromHost: boolean;
  readonly version: number;
  vf: VfAssociation;
  onVfAssociation(vf: VfAssociation): void;
}

/**
 * In-band host messages (protocol.md §3.9, §3.10, §8 items 17–20). Fields are read at their §3.4
 * offsets because the send-table checks depend on the packet length and the NVSP version (the
 * ≤ 6.0 offset fix-up), which a generic decoder cannot know.
 */
export function handleInband(dev: InbandTarget, pkt: VmbusPacket, _ch: Channel): void {
  const at = pkt.payloadOffset;
  const len = pkt.payloadLen;
  const dv = pkt.dv;
  if (len < 4) {
    dev.counters.inc('inband_short'); // item 17
    return;
  }
  switch (dv.getUint32(at, true)) {
    case NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE: {
      if (len < 12) return void dev.counters.inc('send_table_bad');
      const count = dv.getUint32(at + 4, true);
      let offset = dv.getUint32(at + 8, true);
      if (count !== VRSS_SEND_TAB_SIZE) return void dev.counters.inc('send_table_bad');
      // Host bug workaround (§3.9): up to NVSP 6.0 the table sits right after a 40-byte nvsp_message.
      if (dev.version <= NVSP_PROTOCOL_VERSION_6 && len >= 4 + 36 + 16 * 4) offset = 40;
      if (len < 64 || offset > len - 64) return void dev.counters.inc('send_table_bad');
      for (let i = 0; i < VRSS_SEND_TAB_SIZE; i++) dev.txTable[i] = dv.getUint32(at + offset + 4 * i, true);
      dev.txTableFromHost = true;
      return;
    }
    case NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION: {
      if (len < 12) return void dev.counters.inc('inband_short'); // item 19
      dev.vf = { allocated: dv.getUint32(at + 4, true) !== 0, serial: dv.getUint32(at + 8, true) };
      dev.counters.inc('vf_association');
      dev.onVfAssociation(dev.vf);
      return;
    }
    default:
      dev.counters.inc('inband_unknown'); // item 20
  }
}
