import { emitNvsp, NVSP_MESSAGE_SIZE, NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, NVSP_RECV_COMPLETION_SIZE, NVSP_STAT_FAIL, NVSP_STAT_SUCCESS } from '../../wire/index.js';
import type { Channel } from '../../vmbus/index.js';
import { MSG_DIR_TX, MSG_LAYER_NVSP, type MessageObserver } from '../../core/index.js';

/**
 * Receive completions of one queue (protocol.md §3.8, §4.2): one VM_PKT_COMP per transfer-page
 * packet echoing the host's trans_id with {108, status}. They are written as the packets are
 * processed and published together when the channel's poll ends (one signal for the batch). A
 * completion that finds the ring full waits in a preallocated ring of `capacity` entries
 * (Linux's mrc, recv_section_cnt + 1) and is retried first on the next poll (rx_comp_busy).
 */
export class RxCompletions {
  private readonly ok = new Uint8Array(NVSP_MESSAGE_SIZE);
  private readonly fail = new Uint8Array(NVSP_MESSAGE_SIZE);
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  private readonly status: Uint8Array;
  private head = 0;
  private count = 0;
  /** Sees each receive completion sent (the trace, issue 7), or null. */
  observer: MessageObserver | null = null;

  constructor(
    private readonly channel: Channel,
    readonly capacity: number,
  ) {
    emitNvsp({ type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status: NVSP_STAT_SUCCESS }, new DataView(this.ok.buffer), 0);
    emitNvsp({ type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status: NVSP_STAT_FAIL }, new DataView(this.fail.buffer), 0);
    this.lo = new Uint32Array(capacity);
    this.hi = new Uint32Array(capacity);
    this.status = new Uint8Array(capacity);
  }

  get pending(): number {
    return this.count;
  }

  /**
   * Completes one packet. Returns 'sent', 'queued' (ring full: count rx_comp_busy) or 'dropped'
   * (the pending ring is full too, which the sizing makes impossible for an honest host).
   */
  complete(lo: number, hi: number, success: boolean): 'sent' | 'queued' | 'dropped' {
    if (this.count === 0 && this.write(lo, hi, success)) return 'sent';
    if (this.count === this.capacity) return 'dropped';
    const i = (this.head + this.count) % this.capacity;
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.status[i] = success ? 1 : 0;
    this.count++;
    return 'queued';
  }

  /** Retries queued completions in order; returns how many went out. */
  retry(): number {
    let n = 0;
    while (this.count > 0) {
      const i = this.head;
      if (!this.write(this.lo[i]!, this.hi[i]!, this.status[i] === 1)) break;
      this.head = (i + 1) % this.capacity;
      this.count--;
      n++;
    }
    if (n > 0) this.channel.flush();
    return n;
  }

  private write(lo: number, hi: number, success: boolean): boolean {
    const body = success ? this.ok : this.fail;
    if (!this.channel.sendCompletion(lo, hi, body, 0, NVSP_RECV_COMPLETION_SIZE)) return false;
    if (this.observer !== null) this.observer.message(MSG_DIR_TX, this.channel.subChannelIndex, MSG_LAYER_NVSP, body, 0, NVSP_RECV_COMPLETION_SIZE);
    return true;
  }
}
