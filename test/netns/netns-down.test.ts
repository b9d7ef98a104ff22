// down() removes exactly what we made: twice in a row, after a simulated crash, and never a
// foreign namespace or interface.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Netns, runCommand } from '../../src/io/index.js';
import { netnsCanRun, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('netns down()', { needsTap: false });
const dir = mkdtempSync(join(tmpdir(), 'nvsc-state-'));
const prefix = testPrefix('d');
const stateFile = join(dir, 'state.json');
// Foreign objects: no prefix of ours. Created by the test, removed by the test's own afterAll.
const foreignNs = `foreign${process.pid}`;
const foreignLink = `frn${process.pid % 100000}`;

async function namespaces(): Promise<string[]> {
  return new Netns({ prefix, stateFile }).listNamespaces();
}
async function rootLinks(): Promise<string[]> {
  return new Netns({ prefix, stateFile }).listRootLinks();
}

describe.runIf(run)('Netns.down()', () => {
  afterAll(async () => {
    try {
      await new Netns({ prefix, stateFile }).down();
    } finally {
      await runCommand(['ip', 'netns', 'del', foreignNs]);
      await runCommand(['ip', 'link', 'del', 'dev', foreignLink]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('removes its namespaces, veths and processes, twice in a row, and leaves foreign ones alone', async () => {
    const n = new Netns({ prefix, stateFile });
    await runCommand(['ip', 'netns', 'add', foreignNs]);
    await runCommand(['ip', 'link', 'add', foreignLink, 'type', 'veth', 'peer', 'name', `${foreignLink}p`]);
    const a = n.name('a');
    const b = n.name('b');
    await n.createNamespace(a);
    await n.createNamespace(b);
    await n.createVethPair({ name: n.name('va'), netns: a }, { name: n.name('vb'), netns: b });
    await n.configureLink(a, n.name('va'), { address: '10.79.0.1/24', mtu: 1400 });
    await n.configureLink(b, n.name('vb'), { address: '10.79.0.2/24' });
    const ping = await n.exec(a, ['ping', '-c', '1', '-W', '2', '10.79.0.2']);
    expect(ping.code).toBe(0);
    const mtu = await n.exec(a, ['cat', `/sys/class/net/${n.name('va')}/mtu`]);
    expect(mtu.stdout.trim()).toBe('1400');
    const sleeper = n.spawn(b, ['sleep', '600']);
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).namespaces).toEqual([a, b]);

    const first = await n.down();
    expect([...first.namespaces].sort()).toEqual([a, b]);
    expect(first.killedPids).toContain(sleeper.pid);
    const after = await namespaces();
    expect(after).not.toContain(a);
    expect(after).not.toContain(b);
    expect(after).toContain(foreignNs);
    expect(await rootLinks()).toContain(foreignLink);
    expect(existsSync(stateFile)).toBe(false);

    const second = await n.down();
    expect(second).toEqual({ namespaces: [], links: [], killedPids: [] });
    expect(await namespaces()).toContain(foreignNs);
  });

  test('after a crash, a new process finds the state file and removes what it lists and what carries the prefix', async () => {
    const crashed = new Netns({ prefix, stateFile });
    const a = crashed.name('c');
    await crashed.createNamespace(a);
    // A root-namespace link recorded before it was created, then created: the crash window.
    await crashed.recordLink(crashed.name('tap'));
    await runCommand(['ip', 'tuntap', 'add', 'dev', crashed.name('tap'), 'mode', 'tap']);
    // An unrecorded object with our prefix (the record was lost) and a forged foreign entry.
    await runCommand(['ip', 'netns', 'add', crashed.name('lost')]);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { links: unknown[] };
    state.links.push({ name: foreignLink, netns: null });
    writeFileSync(stateFile, JSON.stringify(state));

    const fresh = new Netns({ prefix, stateFile }); // the process after the crash
    const r = await fresh.down();
    expect([...r.namespaces].sort()).toEqual([a, crashed.name('lost')].sort());
    expect(r.links).toEqual([crashed.name('tap')]);
    expect(await rootLinks()).not.toContain(crashed.name('tap'));
    expect(await rootLinks()).toContain(foreignLink);
    expect(await namespaces()).toContain(foreignNs);
    expect((await fresh.down()).namespaces).toEqual([]);
  });
});
