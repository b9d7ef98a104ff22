/**
 * A TAP interface owned by this process: opens it through the addon, starts one worker per
 * direction, and hands out TapShared/TapPort for the thread that runs the NIC. Control path.
 */
import { Worker } from 'node:worker_threads';
import { compiledWorkerUrl, ConfigError, ResourceError } from '../../core/index.js';
import { runCommand } from '../run-command.js';
import { tapAvailability } from './addon.js';
import { createFrameRingBuffer, FrameRing, RingStat } from './frame-ring.js';
import { TapPort, type TapShared } from './tap-port.js';
import type { TapWorkerData } from './tap.worker.js';
import { VNET_HDR_LEN } from './vnet-header.js';

/** TUNSETOFFLOAD bits: which offloaded frames the kernel may hand us (linux/if_tun.h values). */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
export const TUN_F_UFO = 0x10;

export interface TapOptions {
  /** Interface name, 1..15 bytes; use Netns.name() so teardown finds it. */
  readonly name: string;
  /** TUN_F_* bits; 0 (default) makes the kernel checksum and segment before handing frames over. */
  readonly offloads?: number;
  /** Bytes per ring, a power of two (default 4 MiB each way). */
  readonly ringBytes?: number;
  /** How long close() waits for the workers (default 5000 ms). */
  readonly closeTimeoutMs?: number;
  /**
   * A doorbell word the RX worker rings after each frame it commits, for a consumer that sleeps
   * on its own doorbell rather than on this ring (a VM worker's EventLoop). Ringing = Atomics.add
   * 1 to `sab[index]`, then Atomics.notify it when the word after it is non-zero (its waiter flag).
   */
  readonly wake?: TapWake;
  /**
   * true: a TX worker drains the `tx` ring into the fd. false (default): the thread holding the
   * TapPort writes each frame to the fd itself (TapShared.txFd), one thread hop fewer per frame.
   */
  readonly txWorker?: boolean;
  /**
   * 'worker' (default): an RX worker does blocking reads into the `rx` ring and rings `wake`.
   * 'inline': the fd is non-blocking and the thread holding the TapPort reads it itself
   * (TapShared.rxFd; TapPort.watch wakes that thread's loop): one thread and one wake fewer per
   * frame, reads batched until the fd is empty. The fd is shared, so one reader mode per TAP.
   */
  readonly reader?: 'worker' | 'inline';
}

/** Where the RX worker rings (see TapOptions.wake). Structured-cloneable. */
export interface TapWake {
  readonly sab: SharedArrayBuffer;
  /** Int32 index of the doorbell word; index + 1 is the "a waiter sleeps" flag. */
  readonly index: number;
}

export interface TapStats {
  readonly rxFrames: number;
  readonly rxBytes: number;
  readonly rxErrors: number;
  /** Times the RX worker found the ring full and waited (the NIC side fell behind). */
  readonly rxRingFull: number;
  readonly txFrames: number;
  readonly txBytes: number;
  readonly txErrors: number;
}

const DEFAULT_RING_BYTES = 4 << 20;

export class TapDevice {
  readonly shared: TapShared;
  private readonly rx: FrameRing;
  private readonly tx: FrameRing;
  private readonly exits: Promise<string>[];
  private closed = false;

  private constructor(
    readonly name: string,
    readonly fd: number,
    private readonly close_: (fd: number) => void,
    private readonly closeTimeoutMs: number,
    ringBytes: number,
    wake: TapWake | undefined,
    txWorker: boolean,
    inlineRx: boolean,
  ) {
    // Direct TX and inline RX need no ring space, only the counters in the ring header.
    const tx = createFrameRingBuffer(txWorker ? ringBytes : 4096);
    const rx = createFrameRingBuffer(inlineRx ? 4096 : ringBytes);
    this.shared = { name, rx, tx, vnetHdrLen: VNET_HDR_LEN, ...(txWorker ? {} : { txFd: fd }), ...(inlineRx ? { rxFd: fd } : {}) };
    this.rx = new FrameRing(this.shared.rx);
    this.tx = new FrameRing(this.shared.tx);
    const url = compiledWorkerUrl(new URL('./tap.worker.js', import.meta.url));
    const roles = (['rx', 'tx'] as const).filter((r) => (r === 'rx' ? !inlineRx : txWorker));
    this.exits = roles.map((role) => {
      const data: TapWorkerData = { role, fd, ring: role === 'rx' ? this.shared.rx : this.shared.tx, ...(role === 'rx' && wake ? { wake } : {}) };
      const w = new Worker(url, { workerData: data, name: `tap-${role}-${name}` });
      w.unref(); // a TAP must never keep the process alive by itself
      return new Promise<string>((resolve, reject) => {
        let why = 'exited';
        w.on('message', (m: string) => (why = m));
        w.on('error', reject);
        w.on('exit', () => resolve(why));
      });
    });
  }

  /**
   * Opens (creates) the TAP interface in the root namespace and starts its workers. Throws
   * ConfigError with the reason when TAP is unavailable here, ResourceError when the kernel refuses.
   */
  static open(opts: TapOptions): TapDevice {
    const a = tapAvailability();
    if (!a.ok) throw new ConfigError('UNSUPPORTED', a.reason);
    let r: { fd: number; name: string };
    try {
      r = a.addon.open(opts.name, VNET_HDR_LEN, opts.offloads ?? 0, opts.reader === 'inline');
    } catch (e) {
      throw new ResourceError('BAD_CONFIG', `cannot open TAP ${opts.name}: ${(e as Error).message}`, { cause: e });
    }
    return new TapDevice(r.name, r.fd, (fd) => a.addon.close(fd), opts.closeTimeoutMs ?? 5000, opts.ringBytes ?? DEFAULT_RING_BYTES, opts.wake, opts.txWorker ?? false, opts.reader === 'inline');
  }

  /** A FramePort for this thread; other threads build one from `shared` with `new TapPort(shared)`. */
  port(): TapPort {
    return new TapPort(this.shared);
  }

  stats(): TapStats {
    return {
      rxFrames: this.rx.stat(RingStat.Frames),
      rxBytes: this.rx.stat(RingStat.Bytes),
      rxErrors: this.rx.stat(RingStat.ProducerErrors) + this.rx.stat(RingStat.ConsumerErrors),
      rxRingFull: this.rx.stat(RingStat.FullWaits),
      txFrames: this.tx.stat(RingStat.Frames),
      txBytes: this.tx.stat(RingStat.Bytes),
      txErrors: this.tx.stat(RingStat.ConsumerErrors),
    };
  }

  /**
   * Stops the workers, deletes the interface and closes the fd. The blocked read() only returns
   * when the interface goes away, so close() deletes it: pass the namespace it was moved to
   * (null: root). Idempotent; also fine after Netns.down() already deleted the namespace. With
   * reader 'inline', stop the TapPort's watch first (TapPort.close) so no loop polls a closed fd.
   */
  async close(netns: string | null = null): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rx.stop();
    this.tx.stop();
    await runCommand(netns === null ? ['ip', 'link', 'del', 'dev', this.name] : ['ip', '-n', netns, 'link', 'del', 'dev', this.name]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ResourceError('TIMEOUT', `TAP ${this.name} workers did not stop within ${this.closeTimeoutMs} ms (is it in namespace ${netns ?? 'root'}?)`)), this.closeTimeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.exits), timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.close_(this.fd);
  }
}
