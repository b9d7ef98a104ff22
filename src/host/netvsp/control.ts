/**
 * The RNDIS control plane of one NIC (protocol.md §5.1–5.3, §5.7; peers.md §1.6): INITIALIZE,
 * QUERY, SET, HALT (no reply), RESET (RESET_C), KEEPALIVE (KEEPALIVE_C), and status indications.
 * Messages arrive as bytes of NVSP 107 channel_type 1; replies are RNDIS messages the
 * coordinator places in the receive buffer like data (§3.8).
 */
import * as W from '../../wire/index.js';
import type { RndisMessage } from '../../wire/index.js';
import { ProtocolError } from '../../core/index.js';
import type { NicCounters } from '../counters.js';
import type { NicState } from './nic-state.js';
import { queryOid, setOid, type OidStats } from './oids.js';

/** RNDIS device state (§5.2): the host only distinguishes before and after INITIALIZE. */
export type RndisState = { readonly kind: 'uninitialized' } | { readonly kind: 'initialized'; readonly maxXferSize: number } | { readonly kind: 'halted' };

/** Largest transfer the host takes in one message (peers.md §1.6: openvmm answers 0xEFFFFFFF). */
const MAX_XFER_SIZE = 0xefffffff;
/** QUERY_C / SET_C layouts (§5.2): info buffer right after the 24-byte QUERY_C header. */
const QUERY_C_HEADER = 24;
const QUERY_C_INFO_OFFSET = 16;
/** QUERY fixed part (§5.2): up to dev_vc_handle. */
const QUERY_FIXED = 28;

export class RndisControl {
  state: RndisState = { kind: 'uninitialized' };
  private readonly out = new Uint8Array(8192);
  private readonly outDv = new DataView(this.out.buffer);

  constructor(
    private readonly st: NicState,
    private readonly counters: NicCounters,
    private readonly stats: () => OidStats,
  ) {}

  /**
   * Handles one control message; returns the reply bytes (a view into a scratch buffer the
   * caller copies at once) or null when the message needs no reply. Throws WireError for bytes
   * that do not decode and ProtocolError for a message out of sequence.
   */
  handle(dv: DataView, at: number, len: number): Uint8Array | null {
    const msg = this.parse(dv, at, len);
    this.counters.inc('control_messages');
    switch (msg.ndisMsgType) {
      case W.RNDIS_MSG_INIT:
        this.state = { kind: 'initialized', maxXferSize: msg.maxXferSize };
        return this.emit({
          ndisMsgType: W.RNDIS_MSG_INIT_C, msgLen: 52, reqId: msg.reqId, status: W.RNDIS_STATUS_SUCCESS,
          majorVer: W.RNDIS_MAJOR_VERSION, minorVer: W.RNDIS_MINOR_VERSION, devFlags: W.RNDIS_DF_CONNECTIONLESS,
          medium: W.RNDIS_MEDIUM_802_3, maxPktPerMsg: this.st.profile.maxPktPerMsg, maxXferSize: MAX_XFER_SIZE,
          pktAlignmentFactor: this.st.profile.pktAlignmentFactor, afListOffset: 0, afListSize: 0,
        });
      case W.RNDIS_MSG_HALT:
        this.state = { kind: 'halted' };
        return null; // §5.1: no response
      case W.RNDIS_MSG_QUERY: {
        this.requireInitialized('QUERY');
        const input = msg.infoBuflen > 0 ? new Uint8Array(dv.buffer, dv.byteOffset + at + 8 + msg.infoBufOffset, msg.infoBuflen) : new Uint8Array(0);
        const a = queryOid(msg.oid, input, this.st, this.stats());
        if (a.status === W.RNDIS_STATUS_NOT_SUPPORTED) this.counters.inc('oid_unsupported');
        const n = a.info.length;
        return this.emit({
          ndisMsgType: W.RNDIS_MSG_QUERY_C, msgLen: QUERY_C_HEADER + n, reqId: msg.reqId, status: a.status,
          infoBuflen: n, infoBufOffset: n > 0 ? QUERY_C_INFO_OFFSET : 0, ...(n > 0 ? { infoBuf: a.info } : {}),
        });
      }
      case W.RNDIS_MSG_SET: {
        this.requireInitialized('SET');
        const status = setOid(msg, this.st);
        if (status === W.RNDIS_STATUS_NOT_SUPPORTED) this.counters.inc('oid_unsupported');
        else if (status !== W.RNDIS_STATUS_SUCCESS) this.counters.inc('oid_bad_set');
        return this.emit({ ndisMsgType: W.RNDIS_MSG_SET_C, msgLen: 16, reqId: msg.reqId, status });
      }
      case W.RNDIS_MSG_RESET:
        return this.emit({ ndisMsgType: W.RNDIS_MSG_RESET_C, msgLen: 16, status: W.RNDIS_STATUS_SUCCESS, addressingReset: 0 });
      case W.RNDIS_MSG_KEEPALIVE:
        return this.emit({ ndisMsgType: W.RNDIS_MSG_KEEPALIVE_C, msgLen: 16, reqId: msg.reqId, status: W.RNDIS_STATUS_SUCCESS });
      default:
        throw new ProtocolError('UNEXPECTED_MESSAGE', `RNDIS message type 0x${msg.ndisMsgType.toString(16)} on the control channel`);
    }
  }

  /**
   * A status indication (§5.7): MEDIA_CONNECT / MEDIA_DISCONNECT / NETWORK_CHANGE with no buffer,
   * LINK_SPEED_CHANGE with a u32 in 100 bit/s units. Null before INITIALIZE: nobody listens yet.
   */
  indication(status: number, speed100bps?: number): Uint8Array | null {
    if (this.state.kind !== 'initialized') return null;
    this.counters.inc('indications');
    return speed100bps === undefined
      ? this.emit({ ndisMsgType: W.RNDIS_MSG_INDICATE, msgLen: 20, status, statusBuflen: 0, statusBufOffset: 0 })
      : this.emit({ ndisMsgType: W.RNDIS_MSG_INDICATE, msgLen: 24, status, statusBuflen: 4, statusBufOffset: 12, speed: speed100bps });
  }

  /**
   * parseRndis, except for a QUERY whose input is only an object header (the offload and RSS
   * capability queries send {type, revision, size} alone, §5.8): src/wire decodes that input as
   * the whole object and refuses it, so the fixed part is parsed on its own and the input bytes
   * are taken from the offsets the message gives, checked against msg_len.
   */
  private parse(dv: DataView, at: number, len: number): RndisMessage {
    try {
      return W.parseRndis(dv, at, len);
    } catch (e) {
      if (len < QUERY_FIXED || dv.getUint32(at, true) !== W.RNDIS_MSG_QUERY) throw e;
      for (let i = 0; i < QUERY_FIXED; i++) this.out[i] = dv.getUint8(at + i);
      this.outDv.setUint32(4, QUERY_FIXED, true);
      this.outDv.setUint32(16, 0, true);
      this.outDv.setUint32(20, 0, true);
      const fixed = W.parseRndis(this.outDv, 0, QUERY_FIXED);
      const n = dv.getUint32(at + 16, true);
      const off = dv.getUint32(at + 20, true);
      const msgLen = dv.getUint32(at + 4, true);
      if (msgLen > len || 8 + off + n > msgLen || 8 + off < QUERY_FIXED) throw e;
      return { ...fixed, msgLen, infoBuflen: n, infoBufOffset: off } as RndisMessage;
    }
  }

  private requireInitialized(what: string): void {
    if (this.state.kind !== 'initialized') throw new ProtocolError('UNEXPECTED_MESSAGE', `RNDIS ${what} while ${this.state.kind}`);
  }

  private emit(m: RndisMessage): Uint8Array {
    const n = W.emitRndis(m, this.outDv, 0);
    return this.out.subarray(0, n);
  }
}
