/**
 * Test fixtures for src/packet: byte builders written independently of the code under test
 * (STYLE.md §2: fixtures never come from the emitter being tested).
 */

/** Bytes from a hex string; spaces allowed. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A dotted IPv4 address as 4 bytes. */
export function ipv4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

/** An IPv6 address in RFC 4291 text form (with at most one `::`) as 16 bytes. */
export function ipv6Bytes(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/** Two bytes, big-endian. */
export function be16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}
