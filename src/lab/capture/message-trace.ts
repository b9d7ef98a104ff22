/**
 * The NVSP/RNDIS message trace of one NIC side (issue 7 item 3): a MessageObserver whose
 * message() only copies the bytes into a preallocated bounded ring (time, direction, queue,
 * layer, at most MAX_MESSAGE bytes), so the data path pays a copy and no allocation. A timer
 * drains the ring in batches into JSON lines (io's TraceWriter); when the ring is full the
 * message is counted in `dropped` instead, so tracing can never exhaust memory.
 *
 * Each line: {t, nic, side, queue, dir, layer, msg, hex[, struct]}; `netvsc wire decode --hex
 * <hex>` decodes it (add `--struct <struct>` when the record names one: an NVSP message without
 * its VMBus descriptor, or a data packet's RNDIS header + PPIs without the frame).
 */
import { MSG_DIR_TX, MSG_LAYER_NVSP, MSG_LAYER_RNDIS, MSG_LAYER_VMBUS, type MessageObserver } from '../../core/index.js';
import { TraceWriter, nowMicros } from '../../io/index.js';
import { copyBytes } from '../../packet/index.js';
import { bytesToHex, decodeStruct, NVSP_RECV_COMPLETION_SIZE, nvspMessageName, rndisMessageName, RNDIS_MSG_PACKET, structNames } from '../../wire/index.js';

/** Bytes kept of one message: every NVSP message and RNDIS header + PPIs fit; longer control messages are cut. */
export const MAX_MESSAGE = 1024;
const RING_SLOTS = 4096;
const DRAIN_MS = 20;
/**
 * Records formatted per timer tick: the drain runs on the traced side's own thread (VM or host
 * worker), so it is bounded (≤ 51 k records/s) and never takes that thread over; what the ring
 * cannot hold meanwhile is counted as dropped.
 */
const DRAIN_BUDGET = 1024;
const LAYERS = ['vmbus', 'nvsp', 'rndis'] as const;

/** One line of the trace file. */
export interface TraceRecord {
  /** Microseconds since the Unix epoch. */
  readonly t: number;
  readonly nic: string;
  readonly side: 'guest' | 'host';
  readonly queue: number;
  readonly dir: 'tx' | 'rx';
  readonly layer: (typeof LAYERS)[number];
  /** The wire.jsonl message name, or `unknown` when the bytes name none. */
  readonly msg: string;
  readonly hex: string;
  /** Pass as `--struct` to `netvsc wire decode` (absent: the hex decodes as it is). */
  readonly struct?: string;
  /** The message's length when longer than the MAX_MESSAGE bytes kept. */
  readonly len?: number;
}

export class MessageTrace implements MessageObserver {
  private readonly arena = new Uint8Array(RING_SLOTS * MAX_MESSAGE);
  private readonly lens = new Uint32Array(RING_SLOTS);
  private readonly fullLens = new Uint32Array(RING_SLOTS);
  private readonly meta = new Uint32Array(RING_SLOTS);
  private readonly times = new Float64Array(RING_SLOTS);
  private head = 0;
  private count = 0;
  private readonly writer: TraceWriter;
  private readonly timer: NodeJS.Timeout;
  /** Messages not traced because the ring was full (the writer fell behind). */
  dropped = 0;

  constructor(
    path: string,
    private readonly nic: string,
    private readonly side: 'guest' | 'host',
  ) {
    this.writer = new TraceWriter(path);
    this.timer = setInterval(() => this.drain(DRAIN_BUDGET), DRAIN_MS);
    this.timer.unref();
  }

  message(dir: number, queue: number, layer: number, bytes: Uint8Array, off: number, len: number): void {
    if (this.count === RING_SLOTS) {
      this.dropped++;
      return;
    }
    const slot = (this.head + this.count) % RING_SLOTS;
    const n = len < MAX_MESSAGE ? len : MAX_MESSAGE;
    copyBytes(bytes, off, this.arena, slot * MAX_MESSAGE, n);
    this.lens[slot] = n;
    this.fullLens[slot] = len;
    this.meta[slot] = (dir & 1) | ((layer & 3) << 1) | ((queue & 0xffff) << 3);
    this.times[slot] = nowMicros();
    this.count++;
  }

  /** Writes every queued message; returns records written and dropped so far. */
  flush(): { records: number; dropped: number } {
    this.drain();
    this.writer.flush();
    return { records: this.writer.records, dropped: this.dropped + this.writer.dropped };
  }

  close(): void {
    clearInterval(this.timer);
    this.drain();
    this.writer.close();
  }

  private drain(budget = RING_SLOTS): void {
    for (let n = 0; n < budget && this.count > 0; n++) {
      const slot = this.head;
      const m = this.meta[slot]!;
      const bytes = this.arena.subarray(slot * MAX_MESSAGE, slot * MAX_MESSAGE + this.lens[slot]!);
      const layer = (m >>> 1) & 3;
      const full = this.fullLens[slot]!;
      const { from, ...d } = describe(layer, bytes);
      this.writer.write({
        t: this.times[slot]!,
        nic: this.nic,
        side: this.side,
        queue: m >>> 3,
        dir: (m & 1) === MSG_DIR_TX ? 'tx' : 'rx',
        layer: LAYERS[layer] ?? 'vmbus',
        ...d,
        hex: bytesToHex(from ? bytes.subarray(from) : bytes),
        ...(full > bytes.length ? { len: full } : {}),
      });
      this.head = (slot + 1) % RING_SLOTS;
      this.count--;
    }
  }
}

/** What a record says about its bytes: the message, the `--struct` to decode with, and where the hex starts. */
export interface Described {
  readonly msg: string;
  readonly struct?: string;
  /** Bytes before this are left out of the hex (a VMBus descriptor the CLI cannot decode with its message). */
  readonly from?: number;
}

/** The message name and, when the bytes need one to decode, the `--struct` name. */
export function describe(layer: number, b: Uint8Array): Described {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (layer === MSG_LAYER_RNDIS) {
    const type = b.length >= 8 ? dv.getUint32(0, true) : -1;
    const name = rndisMessageName(type) ?? 'unknown';
    // A data packet is traced without its frame, so msg_len is longer than the bytes.
    if (type === RNDIS_MSG_PACKET && dv.getUint32(4, true) !== b.length) return { msg: name, struct: 'rndis_message/rndis_packet+PPIs' };
    return { msg: name };
  }
  if (layer === MSG_LAYER_NVSP) {
    const name = b.length >= 4 ? nvspName(dv, 0, b.length, false) : undefined;
    return name ? { msg: name, struct: name } : { msg: 'unknown' };
  }
  if (layer !== MSG_LAYER_VMBUS || b.length < 16) return { msg: 'unknown' };
  const type = dv.getUint16(0, true);
  const off = dv.getUint16(2, true) * 8;
  if (type === 11 && off === b.length) return { msg: 'completion' };
  if (off + 4 > b.length) return { msg: 'unknown' };
  const completion = type === 11;
  // A receive completion carries the 8-byte form of NVSP 108 (§3.8), which has its own record name.
  if (completion && b.length - off === NVSP_RECV_COMPLETION_SIZE) return { msg: 'recv_comp_msg' };
  const fixed = nvspMessageName(dv.getUint32(off, true), completion, off + 8 <= b.length ? dv.getUint32(off + 4, true) : 0);
  if (fixed) return { msg: fixed };
  // The CLI recognises whole packets only for fixed-size NVSP bodies; the others (a receive-buffer
  // completion with its section table…) are given as the NVSP message alone with its name.
  const name = nvspName(dv, off, b.length - off, completion);
  return name ? { msg: name, struct: name, from: off } : { msg: 'unknown' };
}

const byType = new Map<string, string | null>();

/**
 * The wire.jsonl name of the NVSP message at dv[off, off+len): the fixed-size bodies by type, the
 * others by asking each NVSP codec (once per type and direction, then cached: control path).
 */
function nvspName(dv: DataView, off: number, len: number, completion: boolean): string | undefined {
  const type = dv.getUint32(off, true);
  const op = len >= 8 ? dv.getUint32(off + 4, true) : 0;
  const fixed = nvspMessageName(type, completion, op);
  if (fixed) return fixed;
  const key = `${type}/${completion}/${op}`;
  let name = byType.get(key);
  if (name === undefined) {
    const bytes = new Uint8Array(dv.buffer, dv.byteOffset + off, len);
    name = null;
    for (const n of structNames()) {
      if (!n.startsWith('nvsp:nvsp_message/')) continue;
      try {
        const d = decodeStruct(n.slice(5), bytes, { partial: true, pointed: {} }, 'nvsp');
        if (d.fields['msg_type'] === type) {
          name = d.message;
          break;
        }
      } catch {
        // not this one
      }
    }
    byType.set(key, name);
  }
  return name ?? undefined;
}
