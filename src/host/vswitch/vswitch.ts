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
import { MacTable, macHiAt, macHiOf, macLoAt, macLoOf } from './mac-table.js';
import { PORT_CAPTURE_EGRESS, PORT_CAPTURE_INGRESS, type PortCaptureSink, type PortConfig, type PortFrameMeta, type SwitchPort } from './port.js';

export const PORT_COUNTER_NAMES = [
  'rx_frames', // frames the port sent into the switch
  'rx_bytes',
  'tx_frames', // frames the switch delivered to the port
  'tx_bytes',
  'tx_filtered', // frames the port's packet filter refused
  'tx_dropped', // the port's deliver() returned false
  'flooded', // frames from this port that were flooded
  'vlan_dropped', // frames from this port tagged with a VLAN the port may not send on
  'vlan_filtered', // frames for this port on a VLAN it is not a member of
  'learn_refused', // a new source MAC from this port not learned: the MAC table is full (maxMacs)
  'mac_spoofing_dropped', // frames from this port whose source MAC is not the port's (macAddressSpoofing false)
] as const;
export type PortCounters = Counters<(typeof PORT_COUNTER_NAMES)[number]>;
/** Slots of the counters every forwarded frame bumps, resolved once (no name lookup per frame). */
const S_RX_FRAMES = PORT_COUNTER_NAMES.indexOf('rx_frames');
const S_RX_BYTES = PORT_COUNTER_NAMES.indexOf('rx_bytes');
const S_TX_FRAMES = PORT_COUNTER_NAMES.indexOf('tx_frames');
const S_TX_BYTES = PORT_COUNTER_NAMES.indexOf('tx_bytes');

export interface VSwitchOptions {
  readonly clock?: Clock;
  /** Forget a learned MAC after this long without traffic; 0 = never (default 300 s, like most bridges). */
  readonly ageingMs?: number;
  /**
   * Most MACs learned at once (default 8192): a guest sending from ever new source MACs cannot
   * grow the table without bound. A new MAC past it is not learned (counted learn_refused);
   * frames to it are flooded, as for any unknown unicast.
   */
  readonly maxMacs?: number;
}

interface PortEntry {
  readonly id: number;
  readonly port: SwitchPort;
  readonly config: PortConfig;
  /** Access VLAN (0 = the untagged network), or -1 for a trunk port. */
  readonly access: number;
  /** Trunk port: the VLANs it carries tagged (untagged frames are its native VLAN 0). */
  readonly trunk: ReadonlySet<number> | null;
  readonly counters: PortCounters;
  removed: boolean;
  /**
   * A standby port receives nothing (no unicast, no flood) and its source MACs are not learned:
   * a VF port while the data path is synthetic, or a synthetic NIC while its MAC is steered to
   * its VF (protocol.md §6.8: only one of the two paths carries the MAC's traffic).
   */
  standby: boolean;
  /** Capture of the frames crossing this port (issue 7), or null. */
  capture: PortCaptureSink | null;
}

const BROADCAST_MAC = 0xffffffffffff;
/** A full MAC table is swept for aged entries at most this often (learn()). */
const SWEEP_MIN_MS = 1000;

export class VSwitch {
  private readonly ports: PortEntry[] = [];
  /** Learned MAC → port and when it last sent (mac-table.ts: no heap number per frame). */
  private readonly macs: MacTable<PortEntry>;
  /** MAC → the port that takes its traffic whatever was learned (data path switch, §3.10); one a NIC, so no bound of its own. */
  private readonly steering = new MacTable<PortEntry>(0x40000000);
  private readonly clock: Clock;
  private readonly ageingMs: number;
  private nextId = 1;
  /** When a full table was last swept for aged entries (learn()). */
  private lastSweepMs = -Infinity;

  constructor(o: VSwitchOptions = {}) {
    this.clock = o.clock ?? systemClock;
    this.ageingMs = o.ageingMs ?? 300_000;
    this.macs = new MacTable(o.maxMacs ?? 8192);
  }

  /** Adds a port; returns a handle whose forward() injects the port's frames. */
  addPort(port: SwitchPort, config: PortConfig = {}, o: { readonly standby?: boolean } = {}): SwitchPortHandle {
    if (this.ports.some((p) => p.port === port)) throw new ConfigError('BAD_CONFIG', `port ${port.name} is already on the switch`);
    const { access, trunk } = vlanMembership(port, config);
    const e: PortEntry = { id: this.nextId++, port, config, access, trunk, counters: new Counters(PORT_COUNTER_NAMES), removed: false, standby: o.standby ?? false, capture: null };
    this.ports.push(e);
    return new SwitchPortHandle(this, e);
  }

  /** @internal */
  removePort(e: PortEntry): void {
    e.removed = true;
    const i = this.ports.indexOf(e);
    if (i >= 0) this.ports.splice(i, 1);
    this.macs.deleteValue(e);
    this.steering.deleteValue(e);
  }

  /**
   * @internal Sends every frame for `mac` (unicast and floods) to `to` and none to `from`, which
   * goes standby (§6.8: SWITCH_DATA_PATH moves the MAC's traffic between synthetic NIC and VF).
   */
  steer(mac: number, to: PortEntry, from: PortEntry): void {
    from.standby = true;
    to.standby = false;
    this.steering.set(macHiOf(mac), macLoOf(mac), to, 0);
    this.macs.delete(macHiOf(mac), macLoOf(mac));
  }

  /** @internal Forgets `mac`'s steering if it points at `e` (the VF left; learning takes over again). */
  unsteer(mac: number, e: PortEntry): void {
    const slot = this.steering.find(macHiOf(mac), macLoOf(mac));
    if (slot >= 0 && this.steering.valueAt(slot) === e) this.steering.delete(macHiOf(mac), macLoOf(mac));
  }

  /** MACs currently steered (for `netvsc show` and tests): mac number → port name. */
  steered(): Map<number, string> {
    const out = new Map<number, string>();
    this.steering.forEach((mac, e) => out.set(mac, e.port.name));
    return out;
  }

  /** Learned MACs (for `netvsc show` and tests): mac number → port name. */
  table(): Map<number, string> {
    const out = new Map<number, string>();
    this.macs.forEach((mac, e) => out.set(mac, e.port.name));
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
    src.counters.add(S_RX_FRAMES);
    src.counters.add(S_RX_BYTES, len);
    if (src.capture !== null) src.capture.frame(bytes, off, len, meta, PORT_CAPTURE_INGRESS);
    const vlan = ingressVlan(src, meta);
    if (vlan < 0) {
      src.counters.inc('vlan_dropped');
      return 0;
    }
    const pri = meta.vlanTci & 0xf; // priority and CFI of the 802.1Q PPI (§5.5) travel with the frame
    if (src.config.macAddressSpoofing === false && src.port.macNumber !== macHiAt(bytes, off + 6) * 0x100000000 + (macLoAt(bytes, off + 6) >>> 0)) {
      src.counters.inc('mac_spoofing_dropped');
      return 0;
    }
    const now = this.ageingMs > 0 ? this.clock.now() : 0;
    if ((bytes[off + 6]! & 1) === 0 && !src.standby) {
      const srcHi = macHiAt(bytes, off + 6);
      const srcLo = macLoAt(bytes, off + 6);
      if (this.steering.size === 0 || this.steering.find(srcHi, srcLo) < 0) this.learn(srcHi, srcLo, src, now);
    }
    const dstHi = macHiAt(bytes, off);
    const dstLo = macLoAt(bytes, off);
    const group = (bytes[off]! & 1) !== 0;
    if (!group) {
      const st = this.steering.size === 0 ? -1 : this.steering.find(dstHi, dstLo);
      if (st >= 0) {
        const to = this.steering.valueAt(st);
        return to === src ? 0 : this.offer(to, dstHi, dstLo, false, bytes, off, len, meta, vlan, pri);
      }
      const slot = this.macs.find(dstHi, dstLo);
      if (slot >= 0) {
        const to = this.macs.valueAt(slot);
        if (!to.removed && !to.standby && (this.ageingMs === 0 || now - this.macs.seenAt(slot) <= this.ageingMs)) {
          if (to === src) return 0; // hairpin: the frame is already where it belongs
          return this.offer(to, dstHi, dstLo, false, bytes, off, len, meta, vlan, pri);
        }
      }
    }
    src.counters.inc('flooded');
    let n = 0;
    const ports = this.ports;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (p !== src && !p.standby) n += this.offer(p, dstHi, dstLo, group, bytes, off, len, meta, vlan, pri);
    }
    return n;
  }

  /**
   * @internal The port a unicast frame from `src` to `dst` would go to (steering, then a live
   * learned entry), or null when it would be flooded or dropped. No counters, no learning.
   */
  unicastPeer(src: PortEntry, dstHi: number, dstLo: number): PortEntry | null {
    const st = this.steering.size === 0 ? -1 : this.steering.find(dstHi, dstLo);
    if (st >= 0) return this.steering.valueAt(st) === src ? null : this.steering.valueAt(st);
    const slot = this.macs.find(dstHi, dstLo);
    if (slot < 0) return null;
    const to = this.macs.valueAt(slot);
    if (to.removed || to.standby || to === src) return null;
    if (this.ageingMs > 0 && this.clock.now() - this.macs.seenAt(slot) > this.ageingMs) return null;
    return to;
  }

  private learn(hi: number, lo: number, src: PortEntry, now: number): void {
    if (this.macs.set(hi, lo, src, now)) return;
    // Full: evict what has aged out and try once more. Without this a guest that sprayed maxMacs
    // source MACs once kept the table full for good (every later MAC flooded); the sweep is
    // O(table) and runs at most once a second, so a spray of fresh MACs cannot make it costly.
    if (this.ageingMs > 0 && now - this.lastSweepMs >= SWEEP_MIN_MS) {
      this.lastSweepMs = now;
      if (this.macs.deleteSeenBefore(now - this.ageingMs) > 0 && this.macs.set(hi, lo, src, now)) return;
    }
    src.counters.inc('learn_refused');
  }

  private offer(p: PortEntry, dstHi: number, dstLo: number, group: boolean, bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta, vlan: number, pri: number): number {
    // VLAN membership first (isolation), then the port's own packet filter.
    if (p.trunk !== null ? vlan !== 0 && !p.trunk.has(vlan) : vlan !== p.access) {
      p.counters.inc('vlan_filtered');
      return 0;
    }
    // Compared as a double in this frame's registers: the 48-bit number never crosses a call.
    const own = !group && p.port.macNumber === dstHi * 0x100000000 + (dstLo >>> 0);
    if (!acceptsFrame(p.port.packetFilter, own, group && dstHi === 0xffff && dstLo === -1, group)) {
      p.counters.inc('tx_filtered');
      return 0;
    }
    // Access ports receive untagged; trunk ports get the VLAN in the 802.1Q PPI (§5.5).
    // The sender's meta is put back afterwards: the next port, and the sender's next frame (LSO
    // segments share one meta), must see the tag as the sender gave it.
    const hadVlan = meta.hasVlan;
    const tci = meta.vlanTci;
    meta.hasVlan = p.trunk !== null && vlan !== 0;
    meta.vlanTci = meta.hasVlan ? ((vlan << 4) | pri) >>> 0 : 0;
    const taken = p.port.deliver(bytes, off, len, meta);
    if (taken && p.capture !== null) p.capture.frame(bytes, off, len, meta, PORT_CAPTURE_EGRESS);
    meta.hasVlan = hadVlan;
    meta.vlanTci = tci;
    if (!taken) {
      p.counters.inc('tx_dropped');
      return 0;
    }
    p.counters.add(S_TX_FRAMES);
    p.counters.add(S_TX_BYTES, len);
    return 1;
  }
}

/** A port's VLAN configuration checked and in the form the data path tests (issue 5 item 7). */
function vlanMembership(port: SwitchPort, config: PortConfig): { access: number; trunk: ReadonlySet<number> | null } {
  const v = config.vlan;
  const trunk = typeof v === 'object' ? new Set(v.trunk) : null;
  const access = typeof v === 'number' ? v : trunk ? -1 : 0;
  if (!(Number.isInteger(access) && access >= -1 && access <= 4094) || (trunk && [...trunk].some((x) => !(Number.isInteger(x) && x >= 1 && x <= 4094)))) {
    throw new ConfigError('BAD_CONFIG', `port ${port.name}: VLAN ids are 1..4094`);
  }
  return { access, trunk };
}

/**
 * The VLAN a frame from `src` belongs to, or -1 when the port may not send it: an access port's
 * frames are on its VLAN (a tag naming another VLAN is refused); a trunk port's tagged frames
 * are on the tag's VLAN if the trunk carries it, untagged ones on the native VLAN 0.
 */
function ingressVlan(src: PortEntry, meta: PortFrameMeta): number {
  const tagged = meta.hasVlan ? (meta.vlanTci >>> 4) & 0xfff : 0;
  if (src.trunk === null) return tagged === 0 || tagged === src.access ? src.access : -1;
  return tagged === 0 || src.trunk.has(tagged) ? tagged : -1;
}

/** The packet-filter rule of one port for one destination (§5.11). */
export function accepts(filter: number, ownMac: number, dst: number, group: boolean): boolean {
  return acceptsFrame(filter, dst === ownMac, dst === BROADCAST_MAC, group);
}

/** accepts() with the two MAC comparisons already made (`own`: unicast to the port's MAC). */
function acceptsFrame(filter: number, own: boolean, broadcast: boolean, group: boolean): boolean {
  if (filter === 0) return false;
  if ((filter & NDIS_PACKET_TYPE_PROMISCUOUS) !== 0) return true;
  if (!group) return (filter & NDIS_PACKET_TYPE_DIRECTED) !== 0 && own;
  if (broadcast) return (filter & NDIS_PACKET_TYPE_BROADCAST) !== 0;
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

  /** Whether a unicast frame to bytes[off..off+6) goes to one port that takes super-frames whole. */
  peerTakesSuperFrames(bytes: Uint8Array, off: number): boolean {
    if ((bytes[off]! & 1) !== 0 || this.entry.removed) return false;
    return this.sw.unicastPeer(this.entry, macHiAt(bytes, off), macLoAt(bytes, off))?.port.takesSuperFrames === true;
  }

  /** Steers `mac`'s traffic to this port and puts `from` on standby (§3.10 data path switch). */
  steerHere(mac: number, from: SwitchPortHandle): void {
    this.sw.steer(mac, this.entry, from.entry);
  }

  /** Drops a steering of `mac` to this port (after the VF is gone and the path is synthetic again). */
  releaseSteering(mac: number): void {
    this.sw.unsteer(mac, this.entry);
  }

  /** Sets (or with null removes) the capture sink of this port's frames, both directions. */
  setCapture(sink: PortCaptureSink | null): void {
    this.entry.capture = sink;
  }

  /** True while the port receives nothing (see PortEntry.standby). */
  get standby(): boolean {
    return this.entry.standby;
  }
}
