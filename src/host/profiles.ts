/**
 * Host profiles: what each Hyper-V host version speaks and offers. The sources and the choices
 * made where the public record is silent are in docs/host-profiles.md; keep the two in step.
 */
import {
  NVSP_PROTOCOL_VERSION_4,
  NVSP_PROTOCOL_VERSION_5,
  NVSP_PROTOCOL_VERSION_6,
  NVSP_PROTOCOL_VERSION_61,
} from '../wire/index.js';
import { ConfigError } from '../core/index.js';

export type HostProfileName = 'ws2012' | 'ws2012r2' | 'ws2016' | 'ws2019' | 'azure';

/** Which checksums the host offloads on transmit (guest→host) and reports on receive. */
export interface ChecksumOffload {
  readonly tcp4: boolean;
  readonly udp4: boolean;
  readonly tcp6: boolean;
  readonly udp6: boolean;
}

export interface HostProfile {
  readonly name: HostProfileName;
  readonly title: string;
  /** Newest NVSP version the host accepts; it accepts every older one too (peers.md §1.6). */
  readonly maxNvspVersion: number;
  /** Newest NDIS version the host's RNDIS answers with (major << 16 | minor). */
  readonly ndisVersion: number;
  readonly checksum: ChecksumOffload;
  /** LSOv2 for IPv4 / IPv6, and the largest super-frame the host accepts. */
  readonly lsoV2: { readonly ipv4: boolean; readonly ipv6: boolean; readonly maxSizeBytes: number; readonly minSegments: number };
  /** Receive queues the host grants (primary + sub-channels); 1 = no vRSS. */
  readonly maxQueues: number;
  /** Indirection-table entries reported in the RSS capabilities. */
  readonly indirectionTableSize: number;
  /** Host hashes UDP by addresses and ports (newer hosts) instead of addresses only. */
  readonly udpHash4Tuple: boolean;
  readonly sriov: boolean;
  /** Receive segment coalescing over VMBus (NVSP 6.1). */
  readonly rsc: boolean;
  /** OID_GEN_LINK_SPEED in 100 bit/s units. */
  readonly linkSpeed100bps: number;
  /** Send-buffer section size the host answers in SEND_SEND_BUF_COMPLETE. */
  readonly sendSectionSizeBytes: number;
  /** RNDIS INITIALIZE_CMPLT: max packets per message and alignment factor (1 << n bytes). */
  readonly maxPktPerMsg: number;
  readonly pktAlignmentFactor: number;
}

const ALL_CSUM: ChecksumOffload = { tcp4: true, udp4: true, tcp6: true, udp6: true };
const TCP_CSUM: ChecksumOffload = { tcp4: true, udp4: false, tcp6: true, udp6: false };
const LSO = { ipv4: true, ipv6: true, maxSizeBytes: 62780, minSegments: 2 } as const;
const COMMON = { sendSectionSizeBytes: 6144, maxPktPerMsg: 8, pktAlignmentFactor: 3 } as const;
const NDIS_6_30 = (6 << 16) | 30;

export const HOST_PROFILES: Readonly<Record<HostProfileName, HostProfile>> = Object.freeze({
  ws2012: {
    name: 'ws2012', title: 'Windows Server 2012', maxNvspVersion: NVSP_PROTOCOL_VERSION_4, ndisVersion: NDIS_6_30,
    checksum: TCP_CSUM, lsoV2: LSO, maxQueues: 1, indirectionTableSize: 0, udpHash4Tuple: false,
    sriov: true, rsc: false, linkSpeed100bps: 100_000_000, ...COMMON,
  },
  ws2012r2: {
    name: 'ws2012r2', title: 'Windows Server 2012 R2', maxNvspVersion: NVSP_PROTOCOL_VERSION_5, ndisVersion: NDIS_6_30,
    checksum: TCP_CSUM, lsoV2: LSO, maxQueues: 8, indirectionTableSize: 128, udpHash4Tuple: false,
    sriov: true, rsc: false, linkSpeed100bps: 100_000_000, ...COMMON,
  },
  ws2016: {
    name: 'ws2016', title: 'Windows Server 2016', maxNvspVersion: NVSP_PROTOCOL_VERSION_6, ndisVersion: NDIS_6_30,
    checksum: ALL_CSUM, lsoV2: LSO, maxQueues: 16, indirectionTableSize: 128, udpHash4Tuple: false,
    sriov: true, rsc: false, linkSpeed100bps: 100_000_000, ...COMMON,
  },
  ws2019: {
    name: 'ws2019', title: 'Windows 10 / Windows Server 2019', maxNvspVersion: NVSP_PROTOCOL_VERSION_61, ndisVersion: NDIS_6_30,
    checksum: ALL_CSUM, lsoV2: LSO, maxQueues: 16, indirectionTableSize: 128, udpHash4Tuple: false,
    sriov: true, rsc: true, linkSpeed100bps: 100_000_000, ...COMMON,
  },
  azure: {
    name: 'azure', title: 'Azure', maxNvspVersion: NVSP_PROTOCOL_VERSION_61, ndisVersion: NDIS_6_30,
    checksum: ALL_CSUM, lsoV2: LSO, maxQueues: 64, indirectionTableSize: 128, udpHash4Tuple: false,
    sriov: true, rsc: true, linkSpeed100bps: 500_000_000, ...COMMON,
  },
});

export const HOST_PROFILE_NAMES = Object.keys(HOST_PROFILES) as readonly HostProfileName[];

/** A profile by name, with per-run overrides (e.g. udpHash4Tuple, maxQueues) for experiments. */
export function hostProfile(name: string, overrides: Partial<Omit<HostProfile, 'name' | 'title'>> = {}): HostProfile {
  const base = (HOST_PROFILES as Record<string, HostProfile | undefined>)[name];
  if (!base) throw new ConfigError('BAD_CONFIG', `unknown host profile '${name}' (known: ${HOST_PROFILE_NAMES.join(', ')})`);
  return { ...base, ...overrides };
}
