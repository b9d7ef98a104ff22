import { isNetvscError, MSG_DIR_TX, MSG_LAYER_NVSP, ProtocolError, ResourceError, type Clock, type MessageObserver } from '../../core/index.js';
import { emitNvsp, NVSP_MESSAGE_SIZE, parseNvsp, type NvspMessage } from '../../wire/index.js';
import { RQST_ID_NO_RESPONSE_HI, RQST_ID_NO_RESPONSE_LO, type Channel, type VmbusPacket } from '../../vmbus/index.js';
import { NVSP_COOKIE_BASE } from './cookies.js';
import type { GuestCounters } from './counters.js';

/** Waiter.expect for a request answered by an empty completion (SWITCH_DATA_PATH, §3.10). */
const EXPECT_EMPTY = -1;

interface Waiter {
  readonly expect: number;
  /** The request; an empty completion resolves with it (there is nothing else to give). */
  readonly sent: NvspMessage;
  readonly resolve: (m: NvspMessage) => void;
  readonly reject: (e: Error) => void;
  readonly cancel: () => void;
}

/**
 * NVSP control messages on one channel (protocol.md §3.4, §3.6): init-type requests sent in-band
 * with COMPLETION_REQUESTED and awaited, each with a Clock timeout; fire-and-forget messages sent
 * with trans_id VMBUS_RQST_ID_NO_RESPONSE. Unlike Linux, which copies any init completion into one
 * shared buffer without looking its id up (§2.11), every completion here is matched by trans_id
 * and must carry the type its request expects.
 */
export class NvspClient {
  private readonly scratch = new Uint8Array(NVSP_MESSAGE_SIZE + 64);
  private readonly dv = new DataView(this.scratch.buffer);
  private seq = 0;
  private readonly waiters = new Map<number, Waiter>();
  /** Sees each message sent (the trace, issue 7), or null. */
  observer: MessageObserver | null = null;

  constructor(
    readonly channel: Channel,
    private readonly clock: Clock,
    private readonly counters: GuestCounters,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Sends `msg` (SWITCH_DATA_PATH) with a completion requested; resolves when the host's empty
   * completion arrives (§3.10). A completion with a body is refused (comp_unknown_type).
   */
  async requestEmpty(msg: NvspMessage): Promise<void> {
    await this.request(msg, EXPECT_EMPTY);
  }

  /** Sends `msg` with a completion requested; resolves with the completion, which must be `expect`. */
  request(msg: NvspMessage, expect: number): Promise<NvspMessage> {
    const len = this.emit(msg);
    const cookie = NVSP_COOKIE_BASE + (this.seq++ & 0xffff);
    return new Promise<NvspMessage>((resolve, reject) => {
      const cancel = this.clock.after(this.timeoutMs, () => {
        if (!this.waiters.delete(cookie)) return;
        reject(new ResourceError('TIMEOUT', `NVSP type ${msg.type} got no completion in ${this.timeoutMs} ms`));
      });
      this.waiters.set(cookie, { expect, sent: msg, resolve, reject, cancel });
      if (this.channel.sendRequest(cookie, this.scratch, 0, len) === 0) {
        this.waiters.delete(cookie);
        cancel();
        reject(new ResourceError('LIMIT', `no ring room or request id for NVSP type ${msg.type}`));
        return;
      }
      this.channel.flush();
    });
  }

  /** Fire-and-forget (NDIS config, NDIS version, revokes): false if the ring had no room. */
  post(msg: NvspMessage): boolean {
    const len = this.emit(msg);
    const ok = this.channel.sendInband(RQST_ID_NO_RESPONSE_LO, RQST_ID_NO_RESPONSE_HI, this.scratch, 0, len);
    if (ok) this.channel.flush();
    return ok;
  }

  /** A completion whose trans_id resolved to one of our cookies (§8 items 6–9). */
  onCompletion(cookie: number, pkt: VmbusPacket): void {
    const w = this.waiters.get(cookie);
    if (!w) {
      this.counters.inc('comp_bad_id'); // the id was ours but the waiter timed out: stale
      return;
    }
    this.waiters.delete(cookie);
    w.cancel();
    const len = pkt.payloadLen;
    if (w.expect === EXPECT_EMPTY) {
      if (len === 0) return w.resolve(w.sent);
      this.counters.inc('comp_unknown_type');
      w.reject(new ProtocolError('UNEXPECTED_MESSAGE', `a ${len}-byte completion where an empty one was expected`));
      return;
    }
    if (len === 0) {
      this.counters.inc('comp_empty');
      w.reject(new ProtocolError('UNEXPECTED_MESSAGE', `empty completion for NVSP type ${w.expect}`));
      return;
    }
    let m: NvspMessage;
    try {
      m = parseNvsp(pkt.dv, pkt.payloadOffset, len, { completion: true });
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('comp_short');
      w.reject(e);
      return;
    }
    if (m.type !== w.expect) {
      this.counters.inc('comp_unknown_type');
      w.reject(new ProtocolError('UNEXPECTED_MESSAGE', `completion of type ${m.type} where ${w.expect} was expected`));
      return;
    }
    w.resolve(m);
  }

  /** Fails every waiter: the channel stopped or the device is going away. */
  abort(e: Error): void {
    for (const [c, w] of this.waiters) {
      this.waiters.delete(c);
      w.cancel();
      w.reject(e);
    }
  }

  private emit(msg: NvspMessage): number {
    this.scratch.fill(0);
    // Linux sends every NVSP message as a zero-filled 40-byte nvsp_message (§3.4).
    const len = Math.max(NVSP_MESSAGE_SIZE, emitNvsp(msg, this.dv, 0));
    this.observer?.message(MSG_DIR_TX, this.channel.subChannelIndex, MSG_LAYER_NVSP, this.scratch, 0, len);
    return len;
  }
}
