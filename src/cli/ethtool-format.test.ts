// The printed forms match ethtool(8)'s layout, character for character where ethtool fixes it.
import { describe, expect, test } from 'vitest';
import { formatChannels, formatRings, formatRxFlowHash, formatRxfh, formatStatistics } from './ethtool-format.js';

describe('ethtool formatters', () => {
  test('-S indents counters by five spaces under "NIC statistics:"', () => {
    expect(formatStatistics({ stats: [{ name: 'tx_scattered', value: 0 }, { name: 'tx_send_full', value: 3 }] })).toBe('NIC statistics:\n     tx_scattered: 0\n     tx_send_full: 3');
  });

  test('-g prints maximums then current settings, with n/a for mini and jumbo', () => {
    expect(formatRings('eth0', { rxMax: 18811, txMax: 2560, rx: 9709, tx: 170 })).toBe(
      'Ring parameters for eth0:\nPre-set maximums:\nRX:\t\t18811\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t2560\n' +
        'Current hardware settings:\nRX:\t\t9709\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t170',
    );
  });

  test('-l shows combined channels only', () => {
    expect(formatChannels('eth1', { maxCombined: 8, combined: 4 })).toContain('Channel parameters for eth1:\nPre-set maximums:\nRX:\t\tn/a\nTX:\t\tn/a\nOther:\t\tn/a\nCombined:\t8\nCurrent hardware settings:');
  });

  test('-x prints eight entries a row with %5u labels, then the key and function', () => {
    const text = formatRxfh('eth0', { rings: 4, indirection: Array.from({ length: 16 }, (_, i) => i % 4), hkey: [0x6d, 0x5a, 0x56], hfunc: 'toeplitz' });
    expect(text.split('\n')).toEqual([
      'RX flow hash indirection table for eth0 with 4 RX ring(s):',
      '    0:      0     1     2     3     0     1     2     3',
      '    8:      0     1     2     3     0     1     2     3',
      'RSS hash key:',
      '6d:5a:56',
      'RSS hash function:',
      '    toeplitz: on',
      '    xor: off',
      '    crc32: off',
    ]);
  });

  test('-n rx-flow-hash lists the L4 bytes only for sdfn', () => {
    expect(formatRxFlowHash({ flowType: 'udp4', fields: 'sd' })).toBe('UDP over IPV4 flows use these fields for computing Hash flow key:\nIP SA\nIP DA');
    expect(formatRxFlowHash({ flowType: 'tcp6', fields: 'sdfn' }).split('\n')).toHaveLength(5);
  });
});
