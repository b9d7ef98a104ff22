/**
 * Two TAPs joined by the addon's C relay (native/relay.c): the e2e bench's same-run ceiling for any
 * user-space TAP path (threads 1) and for our three-thread shape, VM A / host / VM B (threads 3),
 * with no protocol and no JavaScript on the data path. Opens both TAPs (vnet header, checksum and
 * TSO offloads, non-blocking), moves each into its namespace with a MAC and an address, and runs
 * the relay in the mode asked; the relay can be stopped and started again in another mode on the
 * same TAPs. Control path only.
 */
import { ConfigError, ResourceError } from '../../core/index.js';
import type { Netns } from '../netns.js';
import { tapAvailability, type TapAddon, type TapRelayCounters, type TapRelayHandle } from './addon.js';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 } from './tap-device.js';
import { VNET_HDR_LEN } from './vnet-header.js';

export interface TapRelayEnd {
  /** Namespace the TAP goes into (created by the caller through the same Netns). */
  readonly ns: string;
  /** Interface name, from netns.name() so teardown finds it. */
  readonly ifName: string;
  /** Address with prefix length, e.g. 10.82.0.1/24. */
  readonly address: string;
  readonly mac: string;
}

export type TapRelayThreads = 1 | 3;
export interface TapRelayMode {
  readonly threads: TapRelayThreads;
  /** Never sleep, sched_yield() on an empty pass (default false). */
  readonly poll?: boolean;
}

export class TapRelay {
  private handle: TapRelayHandle | null = null;
  private closed = false;
  /** Namespaces made by inNewNamespaces(), removed by close(). */
  private ownNamespaces: { netns: Netns; names: readonly string[] } | null = null;

  private constructor(
    private readonly addon: TapAddon,
    readonly a: TapRelayEnd,
    readonly b: TapRelayEnd,
    private readonly fdA: number,
    private readonly fdB: number,
  ) {}

  /**
   * Makes two namespaces `<prefix><tag>a`/`<tag>b` with a TAP each (`<tag>ta`/`<tag>tb`,
   * `<subnet>.1/24` and `.2/24`) and opens the relay between them; close() removes the namespaces.
   */
  static async inNewNamespaces(netns: Netns, tag: string, subnet: string, mode?: TapRelayMode): Promise<TapRelay> {
    const names = [netns.name(`${tag}a`), netns.name(`${tag}b`)];
    const end = (i: number): TapRelayEnd => ({ ns: names[i]!, ifName: netns.name(`${tag}t${'ab'[i]}`), address: `${subnet}.${i + 1}/24`, mac: `02:00:00:00:00:0${i + 1}` });
    try {
      for (const ns of names) await netns.createNamespace(ns);
      const relay = await TapRelay.open(netns, end(0), end(1), mode);
      relay.ownNamespaces = { netns, names };
      return relay;
    } catch (e) {
      await netns.removeNamespaces(names); // what open() made in them went with its fds
      throw e;
    }
  }

  /**
   * Makes both TAPs and configures them in their namespaces; starts the relay when `mode` is given.
   * Throws ConfigError('UNSUPPORTED') when TAP is unavailable here, ResourceError when the kernel refuses.
   */
  static async open(netns: Netns, a: TapRelayEnd, b: TapRelayEnd, mode?: TapRelayMode): Promise<TapRelay> {
    const avail = tapAvailability();
    if (!avail.ok) throw new ConfigError('UNSUPPORTED', avail.reason);
    const addon = avail.addon;
    const fds: number[] = [];
    try {
      for (const end of [a, b]) {
        await netns.recordLink(end.ifName);
        try {
          fds.push(addon.open(end.ifName, VNET_HDR_LEN, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, true).fd);
        } catch (e) {
          throw new ResourceError('BAD_CONFIG', `cannot open TAP ${end.ifName}: ${(e as Error).message}`, { cause: e });
        }
        await netns.moveLink(end.ifName, end.ns);
        await netns.configureLink(end.ns, end.ifName, { mac: end.mac, address: end.address });
      }
    } catch (e) {
      for (const fd of fds) addon.close(fd); // a TAP that is not persistent goes with its fd
      throw e;
    }
    const relay = new TapRelay(addon, a, b, fds[0]!, fds[1]!);
    try {
      if (mode) relay.start(mode.threads, mode.poll ?? false);
    } catch (e) {
      await relay.close(); // a refused start (EINVAL, EBUSY) must not leave both TAPs open
      throw e;
    }
    return relay;
  }

  get running(): boolean {
    return this.handle !== null;
  }

  /** Starts the relay threads; throws ConfigError when it runs already or the relay is closed. */
  start(threads: TapRelayThreads, poll = false): void {
    if (this.closed || this.handle !== null) throw new ConfigError('BAD_CONFIG', `TapRelay ${this.a.ifName}: ${this.closed ? 'closed' : 'already running'}`);
    this.handle = this.addon.relayStart(this.fdA, this.fdB, threads, poll);
  }

  /** Stops the relay threads (the TAPs stay); what this run moved, or null when it was not running. */
  stop(): TapRelayCounters | null {
    const h = this.handle;
    if (h === null) return null;
    this.handle = null;
    return this.addon.relayStop(h);
  }

  /**
   * Stops the relay, then closes both fds, which deletes both TAPs, and removes the namespaces
   * inNewNamespaces() made. Idempotent; what the last run moved, or null.
   */
  async close(): Promise<TapRelayCounters | null> {
    if (this.closed) return null;
    const counters = this.stop();
    this.closed = true;
    this.addon.close(this.fdA);
    this.addon.close(this.fdB);
    if (this.ownNamespaces) await this.ownNamespaces.netns.removeNamespaces(this.ownNamespaces.names);
    return counters;
  }
}
