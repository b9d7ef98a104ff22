import { ResourceError } from '../core/index.js';

/**
 * Signal memory of one VM (§2.5), one SharedArrayBuffer shared by its host and guest workers:
 *   [0, 2048)    interrupt page, host→guest half: bit child_relid set by the host
 *   [2048, 4096) interrupt page, guest→host half: bit child_relid set by the guest
 *   [4096, 4104) the guest worker's doorbell {seq, sleeping}
 *   [4104, ...)  one state word per child_relid (open / closed / failed), our stand-in for the
 *                hypervisor knowing a channel is gone, so a peer blocked on it is never left waiting.
 * The host worker's doorbell lives in its own SharedArrayBuffer (hostDoorbellSab) shared with every VM,
 * so the host waits on ONE address for all channels of all VMs.
 */
export const SIGNAL_SAB_BYTES = 8192;
const HOST_TO_GUEST_WORD = 0;
const GUEST_TO_HOST_WORD = 2048 / 4;
/** Int32 index of a VM's doorbell word in its signal page (the word after it is the sleeper flag). */
export const GUEST_DOORBELL_WORD = 4096 / 4;
const STATE_WORD = 4104 / 4;
/** Highest child_relid the signal page can carry a state word for. */
export const MAX_CHILD_RELID = SIGNAL_SAB_BYTES / 4 - STATE_WORD - 1;

export const CHANNEL_STATE_OPEN = 0;
export const CHANNEL_STATE_CLOSED = 1;
export const CHANNEL_STATE_FAILED = 2;

interface WaitAsyncResult {
  async: boolean;
  value: Promise<'ok' | 'timed-out'> | 'not-equal' | 'timed-out';
}
type WaitAsync = (i32: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;
// Atomics.waitAsync is in Node 20 but in TypeScript's ES2024 lib, one past ours.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Env var of the lost-signal fault: a worker started with it set to N > 0 loses every Nth doorbell ring. */
export const FAULT_DROP_DOORBELL_ENV = 'NETVSC_FAULT_DROP_DOORBELL_EVERY';

/**
 * Fault injection for the robustness tests (issue 9): read when a Doorbell is built, so a test sets
 * it before the lab starts its workers (each worker gets a copy of the environment). Off by default.
 */
function faultDropEvery(): number {
  const v = Number(process.env[FAULT_DROP_DOORBELL_ENV] ?? '');
  return Number.isInteger(v) && v > 0 ? v : 0;
}

/** A SharedArrayBuffer for the host worker's doorbell. */
export function newHostDoorbellSab(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/**
 * One worker's wakeup word. ring() bumps a sequence number and calls Atomics.notify only when the
 * owner said it is asleep, so under load a signal costs two atomics and no syscall (platform.md §6c).
 */
export class Doorbell {
  rung = 0;
  notified = 0;
  /** Rings swallowed by the lost-signal fault (docs/robustness.md); 0 unless the fault is on. */
  dropped = 0;
  /** Rings swallowed by every Doorbell of this thread (a worker rings its peers' doorbells). */
  static droppedInThread = 0;
  /** Atomics.notify calls made by every Doorbell of this thread (each wakes a sleeping peer). */
  static notifiedInThread = 0;
  /** Fault injection: every Nth ring() is lost (0 = off). See faultDropEvery(). */
  private readonly dropEvery: number;
  private ringCalls = 0;

  constructor(
    private readonly i32: Int32Array,
    private readonly at: number,
  ) {
    this.dropEvery = faultDropEvery();
  }

  static host(sab: SharedArrayBuffer): Doorbell {
    return new Doorbell(new Int32Array(sab), 0);
  }

  static guest(signalSab: SharedArrayBuffer): Doorbell {
    return new Doorbell(new Int32Array(signalSab), GUEST_DOORBELL_WORD);
  }

  get seq(): number {
    return Atomics.load(this.i32, this.at);
  }

  ring(): void {
    // The lost-interrupt fault: the caller's interrupt bit is set but the wakeup never arrives, as
    // when a SINT is lost; the sleeper's bounded wait (EventLoop maxSleepMs) must re-poll.
    if (this.dropEvery > 0 && ++this.ringCalls % this.dropEvery === 0) {
      this.dropped++;
      Doorbell.droppedInThread++;
      return;
    }
    Atomics.add(this.i32, this.at, 1);
    this.rung++;
    if (Atomics.load(this.i32, this.at + 1) !== 0) {
      this.notified++;
      Doorbell.notifiedInThread++;
      Atomics.notify(this.i32, this.at);
    }
  }

  /** Sleeps without blocking the event loop until seq moves away from `seen` (or the timeout). */
  async wait(seen: number, timeoutMs = Infinity): Promise<void> {
    Atomics.store(this.i32, this.at + 1, 1);
    try {
      if (Atomics.load(this.i32, this.at) !== seen) return;
      const r = waitAsync(this.i32, this.at, seen, timeoutMs);
      if (r.async) await r.value;
    } finally {
      Atomics.store(this.i32, this.at + 1, 0);
    }
  }
}

/**
 * The interrupt bits and state word of one channel, seen from one side. signalPeer() is
 * vmbus_setevent (§2.5): set our bit in the peer's half, then ring the peer's doorbell.
 */
export class ChannelSignal {
  private readonly i32: Int32Array;
  private readonly ownWord: number;
  private readonly peerWord: number;
  private readonly bit: number;
  sent = 0;
  received = 0;

  constructor(
    signalSab: SharedArrayBuffer,
    readonly relid: number,
    side: 'host' | 'guest',
    private readonly peerDoorbell: Doorbell,
  ) {
    if (!(relid > 0 && relid <= MAX_CHILD_RELID)) throw new ResourceError('LIMIT', `child_relid ${relid} out of range`);
    this.i32 = new Int32Array(signalSab);
    const own = side === 'guest' ? HOST_TO_GUEST_WORD : GUEST_TO_HOST_WORD;
    const peer = side === 'guest' ? GUEST_TO_HOST_WORD : HOST_TO_GUEST_WORD;
    this.ownWord = own + (relid >>> 5);
    this.peerWord = peer + (relid >>> 5);
    this.bit = 1 << (relid & 31);
  }

  signalPeer(): void {
    Atomics.or(this.i32, this.peerWord, this.bit);
    this.sent++;
    this.peerDoorbell.ring();
  }

  /** Clears our bit; true if the peer had signalled this channel since the last call. */
  take(): boolean {
    if ((Atomics.load(this.i32, this.ownWord) & this.bit) === 0) return false;
    Atomics.and(this.i32, this.ownWord, ~this.bit);
    this.received++;
    return true;
  }

  get state(): number {
    return Atomics.load(this.i32, STATE_WORD + this.relid);
  }

  /** Publishes a new channel state and wakes the peer so it sees it. */
  setState(state: number): void {
    Atomics.store(this.i32, STATE_WORD + this.relid, state);
    this.peerDoorbell.ring();
  }
}
