import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { WireError } from '../../core/index.js';
import { ArpView } from './arp.js';
import { EthernetView } from './ethernet.js';
import { IcmpView } from './icmp.js';
import { Ipv4View } from './ipv4.js';
import { Ipv6View } from './ipv6.js';
import { TcpView } from './tcp.js';
import { UdpView } from './udp.js';

const views = [new EthernetView(), new Ipv4View(), new Ipv6View(), new TcpView(), new UdpView(), new ArpView(), new IcmpView()];

/** Binds and, when that succeeds, reads every getter: nothing may throw but WireError. */
function exercise(bytes: Uint8Array, at: number, len: number): void {
  for (const v of views) {
    try {
      v.bind(bytes, at, len);
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      continue;
    }
    const proto = Object.getPrototypeOf(v) as object;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d?.get) continue;
      // An out-of-bounds typed-array read gives undefined, and arithmetic on it NaN.
      const value: unknown = d.get.call(v);
      expect(typeof value === 'boolean' || (typeof value === 'number' && !Number.isNaN(value))).toBe(true);
    }
  }
}

describe('wire/net views on random bytes', () => {
  test.prop([fc.uint8Array({ maxLength: 120 }), fc.integer({ min: -4, max: 130 }), fc.integer({ min: -4, max: 130 })])(
    'random bytes, offsets and lengths only ever produce a WireError',
    (bytes, at, len) => exercise(bytes, at, len),
  );
  test.prop([fc.uint8Array({ minLength: 40, maxLength: 120 }), fc.constantFrom(0, 6, 43, 44, 51, 60)])(
    'an IPv6 header with a random extension chain only ever produces a WireError',
    (bytes, first) => {
      bytes[0] = 0x60;
      bytes[4] = 0;
      bytes[5] = bytes.length - 40;
      bytes[6] = first;
      exercise(bytes, 0, bytes.length);
    },
  );
});
