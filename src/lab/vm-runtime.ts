/**
 * Everything one VM runs, in its worker (or in the main thread in single-thread mode): the guest
 * VMBus end, one netvsc device per NIC, the app-port bridges and the traffic apps, all on one
 * EventLoop. Its public methods are the VM's control calls (rpc.ts); none carries a packet.
 */
import type { MessagePort } from 'node:worker_threads';
import { ConfigError, ResourceError } from '../core/index.js';
import { Doorbell, EventLoop, GuestMemory, PageAllocator, PortLink, VmbusGuest, type LoopWakeStats, type MessageLink, type VmShared } from '../vmbus/index.js';
import { vmEnd, type AppPortShared } from './app-port.js';
import type { NicConfig } from './config.js';
import { probeGuestNic } from './guest-nic.js';
import type { GuestNicDriver, NicInfo } from './nic-driver.js';
import type { EthtoolView } from '../guest/index.js';
import { TrafficGenerator, type GeneratorReport } from './traffic/generator.js';
import { GEN_SLOT_BYTES, GenTxSlots } from './traffic/tx-slots.js';
import { TxDoneRouter } from './tx-done-router.js';
import { TrafficSink, type SinkReport } from './traffic/sink.js';
import { generatorSpec, sinkSpec, type GeneratorOptions, type SinkSpec } from './traffic/spec.js';
import { VmNic, type VmNicCounters } from './vm-nic.js';
import { VmCaptures } from './capture/vm-captures.js';
import { MAX_TAP_READ_LEN, TapPort, type TapShared } from '../io/index.js';
import { TapBridge, type TapBridgeCounters, type TapBridgeOptions } from './tap/tap-bridge.js';
import { TxArena } from './tap/tx-arena.js';
import { PAGE_SIZE } from '../vmbus/index.js';
import { switchBusyPoll, type BusyPoll, type BusyPollCounts } from './tap/busy-poll.js';
import type { NicOffloads, NicSwitches } from './nic-driver.js';
import type { GuestVfState } from './nic-driver.js';
import type { VfDeviceStats } from './vf/guest-end.js';
import type { SharedVfSpec } from './vf/shared-vf.js';
import { VmVfs } from './vf/vm-vfs.js';

/** What a VM is built from (structured-cloneable, so it can be workerData). */
export interface VmSetup {
  readonly name: string;
  readonly shared: VmShared;
  readonly nics: readonly NicConfig[];
  readonly appPorts: readonly AppPortShared[];
  /** Longest wait for one NVSP/RNDIS reply during bring-up and reconfiguration. */
  readonly replyTimeoutMs: number;
  /** VFs assigned before the VM starts (NICs with `vf: 'boot'`); the host shows them after bring-up. */
  readonly bootVfs?: readonly SharedVfSpec[];
}

export interface GuestNicStats {
  /** The driver's counters under their `ethtool -S` names. */
  readonly ethtool: Record<string, number>;
  readonly lab: VmNicCounters & TxDoneCounters;
  readonly info: NicInfo;
  /** SR-IOV failover: data path, enslaved VF, events, and the VF device's own counters. */
  readonly vf: GuestNicVf;
}

/** In-place completions across re-probes (the NIC's TxDoneRouter). */
export interface TxDoneCounters {
  /** Completions a re-probed-away device made after its close: ignored. */
  tx_done_stale: number;
  /** In-flight TAP arena records / generator slots it never returned, freed when it was retired. */
  tx_done_missing: number;
  tx_done_missing_gen: number;
  /** Completions of the live device for a generator token not in flight (twice, unknown): ignored (GenTxSlots.badTokens). */
  tx_done_ignored_gen: number;
}

export interface GuestNicVf extends GuestVfState {
  readonly device: (VfDeviceStats & { readonly name: string }) | null;
}

/** In-place TAP transmit: 2 MiB of guest pages per NIC (about 30 GSO super-frames in flight or held). */
const TAP_ARENA_PAGES = 512;

/** In-place generator transmit: 32 slots of one 64 KB super-frame per NIC (GenTxSlots; 2.2 MB). */
const GEN_SLOTS = 32;

type App = { readonly kind: 'generator'; readonly nic: VmNic; readonly app: TrafficGenerator } | { readonly kind: 'sink'; readonly nic: VmNic; readonly app: TrafficSink };

export class VmRuntime {
  readonly loop: EventLoop;
  private readonly memory: GuestMemory;
  private readonly allocator: PageAllocator;
  private readonly bus: VmbusGuest;
  private readonly nics = new Map<string, VmNic>();
  private readonly apps = new Map<number, App>();
  /** TAP bridges by NIC name (src/lab/tap): they replace the NIC's app port on the loop. */
  private readonly taps = new Map<string, TapBridge>();
  /** Their TAP ports (an inline-RX port watches the TAP fd on this thread's loop). */
  private readonly tapPorts = new Map<string, TapPort>();
  /** Per NIC, the guest pages its TAP's frames are read into and sent from in place (made at the first attach, kept). */
  private readonly tapArenas = new Map<string, TxArena>();
  /** Per NIC, the GPADLs (mapTxPages handles) of its TAP arena and generator slots, torn down at close(). */
  private readonly txMaps = new Map<string, number[]>();
  /** Per NIC, an attachTap still awaiting its arena: a second attach is refused, a detachTap cancels it. */
  private readonly attaching = new Map<string, { cancelled: boolean }>();
  /** Per NIC, the guest pages generators build LSO super-frames in to send them in place (made at the first, kept). */
  private readonly genSlots = new Map<string, Promise<GenTxSlots | null>>();
  /** Each NIC's in-place completion routing (TAP arena, generator slots), kept across re-probes. */
  private readonly txDone = new Map<string, TxDoneRouter>();
  private busyPoll: BusyPoll | null = null;
  private nextApp = 1;
  /** Guest TX/RX pcaps and message traces of captured NICs (src/lab/capture). */
  private readonly captures: VmCaptures;
  private closed = false;
  /** NICs being probed again after a host rescind + re-offer (onNicOffer). */
  private readonly reprobing = new Set<string>();
  /** Each NIC's primary channel relid, and the NICs whose primary the host rescinded (onRescind). */
  private readonly primaryRelid = new Map<string, number>();
  private readonly rescinded = new Set<string>();
  /** The VM's SR-IOV VFs and its netdev notifier chain (src/lab/vf/vm-vfs.ts). */
  private readonly vfs: VmVfs;

  constructor(
    private readonly setup: VmSetup,
    link: MessageLink | MessagePort,
  ) {
    this.loop = new EventLoop(Doorbell.guest(setup.shared.signals));
    this.captures = new VmCaptures(setup.name);
    this.memory = new GuestMemory(setup.shared.memory);
    this.allocator = new PageAllocator(this.memory.pageCount);
    this.bus = new VmbusGuest({
      memory: this.memory,
      allocator: this.allocator,
      signals: setup.shared.signals,
      hostDoorbell: Doorbell.host(setup.shared.hostDoorbell),
      link: 'send' in link ? link : new PortLink(link),
      loop: this.loop,
    });
    this.bus.onOffer = (o) => this.onNicOffer(o);
    this.bus.onRescind = (relid) => this.onRescind(relid);
    this.vfs = new VmVfs(this.loop, Doorbell.host(setup.shared.hostDoorbell), () => [...this.nics.values()].map((n) => n.driver));
    for (const spec of setup.bootVfs ?? []) this.vfs.plug(spec);
  }

  /** Asks the host for its offers, probes and opens every NIC, plugs in the app ports. */
  async bringUp(): Promise<NicInfo[]> {
    await this.bus.requestOffers();
    const out: NicInfo[] = [];
    for (let i = 0; i < this.setup.nics.length; i++) {
      const cfg = this.setup.nics[i]!;
      const observer = this.captures.traceFor(cfg.name, cfg.capture);
      const driver = await probeGuestNic({ bus: this.bus, memory: this.memory, allocator: this.allocator, loop: this.loop, timeoutMs: this.setup.replyTimeoutMs, observer }, cfg);
      const router = new TxDoneRouter();
      driver.onTxDone = router.route;
      this.txDone.set(cfg.name, router);
      const nic = new VmNic(cfg.name, driver);
      nic.capture = this.captures.pcapFor(cfg.name, cfg.capture);
      nic.attachPort(vmEnd(this.setup.appPorts[i]!));
      this.nics.set(cfg.name, nic);
      this.notePrimary(cfg);
      this.loop.add(nic);
      this.vfs.announceTo(driver);
      out.push(driver.info());
    }
    return out;
  }

  info(nic: string): NicInfo {
    return this.nic(nic).driver.info();
  }

  stats(nic: string): GuestNicStats {
    const n = this.nic(nic);
    const vf = n.driver.vfState();
    const r = this.txDone.get(nic);
    const done: TxDoneCounters = { tx_done_stale: r?.stale ?? 0, tx_done_missing: r?.missing ?? 0, tx_done_missing_gen: r?.missingSlots ?? 0, tx_done_ignored_gen: r?.slots?.badTokens ?? 0 };
    return { ethtool: n.driver.stats(), lab: { ...n.counters, ...done }, info: n.driver.info(), vf: { ...vf, device: this.vfs.deviceStats(vf.serial) } };
  }

  /** A VF assigned to this VM by the host (it appears when the host plugs it, after its show delay). */
  plugVf(spec: SharedVfSpec): void {
    this.vfs.plug(spec);
  }

  /** Forgets a VF whose assignment the host refused. */
  unplugVf(serial: number): void {
    this.vfs.unplug(serial);
  }

  async setRing(nic: string, rxSections: number, txSections: number): Promise<NicInfo> {
    const n = this.nic(nic);
    await n.driver.setRing(rxSections, txSections);
    this.taps.get(nic)?.refresh();
    return n.driver.info();
  }

  async setMtu(nic: string, mtu: number): Promise<NicInfo> {
    const n = this.nic(nic);
    await n.driver.setMtu(mtu);
    this.taps.get(nic)?.refresh();
    return n.driver.info();
  }

  async setChannels(nic: string, queues: number): Promise<NicInfo> {
    const n = this.nic(nic);
    await n.driver.setChannels(queues);
    this.taps.get(nic)?.refresh();
    return n.driver.info();
  }

  /** ethtool -X: key bytes and/or indirection table (the driver checks both). */
  async setRxfh(nic: string, o: { readonly key?: readonly number[]; readonly indir?: readonly number[] }): Promise<NicSwitches> {
    const n = this.nic(nic);
    await n.driver.setRxfh({ ...(o.key ? { key: Uint8Array.from(o.key) } : {}), ...(o.indir ? { indir: o.indir } : {}) });
    return n.driver.switches();
  }

  /** ethtool -N rx-flow-hash CLASS sd|sdfn. */
  setRxFlowHash(nic: string, cls: 'tcp4' | 'tcp6' | 'udp4' | 'udp6', fields: 'sd' | 'sdfn'): NicSwitches {
    const n = this.nic(nic);
    n.driver.setRxFlowHash(cls, fields);
    return n.driver.switches();
  }

  /** ethtool -K gro / lro. */
  async setFeatures(nic: string, f: { readonly gro?: boolean; readonly lro?: boolean }): Promise<NicSwitches> {
    const n = this.nic(nic);
    if (f.lro !== undefined) await n.driver.setLro(f.lro);
    if (f.gro !== undefined) n.driver.setGro(f.gro);
    return n.driver.switches();
  }

  /** What -K and -N switched, as the driver holds it now. */
  switches(nic: string): NicSwitches {
    return this.nic(nic).driver.switches();
  }

  /** Starts a generator on `nic`; returns its app id. */
  startGenerator(nic: string, o: GeneratorOptions): number {
    const n = this.nic(nic);
    const info = n.driver.info();
    const off = n.driver.offloads();
    const spec = generatorSpec(o, info.mac, info.mtu, off.gsoMax);
    if (spec.lso && !(spec.family === 'ipv6' ? off.tso6 : off.tso4)) throw new ConfigError('UNSUPPORTED', `lso: ${nic} negotiated no LSOv2 for ${spec.family}`);
    const gen = new TrafficGenerator(spec, n, () => this.loop.doorbell.ring());
    const id = this.nextApp++;
    this.apps.set(id, { kind: 'generator', nic: n, app: gen });
    this.loop.add(gen);
    // LSO super-frames go in place (Contract A) once the NIC's slots are mapped; copied until then.
    if (spec.stack && spec.lso) {
      void this.generatorSlots(nic).then(
        (slots) => slots && gen.useInPlace({ xmitInPlace: (o, l, r, m, t) => n.driver.xmitInPlace(o, l, r, m, t) }, slots),
        () => {},
      );
    }
    return id;
  }

  /**
   * The NIC's slots for in-place generator transmit: GEN_SLOTS × 68 KB of contiguous guest pages
   * described to the host (mapTxPages), kept for the NIC's life; generator tokens (≥ GEN_TOKEN_BASE)
   * come back to them through the NIC's TxDoneRouter. Null when guest memory has no such
   * run, or the mapping failed: generators then copy as before. A driver replaced by a re-probe
   * takes the routing over (reprobe()).
   */
  private generatorSlots(nic: string): Promise<GenTxSlots | null> {
    let p = this.genSlots.get(nic);
    if (p) return p;
    p = (async () => {
      const driver = this.nic(nic).driver;
      const pages = (GEN_SLOTS * GEN_SLOT_BYTES) / PAGE_SIZE;
      const run = await this.mappedRun(driver, pages).catch(() => null);
      if (run === null || !(await this.keepMapping(nic, driver, run.handle))) return null;
      const slots = new GenTxSlots(this.memory.u8, run.first * PAGE_SIZE, pages * PAGE_SIZE);
      this.txDone.get(nic)!.slots = slots;
      return slots;
    })();
    this.genSlots.set(nic, p);
    return p;
  }

  /** Starts a sink for one flow on `nic`; returns its app id. */
  startSink(nic: string, o: SinkSpec): number {
    const n = this.nic(nic);
    const sink = new TrafficSink(sinkSpec(o));
    const id = this.nextApp++;
    this.apps.set(id, { kind: 'sink', nic: n, app: sink });
    n.addSink(sink);
    return id;
  }

  generatorReport(id: number): GeneratorReport {
    const a = this.app(id);
    if (a.kind !== 'generator') throw new ConfigError('BAD_CONFIG', `app ${id} is a ${a.kind}, not a generator`);
    return a.app.report();
  }

  sinkReport(id: number): SinkReport {
    const a = this.app(id);
    if (a.kind !== 'sink') throw new ConfigError('BAD_CONFIG', `app ${id} is a ${a.kind}, not a sink`);
    return a.app.report();
  }

  /** Stops a generator and returns its final counters (what it sent, exactly). */
  stopGenerator(id: number): GeneratorReport {
    const r = this.generatorReport(id);
    this.stopApp(id);
    return r;
  }

  /** Stops a sink and returns its final counters. */
  stopSink(id: number): SinkReport {
    const r = this.sinkReport(id);
    this.stopApp(id);
    return r;
  }

  /** What `ethtool -g/-l/-k/-x` show for the NIC (the driver's own view). */
  ethtool(nic: string): EthtoolView {
    return this.nic(nic).driver.ethtool();
  }

  /** Stops an app and forgets it. */
  stopApp(id: number): void {
    const a = this.app(id);
    if (a.kind === 'generator') {
      a.app.stop();
      this.loop.remove(a.app);
    } else a.nic.removeSink(a.app);
    this.apps.delete(id);
  }

  /** The offloads a TAP for this NIC may be opened with (src/lab/tap). */
  tapOffloads(nic: string): NicOffloads {
    return this.nic(nic).driver.offloads();
  }

  /**
   * Bridges a NIC to a TAP (src/lab/tap/tap-bridge.ts) in place of its app port. A port that reads
   * the fd here gets the NIC's TxArena: frames are read into guest pages and sent in place.
   */
  async attachTap(nic: string, tap: TapShared, o: TapBridgeOptions): Promise<void> {
    const n = this.nic(nic);
    // One attach at a time: a second one, while the first awaits its arena, is refused at once
    // (the control socket's caller gets an answer, and no second arena is ever mapped).
    if (this.taps.has(nic)) throw new ConfigError('BUSY', `nic ${nic}: a TAP is already attached`);
    if (this.attaching.has(nic)) throw new ConfigError('BUSY', `nic ${nic}: a TAP is being attached`);
    const me = { cancelled: false };
    this.attaching.set(nic, me);
    let arena: TxArena | null;
    try {
      arena = tap.rxFd !== undefined && o.inPlace !== false ? await this.tapArena(nic) : null;
    } finally {
      this.attaching.delete(nic);
    }
    // A detachTap (or close) came while we waited: nothing is installed. The arena stays the NIC's, as after any detach.
    if (this.closed) throw new ResourceError('CHANNEL_CLOSED', `nic ${nic}: VM ${this.setup.name} closed while the TAP was being attached`);
    if (me.cancelled) throw new ResourceError('CHANNEL_CLOSED', `nic ${nic}: the TAP was detached while it was being attached`);
    this.loop.remove(n);
    const port = new TapPort(tap);
    const b = new TapBridge(n.driver, port, o, n.capture, arena && { memory: this.memory.u8, arena });
    this.taps.set(nic, b);
    this.tapPorts.set(nic, port);
    // Inline RX: the kernel wakes this thread's libuv loop when the TAP has frames; ring our own
    // doorbell so a sleeping EventLoop polls the bridge (a no-op for a ring-fed port).
    port.watch(() => this.loop.doorbell.ring());
    this.loop.add(b);
  }

  /**
   * `pages` contiguous guest pages described to the host for in-place transmit (mapTxPages): the
   * first PFN, or null when guest memory has no such run; a failed mapping frees them and throws.
   */
  private async mappedRun(driver: GuestNicDriver, pages: number): Promise<{ first: number; handle: number } | null> {
    let first: number;
    try {
      first = this.allocator.allocContiguous(pages);
    } catch {
      return null;
    }
    const pfns = Array.from({ length: pages }, (_, i) => first + i);
    try {
      return { first, handle: await driver.mapTxPages(pfns) };
    } catch (e) {
      this.allocator.free(pfns);
      throw e;
    }
  }

  /**
   * The NIC's arena for in-place TAP transmit: TAP_ARENA_PAGES contiguous guest pages described to
   * the host (mapTxPages), kept for the NIC's life (a later TAP reuses it; frames still in flight
   * from an earlier one complete into it). Null when the VM has no such run of free pages: the
   * bridge then copies as before.
   */
  private async tapArena(nic: string): Promise<TxArena | null> {
    const have = this.tapArenas.get(nic);
    if (have) return have;
    const driver = this.nic(nic).driver;
    const run = await this.mappedRun(driver, TAP_ARENA_PAGES);
    if (run === null || !(await this.keepMapping(nic, driver, run.handle))) return null;
    const arena = new TxArena(run.first * PAGE_SIZE, TAP_ARENA_PAGES * PAGE_SIZE, MAX_TAP_READ_LEN);
    this.txDone.get(nic)!.arena = arena;
    this.tapArenas.set(nic, arena);
    return arena;
  }

  /**
   * A GPADL mapped for in-place transmit, kept until close() tears it down; false (and torn down
   * here) when close() came while it was being mapped and so found no handle to tear down.
   */
  private async keepMapping(nic: string, driver: GuestNicDriver, handle: number): Promise<boolean> {
    if (this.closed) {
      await driver.unmapTxPages(handle).catch(() => {});
      return false;
    }
    let maps = this.txMaps.get(nic);
    if (!maps) this.txMaps.set(nic, (maps = []));
    maps.push(handle);
    return true;
  }

  /** Busy-poll mode for `up --busy-poll` (src/lab/tap/busy-poll.ts): this VM's loop never sleeps; switching off returns what it did. */
  setBusyPoll(on: boolean): BusyPollCounts | null {
    const was = this.busyPoll;
    this.busyPoll = switchBusyPoll(this.loop, was, on);
    return was && !on ? { yields: was.yields, breaks: was.breaks } : null;
  }

  /** Stops reading a NIC's TAP (before its fd is closed); the NIC stays detached. Idempotent. */
  detachTap(nic: string): void {
    const pending = this.attaching.get(nic);
    if (pending) pending.cancelled = true; // an attach still awaiting its arena installs nothing
    const b = this.taps.get(nic);
    if (b) this.loop.remove(b);
    b?.close();
    this.tapPorts.get(nic)?.close();
    this.tapPorts.delete(nic);
    this.taps.delete(nic);
    if (b) this.nic(nic).driver.onFrame = () => {}; // received frames have nowhere to go now
  }

  /** The TAP bridge's counters; flushes its capture files so they can be read now. */
  tapStats(nic: string): TapBridgeCounters {
    const b = this.taps.get(nic);
    if (!b) throw new ConfigError('BAD_CONFIG', `nic ${nic}: no TAP attached`);
    this.captures.flush();
    const a = this.tapArenas.get(nic);
    const r = this.txDone.get(nic)!;
    return { ...b.counters, tx_in_flight: a?.inFlight ?? 0, tx_pending: a?.pending ?? 0, tx_done_ignored: a?.badDone ?? 0, tx_done_stale: r.stale, tx_done_missing: r.missing };
  }

  /** Writes the buffered guest pcap records and traces; returns each trace's records and drops. */
  flushCaptures(): Record<string, { records: number; dropped: number }> {
    return this.captures.flush();
  }

  /** The VM loop's sleep/wake counters (the lost-signal fault test). */
  wakeStats(): LoopWakeStats {
    return this.loop.wakeStats();
  }

  /**
   * A NIC offered again after the host rescinded it (host servicing, issue 9): its old device died
   * with the rescind, so tear that down and probe the new offer in the background. Frames from the
   * port wait in the NIC meanwhile (held, not lost); sinks and generators keep their NIC.
   */
  private onNicOffer(o: Parameters<VmbusGuest['onOffer']>[0]): void {
    if (o.subChannelIndex !== 0 || this.closed) return;
    const cfg = this.setup.nics.find((c) => c.instanceGuid === o.ifInstance);
    const n = cfg ? this.nics.get(cfg.name) : undefined;
    // Only a NIC whose primary was rescinded: a probe asks for every offer again (a replay of the
    // live ones), and re-probing a live NIC on that would tear down the device just probed.
    if (!cfg || !n || !this.rescinded.has(cfg.name) || this.reprobing.has(cfg.name)) return;
    this.rescinded.delete(cfg.name);
    this.reprobing.add(cfg.name);
    void this.reprobe(cfg, n).finally(() => this.reprobing.delete(cfg.name));
  }

  private onRescind(relid: number): void {
    for (const [name, r] of this.primaryRelid) {
      if (r !== relid) continue;
      this.primaryRelid.delete(name);
      this.rescinded.add(name);
    }
  }

  /** Remembers the relid of the NIC's primary channel offer (the one probeGuestNic took). */
  private notePrimary(cfg: NicConfig): void {
    const o = [...this.bus.offers.values()].find((x) => x.ifInstance === cfg.instanceGuid && x.subChannelIndex === 0);
    if (o) this.primaryRelid.set(cfg.name, o.childRelid);
  }

  private async reprobe(cfg: NicConfig, n: VmNic): Promise<void> {
    await n.driver.close().catch(() => {}); // the device is rescinded: teardown frees what it can
    // Its teardown returned what it held in place; a completion it makes later frees nothing (counted).
    this.txDone.get(cfg.name)!.retire(n.driver);
    try {
      const driver = await probeGuestNic({ bus: this.bus, memory: this.memory, allocator: this.allocator, loop: this.loop, timeoutMs: this.setup.replyTimeoutMs }, cfg);
      if (this.closed) return void (await driver.close().catch(() => {}));
      // The in-place routing (TAP arena, generator slots) goes on: their pages stay described to the host.
      driver.onTxDone = this.txDone.get(cfg.name)!.route;
      n.replaceDriver(driver);
      // A TAP bridge follows too (transmit, onFrame, its fragment-list mode); its waiting frames go first.
      this.taps.get(cfg.name)?.setDriver(driver);
      this.loop.doorbell.ring();
      this.notePrimary(cfg);
    } catch {
      n.counters.reprobe_failed++; // typed: no offer any more, or the host refused; the NIC stays down
    }
  }

  /** Stops the apps, removes every device (closing its channels), stops the loop. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.apps.keys()]) this.stopApp(id);
    for (const b of this.taps.values()) {
      this.loop.remove(b);
      b.close();
    }
    for (const p of this.tapPorts.values()) p.close();
    this.taps.clear();
    this.tapPorts.clear();
    this.vfs.close();
    for (const [name, n] of this.nics) {
      this.loop.remove(n);
      await n.driver.close().catch(() => {}); // the host may already be gone: teardown is best effort
      // The TAP arena's and generator slots' GPADLs (each mapped once for the NIC's life), after the
      // close returned every frame in them (VMBus order: close, then teardown).
      for (const h of this.txMaps.get(name) ?? []) await n.driver.unmapTxPages(h).catch(() => {});
      this.txMaps.delete(name);
    }
    this.nics.clear();
    this.captures.close();
    await this.loop.stop();
  }

  private nic(name: string): VmNic {
    const n = this.nics.get(name);
    if (!n) throw new ConfigError('BAD_CONFIG', `nic: VM ${this.setup.name} has no NIC '${name}' (has: ${[...this.nics.keys()].join(', ')})`);
    return n;
  }

  private app(id: number): App {
    const a = this.apps.get(id);
    if (!a) throw new ConfigError('BAD_CONFIG', `app: no app ${id} in VM ${this.setup.name}`);
    return a;
  }
}
