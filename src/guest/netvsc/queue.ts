import { isNetvscError, MSG_DIR_RX, MSG_LAYER_VMBUS, type MessageObserver } from '../../core/index.js';
import { NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, VM_PKT_COMP, VM_PKT_DATA_INBAND, VM_PKT_DATA_USING_XFER_PAGES } from '../../wire/index.js';
import type { Channel, Pollable, VmbusPacket } from '../../vmbus/index.js';
import { NVSP_COOKIE_BASE, RNDIS_COOKIE_BASE } from './cookies.js';
import type { GuestCounters } from './counters.js';
import type { RxCompletions } from './rx-completions.js';
import type { RxQueue } from './rx.js';
import type { TxQueue } from './tx.js';

/** What a queue hands up to the device: control-path completions and in-band host messages. */
export interface QueueUpcalls {
  nvspCompletion(cookie: number, pkt: VmbusPacket): void;
  controlPageDone(page: number): void;
  inband(pkt: VmbusPacket, queue: Queue): void;
}

/**
 * One channel's data plane (STYLE §2: the guest mirror of the host's QueueWorker): dispatches what
 * the channel reads — completions (type 11) to TX or the control path by cookie range (§2.11),
 * transfer-page packets (type 7) to RX, in-band packets (type 6) to the device — and, as a
 * Pollable on the same EventLoop, retries receive completions and TX batches that found the ring
 * full (rx_comp_busy, stopped queues).
 */
export class Queue implements Pollable {
  private readonly sBadId: number;
  private readonly sShort: number;
  private readonly sType: number;
  private readonly sEmpty: number;
  /** Sees each packet the channel reads (the trace, issue 7), or null. */
  observer: MessageObserver | null = null;

  constructor(
    readonly index: number,
    readonly channel: Channel,
    readonly tx: TxQueue,
    readonly rx: RxQueue,
    readonly completions: RxCompletions,
    private readonly up: QueueUpcalls,
    private readonly counters: GuestCounters,
  ) {
    this.sBadId = counters.slot('comp_bad_id');
    this.sShort = counters.slot('comp_short');
    this.sType = counters.slot('comp_unknown_type');
    this.sEmpty = counters.slot('comp_empty');
    channel.onPacket = (pkt) => this.onPacket(pkt);
  }

  poll(): number {
    // After a rescind or a ring failure writes throw CHANNEL_CLOSED; retrying from the loop would
    // throw out of the VM's event loop and stop every other channel with it (fuzz seed
    // hostile-host-rescind-then-send).
    if (this.channel.state !== 'open') return 0;
    return this.completions.retry() + this.tx.poll();
  }

  idle(): number {
    return 0;
  }

  /**
   * Nothing left in flight on this channel (§1.5 close step 3, §3.7 step 2): every send completed,
   * every transfer-page packet the host wrote read and delivered, and every receive completion
   * written. A channel that stopped counts as drained: nothing more can move on it.
   */
  get drained(): boolean {
    if (this.channel.state !== 'open') return true;
    return this.tx.idle && this.completions.pending === 0 && this.channel.rx.pending() === 0;
  }

  private onPacket(pkt: VmbusPacket): void {
    if (this.observer !== null) this.observer.message(MSG_DIR_RX, this.index, MSG_LAYER_VMBUS, pkt.buf, 0, pkt.len);
    if (this.completions.pending > 0) this.completions.retry(); // keep completions in order
    switch (pkt.type) {
      case VM_PKT_DATA_USING_XFER_PAGES:
        this.rx.receive(pkt);
        return;
      case VM_PKT_COMP:
        this.completion(pkt);
        return;
      case VM_PKT_DATA_INBAND:
        this.up.inband(pkt, this);
        return;
      default:
        this.counters.inc('inband_unknown');
    }
  }

  /** §8 items 4–10: the id first (it names what to free), then the body. */
  private completion(pkt: VmbusPacket): void {
    let cookie: number;
    try {
      cookie = this.channel.completeRequest(pkt);
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      this.counters.add(this.sBadId);
      return;
    }
    if (cookie >= NVSP_COOKIE_BASE) return this.up.nvspCompletion(cookie, pkt);
    const len = pkt.payloadLen;
    let status = 1;
    if (len === 0) this.counters.add(this.sEmpty);
    else if (len < 8) this.counters.add(this.sShort);
    else if (pkt.dv.getUint32(pkt.payloadOffset, true) !== NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE) this.counters.add(this.sType);
    else status = pkt.dv.getUint32(pkt.payloadOffset + 4, true);
    // Whatever the body says, the id matched one of our sends: free what it holds (§8 item 10).
    if (cookie >= RNDIS_COOKIE_BASE) this.up.controlPageDone(cookie - RNDIS_COOKIE_BASE);
    else this.tx.complete(cookie, status);
  }
}
