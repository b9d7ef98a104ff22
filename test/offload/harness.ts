// Offload tests' bench: the real host (HypervHost, one profile) and real netvsc guests
// (NetvscDevice) on one loop (TestLab), plus an "external" switch port that injects frames as a
// wire would and records what reaches it. Every frame a guest receives is copied out with its
// metadata so tests can check bytes, queues, PPIs and checksums after the fact.
import { HypervHost, hostProfile, type HostProfile, type HostProfileName, type PortConfig, type PortFrameMeta, type SwitchPort, type SwitchPortHandle } from '../../src/host/index.js';
import { gatherRx, NetvscDevice, RX_F_FRAGS, type NetvscOptions } from '../../src/guest/index.js';
import { buildTcp4Frame, FrameSpec } from '../../src/packet/index.js';
import { NDIS_PACKET_TYPE_PROMISCUOUS } from '../../src/wire/index.js';
import { TestLab } from '../harness/scripted-guest.js';

export interface RxFrame {
  readonly bytes: Uint8Array;
  readonly queue: number;
  readonly flags: number;
  readonly csum: number;
  readonly vlan: number;
  readonly hash: number;
  readonly fragments: number;
}

export interface LabGuest {
  readonly dev: NetvscDevice;
  readonly mac: Uint8Array;
  readonly rx: RxFrame[];
}

/** Runs a promise to completion while pumping the one-thread loop. */
export async function pump<T>(lab: TestLab, p: Promise<T>, maxTurns = 20000): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown = null;
  p.then(
    (v) => ((done = true), (value = v)),
    (e: unknown) => ((done = true), (error = e ?? new Error('rejected'))),
  );
  for (let i = 0; i < maxTurns && !done; i++) {
    lab.loop.drain();
    await new Promise<void>((r) => setImmediate(r));
  }
  if (!done) throw new Error('pump: promise did not settle');
  if (error !== null) throw error;
  return value as T;
}

/** A switch port standing for the physical network: injects frames, records what it is sent. */
export class WirePort implements SwitchPort {
  readonly name = 'wire';
  readonly macNumber = 0xfe0000000001;
  readonly packetFilter = NDIS_PACKET_TYPE_PROMISCUOUS;
  readonly got: { bytes: Uint8Array; vlanTci: number; hasVlan: boolean; csumRx: number }[] = [];
  handle!: SwitchPortHandle;
  deliver(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean {
    this.got.push({ bytes: bytes.slice(off, off + len), vlanTci: meta.vlanTci, hasVlan: meta.hasVlan, csumRx: meta.csumRx });
    return true;
  }
}

export class OffloadLab {
  readonly hv: HypervHost;
  readonly lab: TestLab;
  readonly guests: LabGuest[] = [];

  constructor(profile: HostProfileName | HostProfile) {
    this.hv = new HypervHost({ profile: typeof profile === 'string' ? hostProfile(profile) : profile, ageingMs: 0 });
    this.lab = new TestLab(this.hv);
  }

  /** A VM with one NIC, probed and opened; frames it receives are recorded. */
  async guest(name: string, mac: string, o: Partial<NetvscOptions> & { port?: PortConfig } = {}): Promise<LabGuest> {
    const vm = this.lab.vm(name, 8192);
    this.hv.addNic(name, { mac, ...(o.port ? { port: o.port } : {}) });
    await pump(this.lab, vm.guest.requestOffers());
    const dev = await pump(this.lab, NetvscDevice.probe({ bus: vm.guest, memory: vm.memory, allocator: vm.allocator, loop: this.lab.loop, rxSections: 256, txSections: 64, ...o }));
    await pump(this.lab, dev.open());
    const g: LabGuest = { dev, mac: dev.mac.slice(), rx: [] };
    dev.onReceive = (u8, off, len, m) => {
      // A fragment list (setRxFragments(true), Contract B) is gathered into one run here.
      const bytes = (m.flags & RX_F_FRAGS) !== 0 ? new Uint8Array(len) : u8.slice(off, off + len);
      if ((m.flags & RX_F_FRAGS) !== 0) gatherRx(u8, off, len, m, bytes, 0);
      g.rx.push({ bytes, queue: m.queue, flags: m.flags, csum: m.csum, vlan: m.vlan, hash: m.hash, fragments: m.fragments });
    };
    this.guests.push(g);
    return g;
  }

  /**
   * The usual two VMs: a (00:15:5d:00:00:0a) and b (…:0b), b with GRO and host RSC (setLro) as
   * given, so the tests see frames as the host delivered them.
   */
  async pair(o: { gro: boolean; lro: boolean }): Promise<{ a: LabGuest; b: LabGuest }> {
    const a = await this.guest('a', '00:15:5d:00:00:0a');
    const b = await this.guest('b', '00:15:5d:00:00:0b');
    b.dev.setGro(o.gro);
    await pump(this.lab, b.dev.setLro(o.lro));
    return { a, b };
  }

  /**
   * Sends one IPv4 TCP frame of `payload` from `g` built at buf[at] (checksum offloaded, LSO at
   * `mss`; a 64 KB payload makes a super-frame), flushes and settles; returns the frame's length.
   */
  async sendTcp4(g: LabGuest, buf: Uint8Array, at: number, s: FrameSpec, payload: Uint8Array, mss = 1460): Promise<number> {
    const n = buildTcp4Frame(buf, at, s, payload, 0, payload.length);
    if (!g.dev.xmit(buf, at, n, { csum: true, mss })) throw new Error('sendTcp4: xmit refused');
    g.dev.flush();
    await this.settle();
    return n;
  }

  /** Adds the external port (with its VLAN configuration). */
  wire(config: PortConfig = {}): WirePort {
    const w = new WirePort();
    w.handle = this.hv.vswitch.addPort(w, config);
    return w;
  }

  async settle(rounds = 5): Promise<void> {
    for (let i = 0; i < rounds; i++) await this.lab.settle();
  }

  async close(): Promise<void> {
    for (const g of this.guests) await pump(this.lab, g.dev.remove());
  }
}

/**
 * The offload tests' flow: `src` to `dst`, 10.0.0.1 -> 10.0.0.2 and fd00::1 -> fd00::2, with the
 * ports and sequence number given (FrameSpec's zeros otherwise).
 */
export function testSpec(dst: ArrayLike<number>, src: ArrayLike<number>, o: { srcPort?: number; dstPort?: number; seq?: number } = {}): FrameSpec {
  const s = new FrameSpec();
  s.dstMac.set(dst);
  s.srcMac.set(src);
  s.src4 = 0x0a000001;
  s.dst4 = 0x0a000002;
  s.src6[0] = 0xfd;
  s.src6[15] = 1;
  s.dst6[0] = 0xfd;
  s.dst6[15] = 2;
  s.srcPort = o.srcPort ?? 0;
  s.dstPort = o.dstPort ?? 0;
  s.seq = o.seq ?? 0;
  return s;
}

export function macBytes(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((x) => parseInt(x, 16)));
}
