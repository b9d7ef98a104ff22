// `netvsc run` and `netvsc demo` on bad input: one line, exit 2, no stack; a scenario whose
// expectation fails exits 1; --help exits 0.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

function capture(): { err: () => string; out: () => string } {
  let err = '';
  let out = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  return { err: () => err, out: () => out };
}
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** A scenario the lab refuses: it starts hosts from a profile name only, without overrides. */
const UNSUPPORTED_FILE = join(mkdtempSync(join(tmpdir(), 'netvsc-unsup-')), 'overrides.json');
writeFileSync(UNSUPPORTED_FILE, JSON.stringify({ name: 'overrides', host: { profile: 'azure', overrides: { maxQueues: 3 } }, vms: [{ name: 'a', nics: [{ name: 'eth0' }] }, { name: 'b', nics: [{ name: 'eth1' }] }], flows: [{ protocol: 'udp', from: 'eth0', to: 'eth1', size: 200, count: 1 }] }));

describe('netvsc run / demo input', () => {
  test.each([
    [['run', '/nonexistent/x.json'], /^netvsc: BAD_CONFIG: \/nonexistent\/x\.json: cannot read \(ENOENT\)\n$/],
    [['run', UNSUPPORTED_FILE], /^netvsc: UNSUPPORTED: scenario overrides needs what the lab does not have yet: host\.overrides\.maxQueues/],
    [['run', 'examples/ring-pressure.json', '--duration', 'soon'], /^netvsc: BAD_CONFIG: --duration: /],
    [['demo', '--duration', '-3'], /^netvsc: /],
    [['demo', '--profile', 'ws2003'], /^netvsc: BAD_CONFIG: --profile: 'ws2003' is not one of /],
    [['run'], /^netvsc: missing required argument 'file'/],
  ])('%j → exit 2, one line', async (argv, msg) => {
    const c = capture();
    expect(await main(argv)).toBe(2);
    expect(c.err()).toMatch(msg);
    expect(c.err().trim().split('\n')).toHaveLength(1);
  });

  test('--help on run and demo', async () => {
    const c = capture();
    expect(await main(['run', '--help'])).toBe(0);
    expect(await main(['demo', '--help'])).toBe(0);
    expect(c.out()).toContain('--duration <seconds>');
    expect(c.out()).toContain('--keep');
  });

  test('a failed expectation exits 1 and says which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netvsc-run-'));
    const file = join(dir, 'fail.json');
    writeFileSync(file, JSON.stringify({
      name: 'fails',
      vms: [{ name: 'a', nics: [{ name: 'eth0' }] }, { name: 'b', nics: [{ name: 'eth1' }] }],
      flows: [{ protocol: 'udp', from: 'eth0', to: 'eth1', size: 200, count: 50, expect: { delivered: 'none' } }],
    }));
    const c = capture();
    expect(await main(['run', file, '--duration', '0.5'])).toBe(1);
    expect(c.out()).toMatch(/FAIL: expected none delivered, 50 arrived/);
  });
});
