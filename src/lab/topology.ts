/**
 * The lab: the one place that assembles a host, VMs and their backends (STYLE §2). The main
 * thread creates each VM's guest memory (SharedArrayBuffers) and a MessageChannel per VM for its
 * VMBus message link; the host runs in ONE worker (every NIC, the switch, one EventLoop) and each
 * VM in its own worker. In single-thread mode the same runtimes run here, pumped in turn.
 * docs/lab.md has the diagram and the API.
 */
import { MessageChannel } from 'node:worker_threads';
import { ConfigError, newFrameMeta, ResourceError, type FramePort } from '../core/index.js';
import { hostProfile, type HostProfile, type HostStats } from '../host/index.js';
import { inMemoryLinkPair, newHostDoorbellSab, newVmShared } from '../vmbus/index.js';
import { appEnd, newAppPortShared } from './app-port.js';
import { checkMode, checkProfile, checkVfMs, checkVmName, nicConfig, vmMemoryPages, type LabMode, type LabOptions, type VmOptions } from './config.js';
import type { HostRuntime } from './host-runtime.js';
import { LabVm } from './lab-vm.js';
import { withCapture } from './capture/index.js';
import { Pump } from './pump.js';
import { spawnHostHere, spawnHostWorker, spawnVmHere, spawnVmWorker, type Spawned } from './spawn.js';
import type { VmRuntime, VmSetup } from './vm-runtime.js';
import { newSharedVf, type SharedVfSpec } from './vf/shared-vf.js';
import { HOST_VF_DEFAULTS, type HostVfOptions } from '../host/index.js';

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** A VM's NVSP/RNDIS reply timeout: below the call timeout, so a silent host fails the call with its own reason. */
const REPLY_TIMEOUT_MS = 10_000;

export class Lab {
  readonly profile: HostProfile;
  private readonly vms = new Map<string, LabVm>();
  private vmCount = 0;
  private closed = false;
  /** VF serials are unique in the lab (the PCI slot name the guest matches on, §6.8). */
  private vfSerial = 0;
  /** @internal the host's VF timing (show delay, eject timeout), for LabNic.addVf. */
  vfOptions: HostVfOptions = HOST_VF_DEFAULTS;

  private constructor(
    readonly mode: LabMode,
    private readonly host: Spawned<HostRuntime>,
    private readonly hostDoorbell: SharedArrayBuffer,
    private readonly pump: Pump | null,
    private readonly callTimeoutMs: number,
    profile: HostProfile,
  ) {
    this.profile = profile;
  }

  /** Starts the host (a worker, or here in single-thread mode) with a profile. */
  static async create(o: LabOptions = {}): Promise<Lab> {
    if (typeof o !== 'object' || o === null) throw new ConfigError('BAD_CONFIG', 'options: must be an object');
    const profileName = checkProfile(o.profile);
    const mode = checkMode(o.mode);
    const timeout = o.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout < 100) throw new ConfigError('BAD_CONFIG', `callTimeoutMs: ${String(timeout)} is not an integer ≥ 100`);
    const vfOptions: HostVfOptions = { showDelayMs: checkVfMs('vfShowDelayMs', o.vfShowDelayMs, HOST_VF_DEFAULTS.showDelayMs), ejectTimeoutMs: checkVfMs('vfEjectTimeoutMs', o.vfEjectTimeoutMs, HOST_VF_DEFAULTS.ejectTimeoutMs) };
    const hostDoorbell = newHostDoorbellSab();
    const data = { hostDoorbell, profile: profileName };
    const pump = mode === 'single-thread' ? new Pump(timeout) : null;
    const host = pump ? spawnHostHere(data, pump) : spawnHostWorker(data, timeout);
    const lab = new Lab(mode, host, hostDoorbell, pump, timeout, hostProfile(profileName));
    lab.vfOptions = vfOptions;
    return lab;
  }

  /** @internal a new emulated VF for a NIC: the next serial, the NIC's MAC, fresh rings. */
  newVf(mac: string): SharedVfSpec {
    // 4 MiB per ring (~10 000 frames of 400 B): a VM worker descheduled for a few hundred ms on a
    // busy box must not overflow its VF where its VMBus receive buffer (9709 sections) would not.
    return newSharedVf({ serial: ++this.vfSerial, mac, maxQueues: 2, ringBytes: 1 << 22 });
  }

  /** Creates a VM with its NICs, offers them on its bus, attaches them to the switch and brings them up. */
  async addVm(o: VmOptions): Promise<LabVm> {
    this.open();
    if (typeof o !== 'object' || o === null) throw new ConfigError('BAD_CONFIG', 'vm: must be an object');
    const name = checkVmName(o.name, new Set(this.vms.keys()));
    const index = ++this.vmCount;
    const nicOpts = o.nics ?? [{}];
    if (!Array.isArray(nicOpts) || nicOpts.length === 0 || nicOpts.length > 8) throw new ConfigError('BAD_CONFIG', 'nics: give 1 to 8 NICs');
    const nics = nicOpts.map((n, i) => withCapture(nicConfig(n, index, i, `nics[${i}]`), n, name, `nics[${i}].capture`));
    const names = new Set(nics.map((n) => n.name));
    if (names.size !== nics.length) throw new ConfigError('BAD_CONFIG', 'nics: NIC names must be unique within the VM');
    const shared = newVmShared(vmMemoryPages(nics, o.memoryMiB), this.hostDoorbell);
    const appPorts = nics.map((n) => newAppPortShared(`${name}/${n.name}`));
    const bootVfs = nics.map((n) => (n.vf === 'boot' ? this.newVf(n.mac) : null));
    const setup: VmSetup = { name, shared, nics, appPorts, replyTimeoutMs: Math.min(REPLY_TIMEOUT_MS, this.callTimeoutMs), bootVfs: bootVfs.filter((v) => v !== null) };
    let vm: Spawned<VmRuntime> | null = null;
    let onHost = false;
    try {
      if (this.pump) {
        const [hostEnd, vmEnd] = inMemoryLinkPair();
        await this.host.client.call('addVm', [name, shared, hostEnd]);
        onHost = true;
        for (const n of nics) await this.host.client.call('addNic', [name, n]);
        await this.addBootVfs(name, nics, bootVfs);
        vm = spawnVmHere(setup, vmEnd, this.pump);
      } else {
        const { port1, port2 } = new MessageChannel();
        await this.host.client.call('addVm', [name, shared, port1], [port1]);
        onHost = true;
        for (const n of nics) await this.host.client.call('addNic', [name, n]);
        await this.addBootVfs(name, nics, bootVfs);
        vm = spawnVmWorker({ setup, link: port2 }, this.callTimeoutMs);
      }
      const infos = await vm.client.call('bringUp', []);
      const labVm = new LabVm(this, name, vm, infos, appPorts.map((p) => appEnd(p, shared.signals)));
      this.vms.set(name, labVm);
      return labVm;
    } catch (e) {
      await vm?.client.call('close', []).catch(() => {});
      await vm?.stop();
      if (onHost) await this.host.client.call('removeVm', [name]).catch(() => {});
      throw e;
    }
  }

  /** NICs with `vf: 'boot'` get their VF before the VM starts; the host shows it once the guest negotiated SR-IOV. */
  private async addBootVfs(vm: string, nics: readonly { readonly name: string }[], vfs: readonly (SharedVfSpec | null)[]): Promise<void> {
    for (let i = 0; i < nics.length; i++) {
      const spec = vfs[i];
      if (spec) await this.host.client.call('addVf', [vm, nics[i]!.name, spec, this.vfOptions]);
    }
  }

  vm(name: string): LabVm {
    const v = this.vms.get(name);
    if (!v) throw new ConfigError('BAD_CONFIG', `vm: no VM '${name}' (have: ${[...this.vms.keys()].join(', ')})`);
    return v;
  }

  /** @internal the host's control calls, for LabVm / LabNic. */
  get hostClient(): Spawned<HostRuntime>['client'] {
    return this.host.client;
  }

  /** Writes every buffered capture record (switch ports, guest pcaps, traces) to its file now. */
  async flushCaptures(): Promise<void> {
    await this.host.client.call('flushCaptures', []);
    for (const vm of this.vms.values()) await vm.runtime.client.call('flushCaptures', []);
  }

  /** The host's view: profile, every NIC's NetVSP state and counters, switch ports. */
  hostStats(): Promise<HostStats> {
    return this.host.client.call('stats', []);
  }

  /**
   * Lets traffic move once: in single-thread mode one pump round over every loop; in worker mode
   * one macrotask (the workers run on their own).
   */
  async tick(): Promise<void> {
    this.pump?.round();
    await new Promise<void>((r) => setImmediate(r));
  }

  /**
   * Waits until `check()` holds, ticking in between; fails with a TIMEOUT naming `what` after
   * timeoutMs (default: the call timeout), never hangs.
   */
  async waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = this.callTimeoutMs): Promise<void> {
    const start = performance.now();
    for (;;) {
      if (await check()) return;
      if (performance.now() - start > timeoutMs) throw new ResourceError('TIMEOUT', `lab: gave up waiting for ${what} after ${timeoutMs} ms`);
      await this.tick();
      if (!this.pump) await new Promise<void>((r) => setTimeout(r, 1));
    }
  }

  /** Writes frames into an app port, waiting for room when the ring is full (never drops). */
  async writeFrames(port: FramePort, frames: readonly Uint8Array[]): Promise<void> {
    const meta = newFrameMeta();
    for (const f of frames) {
      if (port.tryWrite(f, 0, f.length, meta)) continue;
      await this.waitFor('room in the app port', () => port.tryWrite(f, 0, f.length, meta));
    }
  }

  /** @internal LabVm.close() calls this. */
  forget(name: string): void {
    this.vms.delete(name);
  }

  /** Closes every VM, then the host; terminates every worker even when a close call fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const vm of [...this.vms.values()]) await vm.close();
    await this.host.client.call('close', []).catch(() => {});
    await this.host.stop();
  }

  private open(): void {
    if (this.closed) throw new ConfigError('BAD_CONFIG', 'lab: already closed');
  }
}
