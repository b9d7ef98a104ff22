/**
 * The main thread's handles on a running VM and its NICs: control calls go to the VM's and the
 * host's runtimes; frames go through the NIC's app port (SharedArrayBuffer rings, never
 * postMessage); traffic apps run inside the VM.
 */
import type { FramePort } from '../core/index.js';
import type { VfLoss } from '../host/index.js';
import type { LabHostNicStats } from './host-runtime.js';
import type { EthtoolView } from '../guest/index.js';
import type { NicInfo, NicSwitches } from './nic-driver.js';
import type { Spawned } from './spawn.js';
import type { Lab } from './topology.js';
import type { GeneratorReport } from './traffic/generator.js';
import type { SinkReport } from './traffic/sink.js';
import type { GeneratorOptions, SinkSpec } from './traffic/spec.js';
import { ConfigError } from '../core/index.js';
import type { GuestNicStats, VmRuntime } from './vm-runtime.js';

export interface LabNicStats {
  /** The host's NetVSP view of this NIC (state, buffers, per-queue and NIC counters). */
  readonly host: LabHostNicStats;
  /** The guest driver's view: `ethtool -S` counters, the lab plumbing's counters, negotiated info. */
  readonly guest: GuestNicStats;
}

/** A traffic app running inside a VM; report() asks the VM for its counters. */
export interface TrafficApp<R> {
  readonly id: number;
  report(): Promise<R>;
  /** Stops the app; resolves to its final counters (nothing changes after). */
  stop(): Promise<R>;
}

export class LabVm {
  readonly nics: readonly LabNic[];
  private closed = false;

  constructor(
    readonly lab: Lab,
    readonly name: string,
    /** @internal */ readonly runtime: Spawned<VmRuntime>,
    infos: readonly NicInfo[],
    ports: readonly FramePort[],
  ) {
    this.nics = infos.map((info, i) => new LabNic(this, info, ports[i]!));
  }

  nic(name: string): LabNic {
    const n = this.nics.find((x) => x.name === name);
    if (!n) throw new ConfigError('BAD_CONFIG', `nic: VM ${this.name} has no NIC '${name}'`);
    return n;
  }

  /** Removes the VM's devices, ends its worker and takes its NICs off the host and the switch. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runtime.client.call('close', []).catch(() => {});
    await this.runtime.stop();
    await this.lab.hostClient.call('removeVm', [this.name]).catch(() => {});
    this.lab.forget(this.name);
  }

  /**
   * Fault injection (issue 9): the VM dies — its worker is terminated with no close call and no
   * device teardown. The host notices by itself (the VM's MessagePort closes) and reclaims its NICs;
   * in single-thread mode, where no port closes, the lab tells the host instead.
   */
  async kill(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runtime.stop();
    if (this.lab.mode === 'single-thread') await this.lab.hostClient.call('vmLost', [this.name]).catch(() => null);
    this.lab.forget(this.name);
  }
}

export class LabNic {
  /** What the NIC negotiated at bring-up, refreshed by each reconfiguration. */
  info: NicInfo;

  constructor(
    readonly vm: LabVm,
    info: NicInfo,
    /** The app port: tryWrite() = this NIC transmits the frame; poll() = frames it received. */
    readonly port: FramePort,
  ) {
    this.info = info;
  }

  get name(): string {
    return this.info.name;
  }

  get mac(): string {
    return this.info.mac;
  }

  async stats(): Promise<LabNicStats> {
    const [host, guest] = await Promise.all([
      this.vm.lab.hostClient.call('nicStats', [this.vm.name, this.name]),
      this.vm.runtime.client.call('stats', [this.name]),
    ]);
    return { host, guest };
  }

  /** ethtool -G rx/tx: receive and send sections (the driver detaches and re-attaches). */
  async setRing(p: { readonly rx?: number; readonly tx?: number }): Promise<NicInfo> {
    this.info = await this.vm.runtime.client.call('setRing', [this.name, p.rx ?? this.info.rxSections, p.tx ?? this.info.txSections]);
    return this.info;
  }

  /** ethtool -L combined. */
  async setChannels(queues: number): Promise<NicInfo> {
    this.info = await this.vm.runtime.client.call('setChannels', [this.name, queues]);
    return this.info;
  }

  /** ip link set mtu. */
  async setMtu(mtu: number): Promise<NicInfo> {
    this.info = await this.vm.runtime.client.call('setMtu', [this.name, mtu]);
    return this.info;
  }

  /** The host flips the link (media connect / disconnect indication). */
  async setLink(up: boolean): Promise<void> {
    await this.vm.lab.hostClient.call('setLink', [this.vm.name, this.name, up]);
  }

  /** ethtool -X: a new Toeplitz key (40 bytes) and/or indirection table. */
  setRxfh(o: { readonly key?: readonly number[]; readonly indir?: readonly number[] }): Promise<NicSwitches> {
    return this.vm.runtime.client.call('setRxfh', [this.name, o]);
  }

  /** ethtool -N rx-flow-hash: TX hash of one class by addresses (sd) or with ports (sdfn). */
  setRxFlowHash(cls: 'tcp4' | 'tcp6' | 'udp4' | 'udp6', fields: 'sd' | 'sdfn'): Promise<NicSwitches> {
    return this.vm.runtime.client.call('setRxFlowHash', [this.name, cls, fields]);
  }

  /** ethtool -K gro / lro (the features the driver can switch). */
  setFeatures(f: { readonly gro?: boolean; readonly lro?: boolean }): Promise<NicSwitches> {
    return this.vm.runtime.client.call('setFeatures', [this.name, f]);
  }

  /** GRO, LRO and the rx-flow-hash levels as the driver holds them now. */
  switches(): Promise<NicSwitches> {
    return this.vm.runtime.client.call('switches', [this.name]);
  }

  /**
   * The host assigns a new SR-IOV VF (next serial, this NIC's MAC) to the NIC. Resolves once it is
   * assigned; the host shows it after the lab's vfShowDelayMs and the guest then switches its data
   * path to it (watch `stats().guest.vf.dataPath`). Returns the VF's serial.
   */
  async addVf(): Promise<number> {
    const spec = this.vm.lab.newVf(this.mac);
    await this.vm.runtime.client.call('plugVf', [spec]);
    try {
      await this.vm.lab.hostClient.call('addVf', [this.vm.name, this.name, spec, this.vm.lab.vfOptions]);
    } catch (e) {
      await this.vm.runtime.client.call('unplugVf', [spec.serial]).catch(() => {});
      throw e;
    }
    return spec.serial;
  }

  /**
   * The host takes the VF away. Planned (default): the data path goes back to synthetic first, then
   * an eject request; the VF leaves when the guest acks (resolves before that: watch the host's VF
   * state). Surprise: gone now; resolves to what was in flight on it (lost, counted).
   */
  removeVf(o: { readonly surprise?: boolean } = {}): Promise<VfLoss | null> {
    return this.vm.lab.hostClient.call('removeVf', [this.vm.name, this.name, o.surprise ?? false]);
  }

  /** The VF port's carrier; down moves the data path back to synthetic at once (host-initiated). */
  async setVfLink(up: boolean): Promise<void> {
    await this.vm.lab.hostClient.call('setVfLink', [this.vm.name, this.name, up]);
  }

  /** The driver's ethtool view (rings, channels, offloads, RSS table and key). */
  ethtool(): Promise<EthtoolView> {
    return this.vm.runtime.client.call('ethtool', [this.name]);
  }

  /** Re-reads the negotiated info from the driver (e.g. link state after setLink). */
  async refresh(): Promise<NicInfo> {
    this.info = await this.vm.runtime.client.call('info', [this.name]);
    return this.info;
  }

  /** Starts a generator in the VM sending from this NIC; its frames are built and sent there. */
  async startGenerator(o: GeneratorOptions): Promise<TrafficApp<GeneratorReport>> {
    const client = this.vm.runtime.client;
    const id = await client.call('startGenerator', [this.name, o]);
    return { id, report: () => client.call('generatorReport', [id]), stop: () => client.call('stopGenerator', [id]) };
  }

  /** Starts a sink in the VM checking one flow received on this NIC. */
  async startSink(o: SinkSpec): Promise<TrafficApp<SinkReport>> {
    const client = this.vm.runtime.client;
    const id = await client.call('startSink', [this.name, o]);
    return { id, report: () => client.call('sinkReport', [id]), stop: () => client.call('stopSink', [id]) };
  }
}
