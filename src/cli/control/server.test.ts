// The control socket itself: ids, concurrent answers, bad lines, timeouts, stale sockets.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConfigError } from '../../core/index.js';
import { ControlError, ControlServer, NoInstanceError, callControl, controlSocketPath, type ControlHandler } from './index.js';

let dir: string;
let path: string;
const servers: ControlServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netvsc-ctl-'));
  path = join(dir, 'sub', 'test.sock');
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const never = () => new Promise<never>(() => undefined);
function handler(over: Partial<ControlHandler> = {}): ControlHandler {
  const none = async () => {
    throw new ConfigError('BAD_CONFIG', 'not in this fake');
  };
  return {
    'ethtool.info': none, 'ethtool.stats': none, 'ethtool.rings': none, 'ethtool.channels': none, 'ethtool.features': none,
    'ethtool.rxfh': none, 'ethtool.rx-flow-hash': none, change: none, host: none, stats: none, ...over,
  };
}
async function listen(h: ControlHandler): Promise<ControlServer> {
  const s = await ControlServer.listen(path, h);
  servers.push(s);
  return s;
}

describe('control socket', () => {
  test('answers concurrent calls by id, even out of order', async () => {
    await listen(handler({
      'ethtool.channels': async (r) => {
        await new Promise((res) => setTimeout(res, r.nic === 'slow' ? 50 : 1));
        return { maxCombined: 8, combined: r.nic === 'slow' ? 1 : 2 };
      },
    }));
    const [a, b] = await Promise.all([callControl(path, { op: 'ethtool.channels', nic: 'slow' }), callControl(path, { op: 'ethtool.channels', nic: 'fast' })]);
    expect([a.combined, b.combined]).toEqual([1, 2]);
  });

  test('a handler error keeps its code; a crash is reported as an internal error', async () => {
    await listen(handler({ host: async () => { throw new TypeError('boom'); } }));
    await expect(callControl(path, { op: 'stats' })).rejects.toMatchObject({ code: 'BAD_CONFIG', message: 'not in this fake' });
    const e = await callControl(path, { op: 'host' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ControlError);
    expect(e).toMatchObject({ code: 'UNSUPPORTED', message: 'internal error in the instance: boom' });
  });

  test('the server refuses a malformed request before the handler sees it', async () => {
    let called = false;
    await listen(handler({ change: async () => ((called = true), { notes: [] }) }));
    const bad = { op: 'change', nic: 'eth0', change: { action: 'channels', combined: 0 } } as never;
    await expect(callControl(path, bad)).rejects.toMatchObject({ code: 'BAD_CONFIG', message: 'request.change.combined: must be an integer 1..64, got 0' });
    expect(called).toBe(false);
  });

  test('no server: NoInstanceError with what to do', async () => {
    const e = await callControl(path, { op: 'host' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoInstanceError);
    expect((e as Error).message).toMatch(/^no running instance \(start one with netvsc up or netvsc demo --keep\)/);
  });

  test('a handler that never answers times out', async () => {
    await listen(handler({ host: never }));
    await expect(callControl(path, { op: 'host' }, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  test('a stale socket is removed; a live one and a plain file are refused', async () => {
    // What a killed instance leaves behind: a socket file with nobody listening.
    mkdirSync(join(dir, 'sub'));
    const killed = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(killed.signal).toBe('SIGKILL');
    expect(lstatSync(path).isSocket()).toBe(true);
    const live = await listen(handler({ stats: async () => ({ uptimeMs: 7, nics: [] }) }));
    expect((await callControl(live.path, { op: 'stats' })).uptimeMs).toBe(7);
    await expect(ControlServer.listen(path, handler())).rejects.toMatchObject({ code: 'BUSY' });
    writeFileSync(join(dir, 'plain'), 'x');
    await expect(ControlServer.listen(join(dir, 'plain'), handler())).rejects.toThrow(/exists and is not a socket/);
  });

  test('controlSocketPath() follows NETVSC_SOCKET, XDG_RUNTIME_DIR, then /run or tmp', () => {
    expect(controlSocketPath('a', { NETVSC_SOCKET: '/x/y.sock' })).toBe('/x/y.sock');
    expect(controlSocketPath('lab1', { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toBe('/run/user/1000/netvsc/lab1.sock');
    expect(controlSocketPath('default', {}, 0)).toBe('/run/netvsc/default.sock');
    expect(controlSocketPath('default', {}, 1000)).toBe(join(tmpdir(), 'netvsc-1000', 'default.sock'));
    expect(() => controlSocketPath('../etc', {}, 0)).toThrow(/--instance/);
    expect(() => controlSocketPath('a', { XDG_RUNTIME_DIR: `/${'d'.repeat(120)}` }, 0)).toThrow(/longer than 107 bytes/);
  });
});
