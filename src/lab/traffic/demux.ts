/**
 * Hands each received frame to the sink of its flow: whole packets by the flow id in their first
 * payload record; IP fragments by datagram: the first fragment (offset 0, with the UDP/ICMP
 * header and the record header) opens a slot keyed by the IP identification, the others add
 * their bytes, each checked against the pattern at its offset, and the datagram counts once
 * whole. Fragments reach a NIC on one queue in order (the host hashes fragments to queue 0), so
 * a fragment with no open slot is counted, not guessed at. An RSC packet given as a fragment list
 * (Contract B) is read in place when its first fragment holds the headers and the first record's
 * header (an honest host's always does); otherwise the caller gathers it and calls receive().
 * Preallocated; no per-frame allocation.
 */
import { getU32, PAYLOAD_HEADER_LEN, PAYLOAD_MAGIC, PAYLOAD_SEQ_AT, patternIntact } from './payload.js';
import { parseRx, RX_FRAGMENT, RX_WHOLE, RxParse } from './rx-parse.js';
import type { TrafficSink } from './sink.js';

/** Datagrams being reassembled at once (slots by IP id modulo this). */
const SLOTS = 256;

interface Slot {
  id: number;
  sink: TrafficSink | null;
  seq: number;
  /** L4 bytes the datagram has (header + record). */
  total: number;
  got: number;
  intact: boolean;
}

export interface DemuxCounters {
  /** Fragments of a datagram whose first fragment was not seen (or was overtaken by another). */
  rx_frag_orphan: number;
}

export class SinkDemux {
  readonly sinks: TrafficSink[] = [];
  private readonly p = new RxParse();
  private readonly slots: Slot[] = Array.from({ length: SLOTS }, () => ({ id: 0, sink: null, seq: 0, total: 0, got: 0, intact: false }));

  /** `counters` is the NIC's (the lab plumbing counters it reports). */
  constructor(private readonly counters: DemuxCounters) {}

  /** True when a sink took the frame; `vlan` is the one it came on (receive VLAN PPI, 0 = none). */
  receive(b: Uint8Array, off: number, len: number, vlan = 0): boolean {
    if (this.sinks.length === 0) return false;
    const p = this.p;
    const kind = parseRx(b, off, len, p);
    if (kind === RX_WHOLE) {
      const at = p.payloadAt;
      if (at + PAYLOAD_HEADER_LEN > p.end || getU32(b, at) !== PAYLOAD_MAGIC) return false;
      const sink = this.sinkOf(getU32(b, at + 4));
      if (!sink) return false;
      sink.take(b, at, p.end, len, vlan);
      return true;
    }
    if (kind === RX_FRAGMENT) return this.fragment(b, len, vlan);
    return false;
  }

  /**
   * A frame given as a fragment list (RX_F_FRAGS: fragment i is b[fragOff[i], + fragLen[i]) for
   * i < fragments, `len` the total). True when a sink took it; false when no sink wants it or it
   * cannot be read in place (headers past the first fragment): gather it and call receive().
   */
  receiveList(b: Uint8Array, len: number, m: { readonly fragOff: Int32Array; readonly fragLen: Int32Array; readonly fragments: number }, vlan = 0): boolean {
    if (this.sinks.length === 0 || m.fragments < 1) return false;
    const p = this.p;
    const off = m.fragOff[0]!;
    // The header reads stay below payloadAt, so this check keeps all of them inside the first fragment.
    if (parseRx(b, off, len, p) !== RX_WHOLE || p.payloadAt + PAYLOAD_HEADER_LEN > off + m.fragLen[0]!) return false;
    const at = p.payloadAt;
    if (getU32(b, at) !== PAYLOAD_MAGIC) return false;
    const sink = this.sinkOf(getU32(b, at + 4));
    if (!sink) return false;
    sink.takeList(b, m.fragOff, m.fragLen, m.fragments, at - off, p.end - off, len, vlan);
    return true;
  }

  private fragment(b: Uint8Array, frameLen: number, vlan: number): boolean {
    const p = this.p;
    const slot = this.slots[p.id % SLOTS]!;
    if (p.fragOffset === 0) {
      const at = p.dataAt + p.l4HeaderLen;
      if (p.dataLen < p.l4HeaderLen + PAYLOAD_HEADER_LEN || getU32(b, at) !== PAYLOAD_MAGIC) return false;
      const sink = this.sinkOf(getU32(b, at + 4));
      if (!sink) return false;
      sink.fragment(frameLen);
      const recLen = getU32(b, at + 12);
      slot.id = p.id;
      slot.sink = sink;
      slot.seq = getU32(b, at + PAYLOAD_SEQ_AT);
      slot.total = p.l4HeaderLen + recLen;
      slot.got = p.dataLen;
      slot.intact = recLen >= PAYLOAD_HEADER_LEN && patternIntact(b, at, 0, p.dataLen - p.l4HeaderLen, sink.spec.flow) && sink.vlanOk(vlan);
      this.complete(slot);
      return true;
    }
    const sink = slot.sink;
    if (sink === null || slot.id !== p.id) {
      this.counters.rx_frag_orphan++;
      return false;
    }
    sink.fragment(frameLen);
    const from = p.fragOffset - p.l4HeaderLen;
    if (p.fragOffset !== slot.got || !patternIntact(b, p.dataAt, from, p.dataLen, sink.spec.flow) || !sink.vlanOk(vlan)) slot.intact = false;
    slot.got += p.dataLen;
    this.complete(slot);
    return true;
  }

  /** Counts the datagram once all its bytes came (or more than it has: corrupt). */
  private complete(slot: Slot): void {
    if (slot.got < slot.total) return;
    slot.sink!.datagram(slot.seq, slot.intact && slot.got === slot.total);
    slot.sink = null;
  }

  private sinkOf(flow: number): TrafficSink | null {
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) if (sinks[i]!.spec.flow === flow) return sinks[i]!;
    return null;
  }
}
