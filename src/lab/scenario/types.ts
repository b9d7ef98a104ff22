/**
 * A validated, normalised scenario: every default filled, every cross-reference checked. The lab
 * builds a topology from `host` and `vms`, runs `flows`, applies `events` at their times and
 * checks each flow's `expect`. docs/scenarios.md documents each field.
 */
import type { HostProfile, HostProfileName } from '../../host/profiles.js';
import type { FeatureName } from './features.js';
import type { NicChange } from './nic-change.js';

/** Host profile fields a scenario may override (passed to `hostProfile(name, overrides)`). */
export type HostOverrides = Partial<Pick<HostProfile, 'udpHash4Tuple' | 'maxQueues' | 'rsc' | 'sriov'>>;

export interface HostSpec {
  readonly profile: HostProfileName;
  readonly overrides: HostOverrides;
  /** Delay between a VF add and the VF appearing to the guest (1000 ms on Hyper-V). */
  readonly vfAddDelayMs: number;
}

/** The virtual switch port's VLAN mode for a NIC. */
export type VlanPort =
  | { readonly mode: 'untagged' }
  /** The switch tags the NIC's traffic with `id` and delivers only that VLAN, untagged. */
  | { readonly mode: 'access'; readonly id: number }
  /** The guest sends and receives 802.1Q-tagged frames of the allowed VLANs. */
  | { readonly mode: 'trunk'; readonly allowed: readonly number[] };

export interface NicSpec {
  /** Unique across the scenario; flows and events refer to NICs by this name. */
  readonly name: string;
  /** The VM this NIC belongs to. */
  readonly vm: string;
  /** Lower-case `xx:xx:xx:xx:xx:xx`; defaults to 00:15:5d (Hyper-V's OUI) + VM and NIC index. */
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** Channels the guest asks for (the host may grant fewer). */
  readonly queues: number;
  readonly rxSections: number;
  readonly txSections: number;
  readonly mtu: number;
  readonly vlan: VlanPort;
  /** 'boot': a VF is present when the VM starts; 'none': only a vf-add event brings one. */
  readonly vf: 'boot' | 'none';
  /** Features set at start; the ones not named keep the driver's defaults. */
  readonly features: Readonly<Partial<Record<FeatureName, boolean>>>;
  /** pcaps per layer and the NVSP/RNDIS trace of this NIC (docs/tap.md "Capture"); absent = none. */
  readonly capture?: NicCapture;
}

/** A NIC's capture: files `<vm>-<nic>-<layer>.pcap` (and `-trace.jsonl`) in `dir`. */
export interface NicCapture {
  readonly dir: string;
  /** Default all four. */
  readonly layers: readonly CaptureLayerName[];
  readonly trace: boolean;
}

/** Where a frame is captured: the guest's TX and RX, its switch port's ingress and egress. */
export const CAPTURE_LAYER_NAMES = ['guest-tx', 'guest-rx', 'switch-in', 'switch-out'] as const;
export type CaptureLayerName = (typeof CAPTURE_LAYER_NAMES)[number];

export interface VmSpec {
  readonly name: string;
  readonly vcpus: number;
  readonly nics: readonly NicSpec[];
}

export type FlowRate =
  | { readonly kind: 'max' }
  | { readonly kind: 'pps'; readonly pps: number }
  | { readonly kind: 'bitrate'; readonly bitsPerSecond: number };

/** What the run must show for a flow; `netvsc run` fails the scenario when it does not. */
export interface FlowExpect {
  /** 'all': nothing lost; 'none': nothing arrives (VLAN isolation); 'some': at least one frame. */
  readonly delivered?: 'all' | 'none' | 'some';
  readonly maxLost?: number;
  readonly maxReordered?: number;
  readonly maxDuplicated?: number;
}

export interface FlowSpec {
  readonly name: string;
  readonly protocol: 'tcp' | 'udp' | 'icmp';
  readonly family: 'ipv4' | 'ipv6';
  /** NIC names. */
  readonly from: string;
  readonly to: string;
  readonly src: string;
  readonly dst: string;
  /** Undefined for ICMP. */
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** Number of parallel flows, source ports srcPort…srcPort+parallel−1 (ICMP: echo ids). */
  readonly parallel: number;
  /** Bytes per send, as an Ethernet frame without FCS (above mtu+14 only with lso or fragment). */
  readonly size: number;
  readonly rate: FlowRate;
  /** Frames (sends) per parallel flow; undefined = until durationMs or the scenario ends. */
  readonly count?: number;
  readonly startMs: number;
  readonly durationMs?: number;
  /** The IP datagram is larger than the MTU and goes out as IP fragments (UDP, ICMP). */
  readonly fragment: boolean;
  /** 802.1Q tag the guest puts on (trunk ports only). */
  readonly vlan?: number;
  /** TCP sends above the MTU go out as LSOv2 super-frames. */
  readonly lso: boolean;
  readonly expect: FlowExpect;
}

export interface ScenarioEvent {
  readonly atMs: number;
  readonly nic: string;
  readonly change: NicChange;
}

export interface ScenarioSpec {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly host: HostSpec;
  readonly vms: readonly VmSpec[];
  readonly flows: readonly FlowSpec[];
  /** Sorted by atMs; events at the same time keep file order. */
  readonly events: readonly ScenarioEvent[];
}
