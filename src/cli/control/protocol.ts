/**
 * The control socket's API: one JSON object per line each way. A request line is
 * `{"id": 1, "request": ControlRequest}`; the answer is `{"id": 1, "ok": true, "result": …}` or
 * `{"id": 1, "ok": false, "error": {"code": "BAD_CONFIG", "message": "…"}}`. The lab implements a
 * ControlHandler (one method per op); docs/cli.md shows every shape.
 */
import type { ErrorCode } from '../../core/index.js';
import type { FeatureName, FlowType, HashFields, NicChange } from '../../lab/scenario/index.js';

export type ControlRequest =
  /** ethtool -i */
  | { readonly op: 'ethtool.info'; readonly nic: string }
  /** ethtool -S */
  | { readonly op: 'ethtool.stats'; readonly nic: string }
  /** ethtool -g */
  | { readonly op: 'ethtool.rings'; readonly nic: string }
  /** ethtool -l, and ethtool -n without a flow type (it prints the ring count) */
  | { readonly op: 'ethtool.channels'; readonly nic: string }
  /** ethtool -k */
  | { readonly op: 'ethtool.features'; readonly nic: string }
  /** ethtool -x */
  | { readonly op: 'ethtool.rxfh'; readonly nic: string }
  /** ethtool -n NIC rx-flow-hash TYPE */
  | { readonly op: 'ethtool.rx-flow-hash'; readonly nic: string; readonly flowType: FlowType }
  /** ethtool -G/-L/-X/-K/-N, link set, vf add/remove */
  | { readonly op: 'change'; readonly nic: string; readonly change: NicChange }
  /** netvsc host */
  | { readonly op: 'host' }
  /** netvsc stats */
  | { readonly op: 'stats' };

export type ControlOp = ControlRequest['op'];
export type RequestOf<O extends ControlOp> = Extract<ControlRequest, { readonly op: O }>;

/** ethtool -i. */
export interface DriverInfo {
  readonly driver: string; // "hv_netvsc"
  readonly version: string;
  readonly firmwareVersion: string; // "N/A"
  /** The VMBus device instance GUID. */
  readonly busInfo: string;
}

/** ethtool -S: counters in Linux's order and names (protocol.md §7). */
export interface NicStatistics {
  readonly stats: readonly { readonly name: string; readonly value: number }[];
}

/** ethtool -g: receive/send buffer section counts (protocol.md §4.7). */
export interface RingParams {
  readonly rxMax: number;
  readonly txMax: number;
  readonly rx: number;
  readonly tx: number;
}

/** ethtool -l: netvsc has combined channels only. */
export interface ChannelParams {
  readonly maxCombined: number;
  readonly combined: number;
}

/** ethtool -k. */
export interface FeatureList {
  readonly features: readonly { readonly name: FeatureName; readonly on: boolean; readonly fixed: boolean }[];
}

/** ethtool -x. */
export interface RxfhSettings {
  /** Channels in use (the "RX ring(s)" of the header). */
  readonly rings: number;
  /** Empty when vRSS is not active (rx_table_sz 0). */
  readonly indirection: readonly number[];
  readonly hkey: readonly number[];
  readonly hfunc: 'toeplitz';
}

/** ethtool -n rx-flow-hash. */
export interface RxFlowHashSettings {
  readonly flowType: FlowType;
  readonly fields: HashFields;
}

/** The outcome of a change; notes say what the driver adjusted (a clamped ring size). */
export interface ChangeResult {
  readonly notes: readonly string[];
}

export interface HostNicInfo {
  readonly name: string;
  readonly vm: string;
  readonly mac: string;
  /** Negotiated NVSP version as on the wire (0x60001 = 6.1); 0 before negotiation. */
  readonly nvspVersion: number;
  /** Negotiated NDIS version, major << 16 | minor. */
  readonly ndisVersion: number;
  readonly queues: number;
  readonly mtu: number;
  readonly link: 'up' | 'down';
  readonly vf: 'none' | 'present' | 'active';
  /** Which checksums the host computes for this NIC (from the negotiated offloads). */
  readonly checksumOffload: readonly string[];
  readonly lso: boolean;
  readonly rsc: boolean;
}

/** netvsc host. */
export interface HostInfo {
  readonly profile: string;
  readonly title: string;
  readonly maxNvspVersion: number;
  readonly ndisVersion: number;
  readonly maxQueues: number;
  readonly udpHash4Tuple: boolean;
  readonly sriov: boolean;
  readonly rsc: boolean;
  readonly nics: readonly HostNicInfo[];
}

export interface QueueCounters {
  readonly queue: number;
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
}

export interface NicSummary {
  readonly name: string;
  readonly vm: string;
  readonly link: 'up' | 'down';
  readonly dataPath: 'synthetic' | 'vf';
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
  /** Drops by reason (tx_no_space, rx_no_memory, vlan_filtered, …); zero reasons may be left out. */
  readonly drops: Readonly<Record<string, number>>;
  readonly queues: readonly QueueCounters[];
}

/** netvsc stats. */
export interface StatsSummary {
  readonly uptimeMs: number;
  readonly nics: readonly NicSummary[];
}

export interface ControlResults {
  'ethtool.info': DriverInfo;
  'ethtool.stats': NicStatistics;
  'ethtool.rings': RingParams;
  'ethtool.channels': ChannelParams;
  'ethtool.features': FeatureList;
  'ethtool.rxfh': RxfhSettings;
  'ethtool.rx-flow-hash': RxFlowHashSettings;
  change: ChangeResult;
  host: HostInfo;
  stats: StatsSummary;
}

/**
 * What the lab implements: one method per op. Throw a NetvscError (ConfigError for a bad NIC
 * name or a value the device refuses) and the client prints `netvsc: CODE: message`.
 */
export type ControlHandler = { readonly [O in ControlOp]: (request: RequestOf<O>) => Promise<ControlResults[O]> };

export type ControlResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } };
