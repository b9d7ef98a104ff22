/**
 * One synthetic NIC of one VM as the host sees it: the NetVSP device offered on the VM's bus
 * (coordinator + queue workers), and its port on the virtual switch. Frames from the switch are
 * spread over the open queues by the guest's RSS settings (§6.4; TCP 4-tuple, UDP 2-tuple unless
 * the profile hashes UDP by ports, fragments and unhashable frames to queue 0).
 */
import { FlowKey, classifyFrame, rssHash, RssResult } from '../packet/index.js';
import { systemClock, type Clock } from '../core/index.js';
import { bytesToHex, NVSP_PROTOCOL_VERSION_4, RNDIS_STATUS_LINK_SPEED_CHANGE, RNDIS_STATUS_MEDIA_CONNECT, RNDIS_STATUS_MEDIA_DISCONNECT, RNDIS_STATUS_NETWORK_CHANGE } from '../wire/index.js';
import type { Channel, HostDevice, VmbusHost } from '../vmbus/index.js';
import type { HostProfile } from './profiles.js';
import { Coordinator } from './netvsp/coordinator.js';
import { NicState } from './netvsp/nic-state.js';
import { rscEnabled } from './netvsp/rsc.js';
import { formatMac, parseMac, type PortConfig, type PortFrameMeta, type SwitchPort } from './vswitch/port.js';
import type { SwitchPortHandle, VSwitch } from './vswitch/vswitch.js';
import { HostVf } from './vf/host-vf.js';

export interface NicOptions {
  /** "00:15:5d:00:00:01" */
  readonly mac: string;
  /** Reported by OID_GEN_FRIENDLY_NAME; the Hyper-V default is "Network Adapter". */
  readonly name?: string;
  readonly linkUp?: boolean;
  /** VMBus instance GUID; derived from the MAC when absent. */
  readonly instanceGuid?: string;
  /** Switch port configuration (VLAN, issue 5). */
  readonly port?: PortConfig;
}

export interface NicStats {
  readonly name: string;
  readonly mac: string;
  readonly nvsp: string;
  readonly nvspVersion: number;
  readonly ndisVersion: string;
  readonly rndis: string;
  readonly linkUp: boolean;
  readonly packetFilter: number;
  readonly mtu: number;
  readonly recvBuffer: { readonly sectionSize: number; readonly sections: number; readonly inUse: number; readonly packetsInFlight: number } | null;
  readonly sendBuffer: { readonly sectionSize: number; readonly sections: number } | null;
  readonly queues: readonly Record<string, number>[];
  /** The queues that have closed since the NIC was made (re-attaches), their counters summed. */
  readonly closedQueues: Record<string, number>;
  readonly counters: Record<string, number>;
  readonly offload: Record<string, number>;
  readonly rss: { readonly enabled: boolean; readonly hashInfo: number; readonly tableSize: number };
  readonly vf: ReturnType<HostVf['stats']>;
}

export class HostNic implements SwitchPort {
  readonly state: NicState;
  readonly coordinator: Coordinator;
  readonly device: HostDevice;
  readonly port: SwitchPortHandle;
  /** The NIC's SR-IOV VF (issue 6, docs/vf.md): add(), remove(), setLink(). */
  readonly vf: HostVf;
  private readonly flow = new FlowKey();
  private readonly hash = new RssResult();

  constructor(
    readonly vmId: string,
    profile: HostProfile,
    bus: VmbusHost,
    readonly vswitch: VSwitch,
    o: NicOptions,
    readonly clock: Clock = systemClock,
  ) {
    const mac = parseMac(o.mac);
    this.state = new NicState(profile, mac, o.name ?? 'Network Adapter', o.linkUp ?? true);
    this.coordinator = new Coordinator({
      state: this.state,
      bus,
      device: () => this.device,
      forward: (b, off, len, meta) => {
        // Frames the guest queued on its VF before it switched back go first (no reordering).
        if (this.vf.hardware !== null) this.vf.drainTx();
        this.port.forward(b, off, len, meta);
      },
      peerTakesSuperFrames: (b, off) => this.port.peerTakesSuperFrames(b, off),
      switchDataPath: (toVf) => this.vf.guestSwitch(toVf),
    });
    this.vf = new HostVf(this);
    // A VM's NIC: Hyper-V's default MacAddressSpoofing Off unless the caller says otherwise.
    this.port = vswitch.addPort(this, { macAddressSpoofing: false, ...o.port });
    this.device = bus.offerDevice({
      instanceGuid: o.instanceGuid ?? `f8615163-df3e-46c5-913f-${bytesToHex(mac)}`,
      maxSubChannels: Math.max(0, profile.maxQueues - 1),
      maxPktSize: 4096,
      onOpen: (ch: Channel) => {
        this.coordinator.channelOpened(ch);
      },
      onClose: (ch: Channel) => this.coordinator.channelClosed(ch),
    });
  }

  get name(): string {
    return `${this.vmId}/${this.state.name}`;
  }

  get macNumber(): number {
    return this.state.macNumber;
  }

  get packetFilter(): number {
    return this.state.packetFilter;
  }

  /** SwitchPort: a guest with RSC on receives LSO super-frames whole, as RSC fragments (§5.6). */
  get takesSuperFrames(): boolean {
    return rscEnabled(this.state);
  }

  /** SwitchPort: one frame for this NIC's guest. */
  deliver(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean {
    // Media disconnected: the port carries nothing (the switch counts it as tx_dropped).
    if (!this.state.linkUp) return false;
    const c = this.coordinator;
    let qi = 0;
    const rss = this.state.rss;
    meta.hashValid = false;
    if (rss.enabled && rss.tables !== null && rss.table.length > 0) {
      if (classifyFrame(bytes, off, len, this.flow) && rssHash(this.flow, rss.tables, rss.hashInfo, this.state.profile.udpHash4Tuple, this.hash)) {
        meta.hash = this.hash.hash;
        meta.hashValid = true;
        qi = rss.table[this.hash.hash % rss.table.length]!;
      }
    }
    const q = c.queues[qi] ?? c.queues[0];
    if (!q || !c.ready) return false;
    if (meta.lso !== 0) {
      // A super-frame the sender's host finalized for us because we take them whole (RSC, §5.6):
      // it goes out as fragments after whatever the queue holds of the flow.
      if (!rscEnabled(this.state)) return false;
      q.rx.rsc.flush();
      return q.rx.deliverFragments(bytes, off, len, meta, meta.lsoSegments);
    }
    if (rscEnabled(this.state)) {
      // §5.6: the queue may coalesce it with the flow's next segments in this burst.
      q.rx.rsc.offer(bytes, off, len, meta);
      return true;
    }
    return q.rx.deliverFrame(bytes, off, len, meta);
  }

  /** Flips the link: MEDIA_CONNECT / MEDIA_DISCONNECT indication (§5.7) to an initialized guest. */
  setLink(up: boolean): void {
    if (this.state.linkUp === up) return;
    this.state.linkUp = up;
    this.coordinator.indicate(up ? RNDIS_STATUS_MEDIA_CONNECT : RNDIS_STATUS_MEDIA_DISCONNECT);
  }

  /** NETWORK_CHANGE (§5.7): the guest emulates a down/up, e.g. to renew DHCP. */
  networkChange(): void {
    this.coordinator.indicate(RNDIS_STATUS_NETWORK_CHANGE);
  }

  /** LINK_SPEED_CHANGE with the new speed in 100 bit/s units. */
  setLinkSpeed(speed100bps: number): void {
    this.state.linkSpeed100bps = speed100bps;
    this.coordinator.indicate(RNDIS_STATUS_LINK_SPEED_CHANGE, speed100bps);
  }

  /** §3.5/§6.8: the guest may be offered a VF (NVSP ≥ 4, sriov capability bit, buffers in place). */
  sriovNegotiated(): boolean {
    const s = this.state;
    return s.nvspVersion >= NVSP_PROTOCOL_VERSION_4 && (s.ndisCapability & 4n) !== 0n && this.coordinator.ready;
  }

  /** An in-band NVSP message on the primary channel (VF association); false if it cannot go now. */
  sendInband(bytes: Uint8Array, len: number): boolean {
    const q = this.coordinator.queues[0];
    if (!q || q.ch.state !== 'open' || !q.ch.sendInband(0, 0, bytes, 0, len)) return false;
    q.ch.flush();
    return true;
  }

  /** Takes the NIC off the bus and the switch (VM hot-remove). */
  remove(): void {
    this.device.rescind();
    this.port.remove();
  }

  poll(): number {
    return this.vf.poll() + this.coordinator.poll();
  }

  stats(): NicStats {
    const c = this.coordinator;
    const s = this.state;
    const recv = c.recv;
    return {
      name: this.name,
      mac: formatMac(s.mac),
      nvsp: c.nvspState.kind,
      nvspVersion: s.nvspVersion,
      ndisVersion: `${s.ndisMajor}.${s.ndisMinor}`,
      rndis: c.rndisState.kind,
      linkUp: s.linkUp,
      packetFilter: s.packetFilter,
      mtu: s.ndisMtu - 14,
      recvBuffer: recv ? { sectionSize: recv.sectionSize, sections: recv.sectionCount, inUse: recv.sectionsInUse, packetsInFlight: recv.packetsInFlight } : null,
      sendBuffer: c.send ? { sectionSize: c.send.sectionSize, sections: c.send.sectionCount } : null,
      queues: c.openQueues().map((q) => ({ ...q.counters.snapshot(), tx_max_rndis_per_packet: q.tx.maxPerPacket })),
      closedQueues: { ...c.closedQueues },
      counters: c.counters.snapshot(),
      offload: { ...s.offload.raw },
      rss: { enabled: s.rss.enabled, hashInfo: s.rss.hashInfo, tableSize: s.rss.table.length },
      vf: this.vf.stats(),
    };
  }
}
