/**
 * A single-thread VF lab (issue 6): the emulated Hyper-V host and any number of VMs on ONE
 * EventLoop, each VM with a real NetvscDevice over VMBus, and emulated VFs (shared-vf.ts) whose
 * guest ends are polled in the VM and whose host ends are driven by the NIC's HostVf. Time is a
 * ManualClock advanced one millisecond per tick, so the show delay and eject timeouts are exact
 * and nothing sleeps. The matrix test and bench/vf.bench.ts run on it.
 */
import { ManualClock, ResourceError } from '../../core/index.js';
import { formatMac, HypervHost, type HostNic, type PortConfig } from '../../host/index.js';
import { NetvscDevice, type VfNetdevEvent } from '../../guest/index.js';
import { Doorbell, EventLoop, GuestMemory, inMemoryLinkPair, newHostDoorbellSab, PageAllocator, SIGNAL_SAB_BYTES, VmbusGuest, VmbusHost } from '../../vmbus/index.js';
import { VfGuestEnd } from './guest-end.js';
import { VfHostEnd } from './host-end.js';
import { newSharedVf, type SharedVfOptions } from './shared-vf.js';
import { AbandonedRejections, pumpUntilSettled } from '../pump.js';

export interface VfTestbedOptions {
  /** Host VF show delay (Hyper-V: 1000 ms); default 5 ms of the testbed's clock. */
  readonly showDelayMs?: number;
  readonly ejectTimeoutMs?: number;
  /** VF queues; default 2. */
  readonly vfQueues?: number;
}

export interface TestbedVm {
  readonly name: string;
  readonly nic: HostNic;
  readonly dev: NetvscDevice;
  readonly bus: VmbusGuest;
  readonly mac: Uint8Array;
  /** VF devices this VM can see (their guest ends), in plug order. */
  readonly vfs: VfGuestEnd[];
  /** The VM's receive consumer. */
  onFrame: (u8: Uint8Array, off: number, len: number) => void;
}

/** What VF plugging needs of a VM (available before its driver has probed). */
type VmParts = Pick<TestbedVm, 'nic' | 'bus' | 'mac' | 'vfs'>;

const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

export class VfTestbed {
  readonly clock = new ManualClock();
  readonly host: HypervHost;
  readonly loop: EventLoop;
  readonly vms: TestbedVm[] = [];
  /** Promises until() gave up on (TIMEOUT) that rejected later. */
  readonly abandoned = new AbandonedRejections();
  private readonly doorbell: Doorbell;
  private vmSeq = 0;

  constructor(readonly o: VfTestbedOptions = {}) {
    this.host = new HypervHost({ profile: 'azure', clock: this.clock, ageingMs: 0 });
    this.doorbell = Doorbell.host(newHostDoorbellSab());
    this.loop = new EventLoop(this.doorbell);
    this.loop.add(this.host);
  }

  /**
   * Boots a VM: its bus, one synthetic NIC (with a VF assigned first when `vfSerial` is given; on
   * the switch with `port`'s VLANs), the driver.
   */
  async bootVm(o: { readonly vfSerial?: number; readonly port?: PortConfig } = {}): Promise<TestbedVm> {
    const n = ++this.vmSeq;
    const name = `vm${n}`;
    const pages = 6144;
    const memory = GuestMemory.create(pages);
    const allocator = new PageAllocator(pages);
    const signals = new SharedArrayBuffer(SIGNAL_SAB_BYTES);
    const [hl, gl] = inMemoryLinkPair();
    this.host.attachVm(name, new VmbusHost({ memory: memory.sab, signals, link: hl, loop: this.loop }));
    const bus = new VmbusGuest({ memory, allocator, signals, hostDoorbell: this.doorbell, link: gl, loop: this.loop });
    const mac = Uint8Array.of(0x00, 0x15, 0x5d, 0x77, n >> 8, n & 0xff);
    const nic = this.host.addNic(name, { mac: formatMac(mac), ...(o.port ? { port: o.port } : {}) });
    const vfs: VfGuestEnd[] = [];
    if (o.vfSerial !== undefined) this.addVf({ nic, bus, mac, vfs }, o.vfSerial);
    await this.until(bus.requestOffers(), 'offers');
    const dev = await this.until(NetvscDevice.probe({ bus, memory, allocator, loop: this.loop, clock: this.clock, rxSections: 1024, txSections: 128, timeoutMs: 10_000 }), 'probe');
    const vm: TestbedVm = { name, nic, dev, bus, mac, vfs, onFrame: () => {} };
    dev.onReceive = (u8, off, len) => vm.onFrame(u8, off, len);
    await this.until(dev.open(), 'open');
    // §6.8: VFs already present are scanned at the end of device initialisation.
    for (const vf of vm.vfs) if (vf.running) dev.failover.vfEvent(vf, 'register');
    this.vms.push(vm);
    return vm;
  }

  /** Takes a VM's NIC away (its VF first) and forgets the VM. */
  async shutdownVm(vm: TestbedVm): Promise<void> {
    if (vm.nic.vf.state.kind !== 'none') vm.nic.vf.remove(false);
    await this.until(vm.dev.remove(), 'remove');
    this.host.removeNic(vm.nic);
    for (const vf of vm.vfs) this.loop.remove(vf);
    vm.vfs.length = 0;
    const i = this.vms.indexOf(vm);
    if (i >= 0) this.vms.splice(i, 1);
  }

  /** Assigns a new VF (serial, the NIC's MAC) to the VM's NIC; the host shows it after its delay. */
  addVf(vm: VmParts, serial: number, o: Partial<SharedVfOptions> = {}): VfGuestEnd {
    const spec = newSharedVf({ serial, mac: formatMac(vm.mac), maxQueues: this.o.vfQueues ?? 2, ...o });
    const guest = this.plugInVm(vm, spec.serial, spec);
    vm.nic.vf.add(new VfHostEnd(spec), { showDelayMs: this.o.showDelayMs ?? 5, ...(this.o.ejectTimeoutMs !== undefined ? { ejectTimeoutMs: this.o.ejectTimeoutMs } : {}) });
    return guest;
  }

  /** Hot-adds a VF into the VM that belongs to no NIC's association (its serial matches nothing). */
  plugStrayVf(vm: VmParts, serial: number): { readonly guest: VfGuestEnd; readonly host: VfHostEnd } {
    const spec = newSharedVf({ serial, mac: formatMac(vm.mac), maxQueues: 1, ringBytes: 4096 });
    const guest = this.plugInVm(vm, serial, spec);
    const host = new VfHostEnd(spec);
    host.plug();
    return { guest, host };
  }

  /** One turn: every pollable, pending promise callbacks, then one millisecond of clock. */
  async tick(): Promise<void> {
    this.loop.drain(64);
    await yieldTurn();
    this.clock.advance(1);
  }

  /** Ticks (running `each` first every time) until check() holds; TIMEOUT after maxTicks. */
  async waitFor(what: string, check: () => boolean, each: () => void = () => {}, maxTicks = 20_000): Promise<number> {
    for (let t = 0; t < maxTicks; t++) {
      if (check()) return t;
      each();
      await this.tick();
    }
    throw new ResourceError('TIMEOUT', `VF testbed: ${what} did not happen in ${maxTicks} ticks`);
  }

  /** Pumps until the promise settles; TIMEOUT after 200 000 turns (a later rejection goes to `abandoned`). */
  until<T>(p: Promise<T>, what: string): Promise<T> {
    return pumpUntilSettled(
      p,
      async (t) => {
        this.loop.drain(64);
        await yieldTurn();
        if (t % 16 === 15) this.clock.advance(1);
      },
      (t) => t > 200_000,
      () => new ResourceError('TIMEOUT', `VF testbed: ${what} did not finish`),
      this.abandoned,
    );
  }

  private plugInVm(vm: VmParts, serial: number, spec: ReturnType<typeof newSharedVf>): VfGuestEnd {
    const notify = (vf: VfGuestEnd, ev: VfNetdevEvent): void => {
      // The VM's netdev notifier chain: every netvsc device hears every VF (§6.8 matching).
      for (const v of this.vms) if (v.bus === vm.bus) v.dev.failover.vfEvent(vf, ev);
      if (ev === 'unregister') this.loop.remove(vf);
    };
    const guest = new VfGuestEnd(spec, `enP${serial}s1`, notify);
    for (const old of vm.vfs.filter((v) => !v.present)) this.loop.remove(old);
    vm.vfs.splice(0, vm.vfs.length, ...vm.vfs.filter((v) => v.present), guest);
    this.loop.add(guest);
    return guest;
  }
}
