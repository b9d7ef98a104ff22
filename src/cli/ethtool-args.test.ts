// ethtool(8) syntax → typed requests; every bad word is a one-line ConfigError naming it.
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../core/index.js';
import { parseEthtoolArgs } from './ethtool-args.js';

const req = (s: string) => parseEthtoolArgs(s.split(' ')).request;
const err = (s: string): string => {
  try {
    parseEthtoolArgs(s.split(' '));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`"${s}" parsed`);
};

describe('parseEthtoolArgs()', () => {
  test('show options and their long names map to queries', () => {
    expect(req('-S eth0')).toEqual({ op: 'ethtool.stats', nic: 'eth0' });
    expect(req('--statistics eth0')).toEqual({ op: 'ethtool.stats', nic: 'eth0' });
    expect(req('-i eth1')).toEqual({ op: 'ethtool.info', nic: 'eth1' });
    expect(req('--show-ring eth0')).toEqual({ op: 'ethtool.rings', nic: 'eth0' });
    expect(req('-l eth0')).toEqual({ op: 'ethtool.channels', nic: 'eth0' });
    expect(req('-k eth0')).toEqual({ op: 'ethtool.features', nic: 'eth0' });
    expect(req('-x eth0')).toEqual({ op: 'ethtool.rxfh', nic: 'eth0' });
    expect(req('-n eth0 rx-flow-hash udp4')).toEqual({ op: 'ethtool.rx-flow-hash', nic: 'eth0', flowType: 'udp4' });
    expect(parseEthtoolArgs(['-n', 'eth0'])).toEqual({ request: { op: 'ethtool.channels', nic: 'eth0' }, show: 'rx-rings' });
  });

  test('set options become NIC changes', () => {
    expect(req('-G eth0 rx 1024 tx 512')).toEqual({ op: 'change', nic: 'eth0', change: { action: 'rings', rx: 1024, tx: 512 } });
    expect(req('-L eth0 combined 4 rx 0')).toEqual({ op: 'change', nic: 'eth0', change: { action: 'channels', combined: 4 } });
    expect(req('-K eth0 lro off gro on tx-checksumming off')).toEqual({
      op: 'change', nic: 'eth0',
      change: { action: 'features', features: { 'large-receive-offload': false, 'generic-receive-offload': true, 'tx-checksumming': false } },
    });
    expect(req('-X eth0 equal 2')).toEqual({ op: 'change', nic: 'eth0', change: { action: 'rxfh', equal: 2 } });
    expect(req('-X eth0 weight 3 1 0 hfunc toeplitz')).toEqual({ op: 'change', nic: 'eth0', change: { action: 'rxfh', weight: [3, 1, 0] } });
    expect(req('-X eth0 default')).toEqual({ op: 'change', nic: 'eth0', change: { action: 'rxfh', default: true } });
    const key = Array.from({ length: 40 }, (_, i) => (255 - i).toString(16).padStart(2, '0')).join(':');
    expect(req(`-X eth0 hkey ${key}`)).toEqual({ op: 'change', nic: 'eth0', change: { action: 'rxfh', hkey: Array.from({ length: 40 }, (_, i) => 255 - i) } });
    expect(req('-N eth0 rx-flow-hash udp4 sd')).toEqual({ op: 'change', nic: 'eth0', change: { action: 'rx-flow-hash', flowType: 'udp4', fields: 'sd' } });
  });

  test.each([
    ['-G eth0 rx abc', 'ethtool -G eth0: rx: must be a whole number, got "abc"'],
    ['-G eth0 rx 5', 'ethtool -G eth0: rx: must be an integer 10..18811, got 5'],
    ['-G eth0 rx-jumbo 5', 'ethtool -G eth0: rx-jumbo: not supported by hv_netvsc (only rx and tx)'],
    ['-L eth0 combined 65', 'ethtool -L eth0: combined: must be an integer 1..64, got 65'],
    ['-L eth0 rx 2', 'ethtool -L eth0: rx: hv_netvsc has combined channels only; use combined N'],
    ['-K eth0 lro maybe', 'ethtool -K eth0: lro: must be on or off, got "maybe"'],
    ['-K eth0 warp on', 'ethtool -K eth0: unknown feature "warp" (see netvsc ethtool -k)'],
    ['-X eth0 equal 2 default', 'ethtool -X eth0: equal: equal, weight and default are alternatives; give one'],
    ['-X eth0 hkey 01:02', 'ethtool -X eth0: hkey: must be 40 bytes (the Toeplitz key size), got 2'],
    ['-X eth0 hfunc xor', 'ethtool -X eth0: hfunc: hv_netvsc hashes with toeplitz only, not "xor"'],
    ['-N eth0 rx-flow-hash udp4 sdf', 'ethtool -N eth0: rx-flow-hash udp4: hv_netvsc hashes "sd" (addresses) or "sdfn" (addresses and ports), not "sdf"'],
    ['-N eth0 rx-flow-hash sctp4 sd', 'ethtool -N eth0: rx-flow-hash: flow type must be one of tcp4, tcp6, udp4, udp6, got "sctp4"'],
    ['-S eth0 extra', 'ethtool -S eth0: unexpected "extra"'],
    ['-S', 'ethtool -S: a NIC name is required'],
    ['-G eth0 rx', 'ethtool -G eth0: the value of rx is missing'],
  ])('%s → %s', (args, message) => {
    expect(err(args)).toBe(message);
  });

  test('an unknown option names itself and lists the forms', () => {
    expect(err('-Z eth0')).toMatch(/^ethtool: -Z: not an ethtool option netvsc implements; usage: ethtool -i\|-S/);
    expect(err('eth0')).toMatch(/^ethtool: eth0: give an option before the NIC/);
  });
});
