/**
 * What one synthetic NIC remembers between messages: identity, negotiated values, and what the
 * guest configured through RNDIS (filter, offloads, RSS, MAC). Control path only: plain fields.
 */
import { toeplitzTables, type ToeplitzTables } from '../../packet/index.js';
import type { HostProfile } from '../profiles.js';
import { macAt } from '../vswitch/port.js';

/** What TCP_OFFLOAD_PARAMETERS enabled (§5.9 value codes; 0 = never set). */
export interface OffloadSettings {
  /** Raw ndis_offload_params value per field as last set (non-zero only), e.g. tcpIpV4Csum: 4. */
  readonly raw: Record<string, number>;
  /** Size of the last parameters object: 22 (NVSP ≤ 4) or 28 (§5.9). */
  size: number;
}

export interface RssSettings {
  enabled: boolean;
  hashInfo: number;
  /** Indirection table: channel per entry. */
  table: Uint32Array;
  key: Uint8Array;
  tables: ToeplitzTables | null;
}

export class NicState {
  mac: Uint8Array;
  macNumber: number;
  linkUp: boolean;
  /** OID_GEN_LINK_SPEED, 100 bit/s units. */
  linkSpeed100bps: number;
  nvspVersion = 0;
  ndisMajor = 0;
  ndisMinor = 0;
  /** Ethernet frame bytes from NDIS config (MTU + 14, §3.5); 1514 until the guest says otherwise. */
  ndisMtu = 1514;
  ndisCapability = 0n;
  packetFilter = 0;
  offload: OffloadSettings = { raw: {}, size: 0 };
  rss: RssSettings = { enabled: false, hashInfo: 0, table: new Uint32Array(0), key: new Uint8Array(0), tables: null };
  /** Open channels of this NIC (primary + sub-channels). */
  channelCount = 1;

  constructor(
    readonly profile: HostProfile,
    readonly permanentMac: Uint8Array,
    readonly name: string,
    linkUp: boolean,
  ) {
    this.mac = permanentMac.slice();
    this.macNumber = macAt(this.mac, 0);
    this.linkUp = linkUp;
    this.linkSpeed100bps = profile.linkSpeed100bps;
  }

  setMac(mac: Uint8Array): void {
    this.mac = mac.slice(0, 6);
    this.macNumber = macAt(this.mac, 0);
  }

  setRss(hashInfo: number, table: readonly number[], key: Uint8Array | null): void {
    this.rss.enabled = true;
    this.rss.hashInfo = hashInfo;
    this.rss.table = Uint32Array.from(table);
    if (key) {
      this.rss.key = key.slice();
      this.rss.tables = toeplitzTables(this.rss.key);
    }
  }

  disableRss(): void {
    this.rss.enabled = false;
  }
}
