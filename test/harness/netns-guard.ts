/**
 * Gate for test/netns: these tests need root, /dev/net/tun and the built TAP addon. Without them
 * they skip with the reason printed, except under CI=true, where a missing requirement fails the
 * file loudly (the CI machine is supposed to have everything).
 */
import { existsSync, rmSync } from 'node:fs';
import { expect } from 'vitest';
import { Netns, tapUnavailableReason } from '../../src/io/index.js';

/** Why netns tests cannot run here, or null when they can. */
export function netnsSkipReason(opts: { needsTap: boolean; tools?: readonly string[] }): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return `not root (uid ${process.getuid()})`;
  for (const t of ['ip', ...(opts.tools ?? [])]) {
    if (!['/usr/bin', '/bin', '/usr/sbin', '/sbin'].some((d) => existsSync(`${d}/${t}`))) return `${t} is not installed`;
  }
  return opts.needsTap ? tapUnavailableReason() : null;
}

/**
 * Returns true when the suite should run. Prints the reason and returns false to skip; under
 * CI=true throws instead, so CI cannot go green by skipping.
 */
export function netnsCanRun(suite: string, opts: { needsTap: boolean; tools?: readonly string[] }): boolean {
  const reason = netnsSkipReason(opts);
  if (reason === null) return true;
  if (process.env.CI === 'true') throw new Error(`${suite}: required under CI=true but ${reason}`);
  console.warn(`[skip] ${suite}: ${reason}`);
  return false;
}

/**
 * A prefix unique to one test file and run (`nvsc-` + 1-char tag + 2 chars of pid + `-`, 9 bytes),
 * so parallel files never sweep each other's objects while `netvsc down` (prefix nvsc-) still
 * cleans up anything a killed test run left.
 */
export function testPrefix(tag: string): string {
  return `nvsc-${tag.slice(0, 1)}${(process.pid % 1296).toString(36).padStart(2, '0')}-`;
}

/**
 * The afterAll of a suite that ran `tapUp()` under `prefix`: takes the lab down, then sweeps the
 * prefix for whatever a failed start left, removes the temp `dir`, and asserts that no namespace
 * under the prefix survived.
 */
export async function tapLabTeardown(
  up: { down(): Promise<unknown> } | undefined,
  o: { prefix: string; stateFile: string; dir: string },
): Promise<void> {
  try {
    await up?.down();
  } finally {
    await new Netns({ prefix: o.prefix, stateFile: o.stateFile }).down();
    rmSync(o.dir, { recursive: true, force: true });
  }
  expect((await new Netns({ prefix: o.prefix, stateFile: o.stateFile }).listNamespaces()).filter((n) => n.startsWith(o.prefix))).toEqual([]);
}
