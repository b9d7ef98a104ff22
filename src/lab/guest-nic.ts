/**
 * Adapts the guest netvsc driver (NetvscDevice) to the lab's GuestNicDriver seam: probe and open
 * on the VM's bus, frames in and out, ethtool-named statistics and reconfiguration.
 */
import { NetvscDevice, type EthtoolView, type TxMeta, type VfNetdev, type VfNetdevEvent } from '../guest/index.js';
import type { EventLoop, GuestMemory, PageAllocator, VmbusGuest } from '../vmbus/index.js';
import type { NicConfig } from './config.js';
import type { GuestNicDriver, GuestVfState, LabFrameHandler, NicInfo, NicOffloads, NicSwitches, StackTxRequest } from './nic-driver.js';
import { ConfigError, type MessageObserver } from '../core/index.js';

export interface GuestNicContext {
  readonly bus: VmbusGuest;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly loop: EventLoop;
  readonly timeoutMs: number;
  /** The NIC's NVSP/RNDIS message trace (src/lab/capture), or null. */
  readonly observer?: MessageObserver | null;
}

/** HV_*_L4HASH class bits of the driver's TX hash mask (protocol.md §6.6). */
const L4HASH_BITS = { tcp4: 1, tcp6: 2, udp4: 4, udp6: 8 } as const;

class NetvscNicDriver implements GuestNicDriver {
  onFrame: LabFrameHandler = () => {};
  /** -K gro and lro as last set (the driver keeps both across re-attaches; both start on). */
  private gro = true;
  private lro = true;

  constructor(
    private readonly nic: NicConfig,
    private readonly dev: NetvscDevice,
  ) {
    dev.onReceive = (u8, off, len, meta) => this.onFrame(u8, off, len, meta);
    dev.onTxDone = (token) => this.onTxDone(token);
  }

  onTxDone: (token: number) => void = () => {};

  xmitInPlace(off: number, len: number, req: StackTxRequest, more: boolean, token: number): number {
    return this.dev.xmitInPlace(off, len, req, more, token);
  }

  mapTxPages(pfns: readonly number[]): Promise<number> {
    return this.dev.mapTxPages(pfns);
  }

  unmapTxPages(handle: number): Promise<void> {
    return this.dev.unmapTxPages(handle);
  }

  setRxFragments(on: boolean): void {
    this.dev.setRxFragments(on);
  }

  transmit(u8: Uint8Array, off: number, len: number, more: boolean, meta: TxMeta | null = null): boolean {
    return this.dev.send(u8, off, len, meta, more);
  }

  xmit(u8: Uint8Array, off: number, len: number, req: StackTxRequest, more: boolean): boolean {
    return this.dev.xmit(u8, off, len, req, more);
  }

  setRxfh(o: { readonly key?: Uint8Array; readonly indir?: readonly number[] }): Promise<void> {
    return this.dev.setRxfh(o);
  }

  setRxFlowHash(cls: keyof typeof L4HASH_BITS, fields: 'sd' | 'sdfn'): void {
    this.dev.setRxFlowHash(cls, fields);
  }

  setGro(on: boolean): void {
    this.dev.setGro(on);
    this.gro = on;
  }

  async setLro(on: boolean): Promise<void> {
    await this.dev.setLro(on);
    this.lro = on;
  }

  switches(): NicSwitches {
    const mask = this.dev.txPrep.l4Hash;
    const level = (c: keyof typeof L4HASH_BITS): 'sd' | 'sdfn' => ((mask & L4HASH_BITS[c]) !== 0 ? 'sdfn' : 'sd');
    // LRO is on only where the host offers RSC at all (the guest asks for it at attach).
    const rscOffered = this.dev.state.kind === 'attached' && this.dev.ethtool().features.lro;
    return { gro: this.gro, lro: this.lro && rscOffered, flowHash: { tcp4: level('tcp4'), tcp6: level('tcp6'), udp4: level('udp4'), udp6: level('udp6') } };
  }

  offloads(): NicOffloads {
    if (this.dev.state.kind !== 'attached') return { txCsumMask: 0, tso4: false, tso6: false, gsoMax: 0 };
    const f = this.dev.ethtool().features;
    return { txCsumMask: f.txCsumMask, tso4: f.tso4, tso6: f.tso6, gsoMax: f.gsoMaxSize };
  }

  flushTx(): void {
    this.dev.flush();
  }

  info(): NicInfo {
    const d = this.dev;
    const ring = d.ethtool().ringparam;
    const ndis = d.ndisVersion;
    return {
      name: this.nic.name,
      mac: this.nic.mac,
      nvspVersion: d.version,
      ndisVersion: ((ndis.major << 16) | ndis.minor) >>> 0,
      mtu: d.mtu,
      queues: d.queueCount,
      rxSections: ring.rxPending,
      txSections: ring.txPending,
      linkUp: d.link.up,
    };
  }

  ethtool(): EthtoolView {
    return this.dev.ethtool();
  }

  stats(): Record<string, number> {
    // The stack path's offload counters (checksum offloaded/software, LSO, VLAN popped) after the device's.
    return { ...this.dev.stats(), ...this.dev.txPrep.counters.snapshot() };
  }

  setRing(rxSections: number, txSections: number): Promise<void> {
    return this.dev.setRingParams({ rx: rxSections, tx: txSections });
  }

  setMtu(mtu: number): Promise<void> {
    return this.dev.setMtu(mtu);
  }

  setChannels(queues: number): Promise<void> {
    return this.dev.setChannels(queues);
  }

  vfEvent(vf: VfNetdev, ev: VfNetdevEvent): void {
    this.dev.failover.vfEvent(vf, ev);
  }

  vfState(): GuestVfState {
    const f = this.dev.failover;
    return { dataPath: f.path.kind, serial: f.vf?.serial ?? null, events: [...f.events] };
  }

  async close(): Promise<void> {
    await this.dev.remove();
  }
}

/** Finds the NIC's offer by its instance GUID, probes the device and opens it (packet filter on). */
export async function probeGuestNic(c: GuestNicContext, nic: NicConfig): Promise<GuestNicDriver> {
  const offer = [...c.bus.offers.values()].find((o) => o.ifInstance === nic.instanceGuid && o.subChannelIndex === 0);
  if (!offer) throw new ConfigError('BAD_CONFIG', `nic ${nic.name}: the host offered no NIC with instance ${nic.instanceGuid}`);
  const dev = await NetvscDevice.probe({
    bus: c.bus,
    memory: c.memory,
    allocator: c.allocator,
    offer,
    loop: c.loop,
    timeoutMs: c.timeoutMs,
    mtu: nic.mtu,
    rxSections: nic.rxSections,
    txSections: nic.txSections,
    channels: nic.queues,
    observer: c.observer ?? null,
  });
  await dev.open();
  return new NetvscNicDriver(nic, dev);
}
