/**
 * The `flows` section. Besides types and ranges it checks what a real stack would refuse: a
 * frame above the MTU needs LSO (TCP) or fragmentation (UDP, ICMP), headers must fit the frame,
 * and a guest may tag VLANs only on a trunk port that allows them.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { FieldReader, type Issues, child } from './fields.js';
import { parseRate } from './read-rate.js';
import type { FlowExpect, FlowRate, FlowSpec, NicSpec } from './types.js';

export const FLOW_LIMITS = Object.freeze({ maxFlows: 256, minSize: 60, maxSize: 65535, maxParallel: 4096 });

const ETH = 14;
const L3 = { ipv4: 20, ipv6: 40 } as const;
const L4 = { tcp: 20, udp: 8, icmp: 8 } as const;

export function readFlows(v: unknown, nics: ReadonlyMap<string, NicSpec>, issues: Issues): FlowSpec[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > FLOW_LIMITS.maxFlows) {
    issues.add('flows', `must be an array of at most ${FLOW_LIMITS.maxFlows} flows`);
    return [];
  }
  const flows: FlowSpec[] = [];
  const names = new Set<string>();
  v.forEach((item, i) => {
    const f = readFlow(item, child('flows', i), i, nics, issues);
    if (!f) return;
    if (names.has(f.name)) issues.add(`${child('flows', i)}.name`, `duplicate flow name '${f.name}'`);
    names.add(f.name);
    flows.push(f);
  });
  return flows;
}

function readNicRef(r: FieldReader, key: string, nics: ReadonlyMap<string, NicSpec>): NicSpec | undefined {
  if (!r.require(key)) return undefined;
  const name = r.str(key);
  if (name === undefined) return undefined;
  const nic = nics.get(name);
  if (!nic) r.fail(key, `no NIC named '${name}' (NICs: ${[...nics.keys()].join(', ') || 'none'})`);
  return nic;
}

function readAddress(r: FieldReader, key: string, family: 'ipv4' | 'ipv6', nic: NicSpec | undefined): string {
  const given = r.str(key);
  if (given !== undefined) {
    const ok = family === 'ipv4' ? isIPv4(given) : isIPv6(given);
    if (!ok) r.fail(key, `must be an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address (the flow's family), got "${given}"`);
    return given;
  }
  return nic ? nic[family] : '';
}

function readFlow(v: unknown, path: string, index: number, nics: ReadonlyMap<string, NicSpec>, issues: Issues): FlowSpec | undefined {
  const r = FieldReader.of(v, path, issues);
  if (!r) return undefined;
  const before = issues.count;
  const name = r.str('name', /^[A-Za-z0-9_.-]{1,64}$/, 'a name of 1..64 letters, digits, _ . -') ?? `flow${index}`;
  r.require('protocol');
  const protocol = r.oneOf('protocol', ['tcp', 'udp', 'icmp'] as const) ?? 'udp';
  const from = readNicRef(r, 'from', nics);
  const to = readNicRef(r, 'to', nics);
  if (from && to && from === to) r.fail('to', 'must be a different NIC from `from`');
  const srcRaw = r.raw('src');
  const familyDefault = typeof srcRaw === 'string' && isIPv6(srcRaw) ? 'ipv6' : 'ipv4';
  const family = r.oneOf('family', ['ipv4', 'ipv6'] as const) ?? familyDefault;
  const src = readAddress(r, 'src', family, from);
  const dst = readAddress(r, 'dst', family, to);

  const ports = protocol !== 'icmp';
  if (!ports) for (const k of ['srcPort', 'dstPort']) if (r.has(k)) r.fail(k, 'ICMP has no ports; leave it out');
  const parallel = r.int('parallel', 1, FLOW_LIMITS.maxParallel) ?? 1;
  const srcPort = ports ? (r.int('srcPort', 1, 65535) ?? 49152 + ((index * 64) % 16000)) : undefined;
  const dstPort = ports ? (r.int('dstPort', 1, 65535) ?? 5201) : undefined;
  if (srcPort !== undefined && srcPort + parallel - 1 > 65535) r.fail('parallel', `srcPort ${srcPort} + ${parallel} parallel flows runs past port 65535`);

  const mtu = from?.mtu ?? 1500;
  const defaultSize = protocol === 'icmp' ? 98 : ETH + mtu;
  const size = r.int('size', FLOW_LIMITS.minSize, FLOW_LIMITS.maxSize) ?? defaultSize;
  const headers = ETH + L3[family] + L4[protocol];
  if (size < headers) r.fail('size', `${size} is below the ${headers} bytes of Ethernet + ${family} + ${protocol} headers`);

  const fragment = r.bool('fragment') ?? false;
  const lsoIn = r.bool('lso');
  if (lsoIn !== undefined && protocol !== 'tcp') r.fail('lso', 'LSO is for TCP only');
  if (fragment && protocol === 'tcp') r.fail('fragment', 'TCP is not fragmented (it segments; see lso)');
  const overMtu = size > ETH + mtu;
  const lso = protocol === 'tcp' ? (lsoIn ?? overMtu) : false;
  if (overMtu && protocol === 'tcp' && !lso) r.fail('size', `${size} exceeds the MTU of ${from?.name ?? 'the NIC'} (${mtu}) + 14; set lso: true or lower the size`);
  if (overMtu && protocol !== 'tcp' && !fragment) r.fail('size', `${size} exceeds the MTU of ${from?.name ?? 'the NIC'} (${mtu}) + 14; set fragment: true or lower the size`);
  if (fragment && protocol !== 'tcp' && !overMtu) r.fail('fragment', `a ${size}-byte frame fits the MTU (${mtu}); fragmentation needs size above mtu + 14`);

  let rate: FlowRate = { kind: 'max' };
  if (r.has('rate')) {
    const p = parseRate(r.raw('rate'));
    if (typeof p === 'string') r.fail('rate', p);
    else rate = p;
  }
  const count = r.int('count', 1, 1e9);
  const startMs = r.int('startMs', 0, 3_600_000) ?? 0;
  const durationMs = r.int('durationMs', 1, 3_600_000);

  const vlan = r.int('vlan', 1, 4094);
  if (vlan !== undefined && from) {
    if (from.vlan.mode === 'access') r.fail('vlan', `${from.name} is an access port (VLAN ${from.vlan.id}): the switch tags its frames, so leave vlan out`);
    else if (from.vlan.mode === 'untagged') r.fail('vlan', `${from.name} is an untagged port; tagged frames need vlan: {mode: "trunk", allowed: [${vlan}]}`);
    else if (!from.vlan.allowed.includes(vlan)) r.fail('vlan', `VLAN ${vlan} is not in ${from.name}'s trunk (allowed: ${from.vlan.allowed.join(', ')})`);
  }
  const expect = r.has('expect') ? readExpect(r.raw('expect'), r.at('expect'), issues) : {};
  r.rejectUnknown();
  if (issues.count !== before || !from || !to) return undefined;
  return {
    name, protocol, family, from: from.name, to: to.name, src, dst,
    ...(srcPort !== undefined ? { srcPort } : {}),
    ...(dstPort !== undefined ? { dstPort } : {}),
    parallel, size, rate,
    ...(count !== undefined ? { count } : {}),
    startMs,
    ...(durationMs !== undefined ? { durationMs } : {}),
    fragment,
    ...(vlan !== undefined ? { vlan } : {}),
    lso, expect,
  };
}

function readExpect(v: unknown, path: string, issues: Issues): FlowExpect {
  const r = FieldReader.of(v, path, issues);
  if (!r) return {};
  const delivered = r.oneOf('delivered', ['all', 'none', 'some'] as const);
  const maxLost = r.int('maxLost', 0, 1e12);
  const maxReordered = r.int('maxReordered', 0, 1e12);
  const maxDuplicated = r.int('maxDuplicated', 0, 1e12);
  r.rejectUnknown();
  return {
    ...(delivered ? { delivered } : {}),
    ...(maxLost !== undefined ? { maxLost } : {}),
    ...(maxReordered !== undefined ? { maxReordered } : {}),
    ...(maxDuplicated !== undefined ? { maxDuplicated } : {}),
  };
}
