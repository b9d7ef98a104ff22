/**
 * One queue worker per channel (STYLE §2: openvmm's Worker): reads the channel's packets,
 * runs the send path for NVSP 107, frees receive sections on the guest's completions, owns the
 * receive burst, and keeps TX completions that found the ring full until the next poll. Every
 * other NVSP message goes to the coordinator.
 */
import {
  emitNvsp,
  NVSP_MSG1_TYPE_SEND_RNDIS_PKT,
  NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE,
  NVSP_STAT_FAIL,
  NVSP_STAT_INVALID_RNDIS_PKT,
  NVSP_STAT_SUCCESS,
  nvspSize,
  VM_PKT_COMP,
  VM_PKT_DATA_INBAND,
  VM_PKT_DATA_USING_GPA_DIRECT,
} from '../../wire/index.js';
import { MSG_DIR_RX, MSG_DIR_TX, MSG_LAYER_NVSP, MSG_LAYER_VMBUS, type MessageObserver } from '../../core/index.js';
import type { Channel, GpadlTable, VmbusPacket } from '../../vmbus/index.js';
import { newQueueCounters, type QueueCounters } from '../counters.js';
import type { RecvBuffer } from './recv-buffer.js';
import { RxPath, type RxPathOptions } from './rx-path.js';
import { TX_BAD_PACKET, TX_OK, TxPath, type TxSink } from './tx-path.js';
import { TxOffload } from './tx-offload.js';
import type { HostProfile } from '../profiles.js';

/** What a queue asks of its coordinator. */
export interface QueueOwner extends TxSink {
  /** Any NVSP message other than 107 (init, buffers, sub-channels, …). */
  nvsp(pkt: VmbusPacket, q: QueueWorker): void;
  /** The NIC has its receive buffer: data may flow. */
  readonly ready: boolean;
  /** What the host offers (transmit offloads are checked against it). */
  readonly profile: HostProfile;
  /** Whether a unicast frame to bytes[off..off+6) reaches a port that takes LSO super-frames whole. */
  peerTakesSuperFrames(bytes: Uint8Array, off: number): boolean;
  /** Sees every packet the guest sends and every NVSP message the host answers with (the trace, issue 7), or null. */
  readonly observer: MessageObserver | null;
}

/** Completions waiting for ring space; the guest's requestor bounds how many can be outstanding. */
const PENDING_COMPLETIONS = 4096;

function completion(status: number): Uint8Array {
  const m = { type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status } as const;
  const b = new Uint8Array(nvspSize(m));
  emitNvsp(m, new DataView(b.buffer), 0);
  return b;
}
const COMP_BY_RESULT = [completion(NVSP_STAT_SUCCESS), completion(NVSP_STAT_FAIL), completion(NVSP_STAT_INVALID_RNDIS_PKT)] as const;

export class QueueWorker {
  readonly counters: QueueCounters = newQueueCounters();
  readonly rx: RxPath;
  readonly tx: TxPath;
  private readonly pendLo = new Uint32Array(PENDING_COMPLETIONS);
  private readonly pendHi = new Uint32Array(PENDING_COMPLETIONS);
  private readonly pendResult = new Uint8Array(PENDING_COMPLETIONS);
  private pendHead = 0;
  private pendCount = 0;
  private recv: RecvBuffer | null = null;
  /** Counter slots of the per-packet counters (resolved once: inc(name) looks the name up). */
  private readonly sTxVmbus = this.counters.slot('tx_vmbus_packets');
  private readonly sRxCompletions = this.counters.slot('rx_completions');

  constructor(
    readonly ch: Channel,
    private readonly owner: QueueOwner,
    gpadls: GpadlTable,
    rxOptions: RxPathOptions = {},
  ) {
    this.rx = new RxPath(ch, this.counters, rxOptions);
    this.tx = new TxPath(this.counters, gpadls, owner, new TxOffload(owner.profile, this.counters, (b, o) => owner.peerTakesSuperFrames(b, o)));
    this.rx.observer = this.tx.observer = owner.observer; // set before the guest opens the channel (HostRuntime.addNic)
    this.tx.queue = ch.subChannelIndex;
    ch.onPacket = (pkt) => this.onPacket(pkt);
  }

  get index(): number {
    return this.ch.subChannelIndex;
  }

  attachRecv(recv: RecvBuffer | null): void {
    this.recv = recv;
    this.rx.attach(recv);
  }

  /** Sends the receive burst and any deferred completions; returns work done. */
  poll(): number {
    if (this.ch.state !== 'open') return 0;
    let work = 0;
    while (this.pendCount > 0) {
      const i = this.pendHead;
      if (!this.writeCompletion(this.pendLo[i]!, this.pendHi[i]!, this.pendResult[i]!)) break;
      this.pendHead = (i + 1) % PENDING_COMPLETIONS;
      this.pendCount--;
      work++;
    }
    if (this.rx.pending > 0 && this.rx.flush()) work++;
    if (work > 0) this.ch.flush();
    return work;
  }

  /** Work that would be lost if the loop slept now. */
  get backlog(): number {
    return this.pendCount + this.rx.pending;
  }

  private onPacket(pkt: VmbusPacket): void {
    const obs = this.owner.observer;
    if (obs !== null) obs.message(MSG_DIR_RX, this.ch.subChannelIndex, MSG_LAYER_VMBUS, pkt.buf, 0, pkt.len);
    switch (pkt.type) {
      case VM_PKT_COMP:
        return this.onCompletion(pkt);
      case VM_PKT_DATA_INBAND:
      case VM_PKT_DATA_USING_GPA_DIRECT: {
        if (pkt.payloadLen >= 4 && pkt.dv.getUint32(pkt.payloadOffset, true) === NVSP_MSG1_TYPE_SEND_RNDIS_PKT) return this.onRndisPacket(pkt);
        return this.owner.nvsp(pkt, this);
      }
      default:
        return this.owner.nvsp(pkt, this);
    }
  }

  private onRndisPacket(pkt: VmbusPacket): void {
    let result: number;
    if (!this.owner.ready) {
      this.counters.inc('tx_not_ready');
      result = TX_BAD_PACKET;
    } else result = this.tx.handle(pkt);
    if (result === TX_OK) this.counters.add(this.sTxVmbus);
    if (this.pendCount === 0 && this.writeCompletion(pkt.transIdLo, pkt.transIdHi, result)) return;
    // Ring full (or older completions queued ahead): keep order, retry at the next poll.
    if (this.pendCount === PENDING_COMPLETIONS) {
      this.counters.inc('tx_comp_dropped');
      return;
    }
    const i = (this.pendHead + this.pendCount) % PENDING_COMPLETIONS;
    this.pendLo[i] = pkt.transIdLo;
    this.pendHi[i] = pkt.transIdHi;
    this.pendResult[i] = result;
    this.pendCount++;
    this.counters.inc('tx_comp_deferred');
  }

  private writeCompletion(lo: number, hi: number, result: number): boolean {
    const body = COMP_BY_RESULT[result as 0 | 1 | 2];
    if (this.ch.sendCompletion(lo, hi, body, 0, body.length)) {
      const obs = this.owner.observer;
      if (obs !== null) obs.message(MSG_DIR_TX, this.ch.subChannelIndex, MSG_LAYER_NVSP, body, 0, body.length);
      return true;
    }
    this.ch.waitForSpace(64);
    return false;
  }

  /** The guest completed one of our transfer-page packets (§3.8): free its sections. */
  private onCompletion(pkt: VmbusPacket): void {
    if (!this.recv || !this.recv.complete(pkt.transIdLo, pkt.transIdHi)) {
      this.counters.inc('rx_bad_completion');
      return;
    }
    this.counters.add(this.sRxCompletions);
    const p = pkt.payloadOffset;
    if (pkt.payloadLen >= 8 && pkt.dv.getUint32(p, true) === NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE && pkt.dv.getUint32(p + 4, true) !== NVSP_STAT_SUCCESS) {
      this.counters.inc('rx_guest_failed');
    }
  }
}
