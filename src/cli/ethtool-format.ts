/**
 * Prints results the way ethtool(8) does, so output can be read (and grepped) with ethtool
 * habits: `NIC statistics:` with five-space indents, `Pre-set maximums:` / `Current hardware
 * settings:` blocks, the indirection table eight entries a row.
 */
import type { FlowType } from '../lab/scenario/index.js';
import type { ChannelParams, DriverInfo, FeatureList, NicStatistics, RingParams, RxFlowHashSettings, RxfhSettings } from './control/protocol.js';

/** ethtool -i */
export function formatDriverInfo(r: DriverInfo): string {
  return [
    `driver: ${r.driver}`,
    `version: ${r.version}`,
    `firmware-version: ${r.firmwareVersion}`,
    'expansion-rom-version: ',
    `bus-info: ${r.busInfo}`,
    'supports-statistics: yes',
    'supports-test: no',
    'supports-eeprom-access: no',
    'supports-register-dump: yes',
    'supports-priv-flags: no',
  ].join('\n');
}

/** ethtool -S */
export function formatStatistics(r: NicStatistics): string {
  return ['NIC statistics:', ...r.stats.map((s) => `     ${s.name}: ${s.value}`)].join('\n');
}

/** ethtool -g: netvsc has no mini or jumbo rings. */
export function formatRings(nic: string, r: RingParams): string {
  const block = (rx: number, tx: number) => [`RX:\t\t${rx}`, 'RX Mini:\tn/a', 'RX Jumbo:\tn/a', `TX:\t\t${tx}`];
  return [`Ring parameters for ${nic}:`, 'Pre-set maximums:', ...block(r.rxMax, r.txMax), 'Current hardware settings:', ...block(r.rx, r.tx)].join('\n');
}

/** ethtool -l: only combined channels. */
export function formatChannels(nic: string, r: ChannelParams): string {
  const block = (combined: number) => ['RX:\t\tn/a', 'TX:\t\tn/a', 'Other:\t\tn/a', `Combined:\t${combined}`];
  return [`Channel parameters for ${nic}:`, 'Pre-set maximums:', ...block(r.maxCombined), 'Current hardware settings:', ...block(r.combined)].join('\n');
}

/** ethtool -k */
export function formatFeatures(nic: string, r: FeatureList): string {
  return [`Features for ${nic}:`, ...r.features.map((f) => `${f.name}: ${f.on ? 'on' : 'off'}${f.fixed ? ' [fixed]' : ''}`)].join('\n');
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** ethtool -x: `%5u:` row labels and ` %5u` entries, eight a row, as ethtool prints them. */
export function formatRxfh(nic: string, r: RxfhSettings): string {
  const lines: string[] = [];
  if (r.indirection.length === 0) lines.push(`${nic}: RX flow hash indirection table is not supported (vRSS is not active)`);
  else {
    lines.push(`RX flow hash indirection table for ${nic} with ${r.rings} RX ring(s):`);
    for (let i = 0; i < r.indirection.length; i += 8) {
      const row = r.indirection.slice(i, i + 8).map((v) => ` ${String(v).padStart(5)}`).join('');
      lines.push(`${String(i).padStart(5)}: ${row}`);
    }
  }
  lines.push('RSS hash key:', r.hkey.map(hex2).join(':'), 'RSS hash function:', `    toeplitz: ${r.hfunc === 'toeplitz' ? 'on' : 'off'}`, '    xor: off', '    crc32: off');
  return lines.join('\n');
}

const FLOW_TITLES: Readonly<Record<FlowType, string>> = {
  tcp4: 'TCP over IPV4',
  tcp6: 'TCP over IPV6',
  udp4: 'UDP over IPV4',
  udp6: 'UDP over IPV6',
};

/** ethtool -n rx-flow-hash TYPE */
export function formatRxFlowHash(r: RxFlowHashSettings): string {
  const lines = [`${FLOW_TITLES[r.flowType]} flows use these fields for computing Hash flow key:`, 'IP SA', 'IP DA'];
  if (r.fields === 'sdfn') lines.push('L4 bytes 0 & 1 [TCP/UDP src port]', 'L4 bytes 2 & 3 [TCP/UDP dst port]');
  return lines.join('\n');
}

/** ethtool -n without a flow type: the only rxnfc query netvsc answers (ETHTOOL_GRXRINGS). */
export function formatRxRings(r: ChannelParams): string {
  return `${r.combined} RX rings available`;
}
