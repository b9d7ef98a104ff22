/**
 * An L2 learning switch (issue 4 item 5): learns source MACs per port, sends known unicast to
 * its port, floods broadcast, multicast and unknown unicast, and honours each port's RNDIS
 * packet filter (§5.11, §6.10): DIRECTED (unicast to its own MAC), BROADCAST, ALL_MULTICAST (and
 * MULTICAST, treated as all multicast since no list is kept), PROMISCUOUS (every frame that
 * reaches the port); 0 receives nothing. As on a Hyper-V vSwitch, a promiscuous port does not
 * see unicast the switch has learned elsewhere (no port mirroring). Ageing is optional.
 */
import { ConfigError, Counters, systemClock, type Clock } from '../../core/index.js';
import {
  NDIS_PACKET_TYPE_ALL_MULTICAST,
  NDIS_PACKET_TYPE_BROADCAST,
  NDIS_PACKET_TYPE_DIRECTED,
  NDIS_PACKET_TYPE_MULTICAST,
  NDIS_PACKET_TYPE_PROMISCUOUS,
} from '../../wire/index.js';
import { macAt, type PortConfig, type PortFrameMeta, type SwitchPort } from './port.js';

export const PORT_COUNTER_NAMES = [
  'rx_frames', // frames the port sent into the switch
  'rx_bytes',
  'tx_frames', // frames the switch delivered to the port
  'tx_bytes',
  'tx_filtered', // frames the port's packet filter refused
  'tx_dropped', // the port's deliver() returned false
  'flooded', // frames from this port that were flooded
] as const;
export type PortCounters = Counters<(typeof PORT_COUNTER_NAMES)[number]>;

export interface VSwitchOptions {
  readonly clock?: Clock;
  /** Forget a learned MAC after this long without traffic; 0 = never (default 300 s, like most bridges). */
  readonly ageingMs?: number;
}

interface PortEntry {
  readonly id: number;
  readonly port: SwitchPort;
  readonly config: PortConfig;
  readonly counters: PortCounters;
  removed: boolean;
}

interface MacEntry {
  entry: PortEntry;
  seenMs: number;
}

const BROADCAST_MAC = 0xffffffffffff;

export class VSwitch {
  private readonly ports: PortEntry[] = [];
  private readonly macs = new Map<number, MacEntry>();
  private readonly clock: Clock;
  private readonly ageingMs: number;
  private nextId = 1;

  constructor(o: VSwitchOptions = {}) {
    this.clock = o.clock ?? systemClock;
    this.ageingMs = o.ageingMs ?? 300_000;
  }

  /** Adds a port; returns a handle whose forward() injects the port's frames. */
  addPort(port: SwitchPort, config: PortConfig = {}): SwitchPortHandle {
    if (this.ports.some((p) => p.port === port)) throw new ConfigError('BAD_CONFIG', `port ${port.name} is already on the switch`);
    const e: PortEntry = { id: this.nextId++, port, config, counters: new Counters(PORT_COUNTER_NAMES), removed: false };
    this.ports.push(e);
    return new SwitchPortHandle(this, e);
  }

  /** @internal */
  removePort(e: PortEntry): void {
    e.removed = true;
    const i = this.ports.indexOf(e);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [mac, m] of this.macs) if (m.entry === e) this.macs.delete(mac);
  }

  /** Learned MACs (for `netvsc show` and tests): mac number → port name. */
  table(): Map<number, string> {
    const out = new Map<number, string>();
    for (const [mac, m] of this.macs) out.set(mac, m.entry.port.name);
    return out;
  }

  portStats(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const p of this.ports) out[p.port.name] = p.counters.snapshot();
    return out;
  }

  /**
   * @internal A frame from `src`: learn, then deliver or flood. Returns how many ports took it.
   */
  forward(src: PortEntry, bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): number {
    if (len < 14) return 0;
    src.counters.inc('rx_frames');
    src.counters.inc('rx_bytes', len);
    const now = this.ageingMs > 0 ? this.clock.now() : 0;
    const srcMac = macAt(bytes, off + 6);
    if ((bytes[off + 6]! & 1) === 0) this.learn(srcMac, src, now);
    const dst = macAt(bytes, off);
    const group = (bytes[off]! & 1) !== 0;
    if (!group) {
      const m = this.macs.get(dst);
      if (m && !m.entry.removed && (this.ageingMs === 0 || now - m.seenMs <= this.ageingMs)) {
        if (m.entry === src) return 0; // hairpin: the frame is already where it belongs
        return this.offer(m.entry, dst, false, bytes, off, len, meta);
      }
    }
    src.counters.inc('flooded');
    let n = 0;
    const ports = this.ports;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (p !== src) n += this.offer(p, dst, group, bytes, off, len, meta);
    }
    return n;
  }

  private learn(mac: number, src: PortEntry, now: number): void {
    const m = this.macs.get(mac);
    if (m) {
      m.entry = src;
      m.seenMs = now;
    } else this.macs.set(mac, { entry: src, seenMs: now });
  }

  private offer(p: PortEntry, dst: number, group: boolean, bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): number {
    if (!accepts(p.port.packetFilter, p.port.macNumber, dst, group)) {
      p.counters.inc('tx_filtered');
      return 0;
    }
    if (!p.port.deliver(bytes, off, len, meta)) {
      p.counters.inc('tx_dropped');
      return 0;
    }
    p.counters.inc('tx_frames');
    p.counters.inc('tx_bytes', len);
    return 1;
  }
}

/** The packet-filter rule of one port for one destination (§5.11). */
export function accepts(filter: number, ownMac: number, dst: number, group: boolean): boolean {
  if (filter === 0) return false;
  if ((filter & NDIS_PACKET_TYPE_PROMISCUOUS) !== 0) return true;
  if (!group) return (filter & NDIS_PACKET_TYPE_DIRECTED) !== 0 && dst === ownMac;
  if (dst === BROADCAST_MAC) return (filter & NDIS_PACKET_TYPE_BROADCAST) !== 0;
  return (filter & (NDIS_PACKET_TYPE_ALL_MULTICAST | NDIS_PACKET_TYPE_MULTICAST)) !== 0;
}

/** A port's door into the switch. */
export class SwitchPortHandle {
  constructor(
    private readonly sw: VSwitch,
    private readonly entry: PortEntry,
  ) {}

  get counters(): PortCounters {
    return this.entry.counters;
  }

  get config(): PortConfig {
    return this.entry.config;
  }

  /** Sends a frame from this port into the switch; returns the number of ports that took it. */
  forward(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): number {
    if (this.entry.removed) return 0;
    return this.sw.forward(this.entry, bytes, off, len, meta);
  }

  remove(): void {
    this.sw.removePort(this.entry);
  }
}
