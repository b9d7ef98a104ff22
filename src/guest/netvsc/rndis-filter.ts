import { isNetvscError, ProtocolError, ResourceError, type Clock } from '../../core/index.js';
import {
  emitRndis,
  parseRndis,
  RNDIS_MSG_INIT,
  RNDIS_MSG_INIT_C,
  RNDIS_MSG_QUERY,
  RNDIS_MSG_QUERY_C,
  RNDIS_MSG_SET,
  RNDIS_MSG_SET_C,
  RNDIS_MSG_HALT,
  RNDIS_STATUS_BUFFER_OVERFLOW,
  RNDIS_STATUS_SUCCESS,
  type RndisMessage,
} from '../../wire/index.js';
import type { ControlPages } from './control-pages.js';
import type { GuestCounters } from './counters.js';

/** RNDIS device states (protocol.md §5.2). */
export type RndisState = 'uninitialized' | 'initializing' | 'initialized' | 'data-initialized';

/** A matched response: the parsed message plus where its bytes are, to read an info buffer. */
export interface RndisResponse {
  readonly msg: RndisMessage;
  readonly status: number;
  readonly bytes: Uint8Array;
}

/** Sends `len` bytes at the start of control page `page` as a GPA-direct control packet. */
export type ControlSend = (page: number, len: number) => boolean;

/** Largest response Linux copies (§5.3, §8 item 43): sizeof(rndis_message) + 4096. */
const MAX_RESPONSE = 52 + 4096;
const REQ_ID_LIMIT = 0x7fffffff;

interface Pending {
  readonly resolve: (r: RndisResponse) => void;
  readonly reject: (e: Error) => void;
  readonly cancel: () => void;
}

/**
 * The RNDIS request/response layer (protocol.md §5.3, rndis_filter.c in Linux): req_ids count up
 * from 1, each request gets its own waiter and — unlike Linux, which waits forever — a timeout on
 * the injected Clock that rejects with TIMEOUT. Responses are checked per §8 items 40–44 before a
 * waiter sees them.
 */
export class RndisFilter {
  state: RndisState = 'uninitialized';
  private nextReqId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly pages: ControlPages,
    private readonly send: ControlSend,
    private readonly clock: Clock,
    private readonly counters: GuestCounters,
    private readonly timeoutMs: number,
  ) {}

  /** RNDIS INIT (§3.6 step 7): major 1, minor 0, max_xfer_size 0x4000. */
  async initialize(): Promise<{ maxPkt: number; pktAlign: number }> {
    this.state = 'initializing';
    const r = await this.request((reqId) => ({ ndisMsgType: RNDIS_MSG_INIT, msgLen: 24, reqId, majorVer: 1, minorVer: 0, maxXferSize: 0x4000 }));
    if (r.msg.ndisMsgType !== RNDIS_MSG_INIT_C || r.status !== RNDIS_STATUS_SUCCESS) {
      this.state = 'uninitialized';
      throw new ProtocolError('UNEXPECTED_MESSAGE', `RNDIS INIT failed: status 0x${r.status.toString(16)}`);
    }
    this.state = 'initialized';
    // §8 "not validated" gaps closed here: a shift of 31+ or a zero batch limit would break TX.
    const { pktAlignmentFactor: factor, maxPktPerMsg } = r.msg;
    if (factor > 12 || maxPktPerMsg === 0) this.counters.inc('rndis_init_clamped');
    return { maxPkt: Math.max(1, maxPktPerMsg), pktAlign: 1 << Math.min(factor, 12) };
  }

  /** QUERY `oid` with an optional input buffer; resolves with the result bytes (§8 item 44 checked). */
  async query(oid: number, input: Uint8Array | null, maxLen: number): Promise<Uint8Array> {
    const inLen = input?.length ?? 0;
    const r = await this.request((reqId) => ({
      ndisMsgType: RNDIS_MSG_QUERY,
      msgLen: 28 + inLen,
      reqId,
      oid,
      infoBuflen: inLen,
      infoBufOffset: inLen > 0 ? 20 : 0,
      devVcHandle: 0,
      ...(input ? { infoBuf: input } : {}),
    }));
    if (r.msg.ndisMsgType !== RNDIS_MSG_QUERY_C) throw new ProtocolError('UNEXPECTED_MESSAGE', `QUERY 0x${oid.toString(16)} answered by type 0x${r.msg.ndisMsgType.toString(16)}`);
    if (r.status !== RNDIS_STATUS_SUCCESS) throw new ProtocolError('UNEXPECTED_MESSAGE', `QUERY 0x${oid.toString(16)} failed: status 0x${r.status.toString(16)}`);
    const { infoBuflen: n, infoBufOffset: off, msgLen } = r.msg;
    if (n > maxLen || off < 16 || off > msgLen - 8 || n > msgLen - 8 - off) {
      this.counters.inc('rndis_bad_response');
      throw new ProtocolError('MALFORMED', `QUERY_C info buffer (offset ${off}, length ${n}) outside msg_len ${msgLen} or over ${maxLen} B`);
    }
    return r.bytes.slice(8 + off, 8 + off + n);
  }

  /** SET `oid`; `body` names the info buffer as emitRndis knows it (newFilter, offloadParams, rssp/itab/keyp, infoBuf). */
  async set(oid: number, infoLen: number, body: Record<string, unknown>): Promise<number> {
    const r = await this.request((reqId) => ({ ndisMsgType: RNDIS_MSG_SET, msgLen: 28 + infoLen, reqId, oid, infoBuflen: infoLen, infoBufOffset: 20, devVcHandle: 0, ...body }) as RndisMessage);
    if (r.msg.ndisMsgType !== RNDIS_MSG_SET_C) throw new ProtocolError('UNEXPECTED_MESSAGE', `SET 0x${oid.toString(16)} answered by type 0x${r.msg.ndisMsgType.toString(16)}`);
    return r.status;
  }

  /** HALT: sent, no response awaited (§3.7 step 1). */
  halt(): void {
    if (this.state === 'uninitialized') return;
    this.state = 'uninitialized';
    this.nextReqId = this.nextReqId >= REQ_ID_LIMIT ? 1 : this.nextReqId + 1;
    this.emitAndSend({ ndisMsgType: RNDIS_MSG_HALT, msgLen: 12, reqId: this.nextReqId });
  }

  /** Fails every waiter (teardown, channel stop). */
  abort(e: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.cancel();
      p.reject(e);
    }
  }

  /**
   * A control response from the receive path (INIT_C, QUERY_C, SET_C). `bytes` is the range,
   * `msgLen` already checked ≤ its length. Returns false when the range must complete with FAIL.
   */
  onResponse(bytes: Uint8Array, msgLen: number): boolean {
    if (this.state === 'uninitialized') {
      this.counters.inc('rndis_unexpected'); // §8 item 40
      return true;
    }
    if (msgLen - 8 < 4) {
      this.counters.inc('rndis_bad_response'); // item 41: no room for req_id
      return true;
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const reqId = dv.getUint32(8, true);
    const p = this.pending.get(reqId);
    if (!p) {
      this.counters.inc('rndis_unexpected'); // item 42
      return true;
    }
    this.pending.delete(reqId);
    p.cancel();
    if (msgLen > MAX_RESPONSE) {
      // item 43: not copied; the waiter sees BUFFER_OVERFLOW.
      this.counters.inc('rndis_bad_response');
      p.reject(new ProtocolError('MALFORMED', `RNDIS response of ${msgLen} B (status 0x${RNDIS_STATUS_BUFFER_OVERFLOW.toString(16)})`));
      return true;
    }
    // The response is copied out of the receive buffer before parsing (§8 item 30): the host may
    // not change what we validated.
    const copy = bytes.slice(0, msgLen);
    try {
      const msg = parseRndis(new DataView(copy.buffer), 0, msgLen);
      const status = 'status' in msg ? msg.status : RNDIS_STATUS_SUCCESS;
      p.resolve({ msg, status, bytes: copy });
      return true;
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('rndis_bad_response');
      p.reject(e);
      return false;
    }
  }

  private request(build: (reqId: number) => RndisMessage): Promise<RndisResponse> {
    this.nextReqId = this.nextReqId >= REQ_ID_LIMIT ? 1 : this.nextReqId + 1;
    const reqId = this.nextReqId;
    return new Promise<RndisResponse>((resolve, reject) => {
      const cancel = this.clock.after(this.timeoutMs, () => {
        if (!this.pending.delete(reqId)) return;
        this.counters.inc('rndis_timeout');
        reject(new ResourceError('TIMEOUT', `RNDIS request ${reqId} got no response in ${this.timeoutMs} ms`));
      });
      this.pending.set(reqId, { resolve, reject, cancel });
      try {
        this.emitAndSend(build(reqId));
      } catch (e) {
        this.pending.delete(reqId);
        cancel();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private emitAndSend(msg: RndisMessage): void {
    const page = this.pages.take();
    const len = emitRndis(msg, this.pages.view(page), 0);
    if (!this.send(page, len)) {
      this.pages.done(page);
      throw new ResourceError('LIMIT', 'no ring room or request id for an RNDIS control packet');
    }
  }
}
