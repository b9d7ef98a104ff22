/**
 * Loads our TAP addon (native/tap.c, built at `npm ci` by native/build.mjs) and, when it cannot be
 * used, says exactly why. The TAP commands print that reason; nothing else in the project needs
 * the addon.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What the C side exports (native/tap.c). */
export interface TapAddon {
  /**
   * Opens /dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, blocking unless `nonBlocking`;
   * throws an Error with an errno `code`.
   */
  open(name: string, vnetHdrLen: number, offloads: number, nonBlocking?: boolean): { fd: number; name: string };
  close(fd: number): void;
  /**
   * Reads a non-blocking fd until it is empty, `maxFrames` were read or less than `frameMax` bytes
   * of `buf` are left: frame i is at spans[2i] (8-aligned), spans[2i+1] bytes, or -1 when it
   * filled all `frameMax` bytes and may be truncated (to be dropped). Returns the count,
   * or -errno when the first read failed with anything but EAGAIN. Never throws on I/O.
   */
  readFrames(fd: number, buf: Uint8Array, spans: Int32Array, maxFrames: number, frameMax: number): number;
  /** The same into buf[start, end) only (a window of a larger arena); offsets in `spans` are still buf's. */
  readFrames(fd: number, buf: Uint8Array, spans: Int32Array, maxFrames: number, frameMax: number, start: number, end: number): number;
  /** One frame with its vnet header in one writev() (no staging copy); bytes written or -errno. Never throws on I/O. */
  writeFrame(fd: number, hdr: Uint8Array, hdrLen: number, buf: Uint8Array, off: number, len: number): number;
  /**
   * One frame made of ranges buf[offs[i], + lens[i]) (i < n, at most 1023), after its vnet header, in one
   * writev(): a fragment list is never gathered first. Bytes written or -errno. Never throws on I/O.
   */
  writeFrags(fd: number, hdr: Uint8Array, hdrLen: number, buf: Uint8Array, offs: Int32Array, lens: Int32Array, n: number): number;
  /** Calls `onReadable(status)` from this thread's event loop whenever `fd` is readable (status < 0: the watch stopped on an error). */
  watch(fd: number, onReadable: (status: number) => void): TapWatchHandle;
  unwatch(handle: TapWatchHandle): void;
  /** sched_yield(2): lets another runnable thread have this core (busy-poll mode). */
  schedYield(): void;
  /**
   * Starts the C TAP-to-TAP relay (native/relay.c, the e2e bench's same-run ceiling) between two
   * non-blocking TAP fds from open() with equal vnet headers, passed through verbatim. threads 1: one
   * epoll thread; 3: thread A, a "host" thread copying each frame between byte rings, thread B, as
   * our lab's VM, host, VM. poll: never sleep, sched_yield() on an empty pass (busy-poll). Its
   * pthreads touch no JavaScript. Throws a TypeError (code EINVAL) for bad arguments or fds that are
   * not such TAPs (the same TAP at both ends too), an Error with code EBUSY when a running relay uses
   * either TAP. The relay keeps its own dup() of each fd until relayStop() (the TAP lives until then).
   */
  relayStart(fdA: number, fdB: number, threads: 1 | 3, poll: boolean): TapRelayHandle;
  /** Stops and joins the relay's threads and frees its rings (the fds are the caller's); its counters. Again: the same counters. */
  relayStop(handle: TapRelayHandle): TapRelayCounters;
}

/** A relay made by TapAddon.relayStart (opaque). */
export type TapRelayHandle = { readonly __tapRelay: never };

/** What a relay moved: frames and Ethernet bytes (vnet header not counted) written to the other TAP. */
export interface TapRelayCounters {
  readonly frames: number;
  readonly bytes: number;
  readonly framesAtoB: number;
  readonly framesBtoA: number;
  readonly bytesAtoB: number;
  readonly bytesBtoA: number;
  readonly readErrors: number;
  readonly writeErrors: number;
  /** Frames that filled the whole read buffer (possibly cut by tun), dropped. */
  readonly truncated: number;
  /** Frames read whole; each was written (frames), failed (writeErrors) or discarded. */
  readonly framesRead: number;
  /** Frames still in the rings (threads 3) when the relay stopped. */
  readonly discarded: number;
  /** Passes in which a producer found its ring full (threads 3) and waited; nothing is dropped for it (the TAP queues). */
  readonly ringFull: number;
  /** Times a thread went to sleep in poll(), and doorbells rung to a sleeping thread. */
  readonly sleeps: number;
  readonly bells: number;
}

/** An fd watch made by TapAddon.watch (opaque). */
export type TapWatchHandle = { readonly __tapWatch: never };

export type TapAvailability = { readonly ok: true; readonly addon: TapAddon } | { readonly ok: false; readonly reason: string };

/** Absolute path of the built addon; the same from src/ (vitest) and dist/src/ (compiled). */
export const TAP_ADDON_PATH = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../../native/build/Release/tap.node' : '../../../native/build/Release/tap.node', import.meta.url));

const TUN_PATH = '/dev/net/tun';
let cached: TapAvailability | undefined;

/**
 * Whether TAP interfaces can be opened here, checked in the order a user can fix them:
 * platform, addon built, /dev/net/tun present, root. The result is cached.
 */
export function tapAvailability(): TapAvailability {
  cached ??= probe();
  return cached;
}

function probe(): TapAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `TAP needs Linux (this is ${process.platform})` };
  if (!existsSync(TAP_ADDON_PATH)) {
    return { ok: false, reason: `TAP addon not built (${TAP_ADDON_PATH} is missing): run \`npm ci\` with a C compiler and Node headers installed` };
  }
  if (!existsSync(TUN_PATH)) return { ok: false, reason: `${TUN_PATH} is missing (load the tun module: modprobe tun)` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: `TAP needs root (CAP_NET_ADMIN to create interfaces and namespaces); running as uid ${process.getuid()}` };
  }
  try {
    const addon = createRequire(import.meta.url)(TAP_ADDON_PATH) as TapAddon;
    return { ok: true, addon };
  } catch (e) {
    return { ok: false, reason: `TAP addon failed to load: ${(e as Error).message}` };
  }
}

/** Why TAP is unavailable here, or null when it works; the TAP commands print this. */
export function tapUnavailableReason(): string | null {
  const a = tapAvailability();
  return a.ok ? null : a.reason;
}
