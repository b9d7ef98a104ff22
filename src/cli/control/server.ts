/**
 * The control socket server an instance runs: JSON lines over a unix socket, each request
 * checked (read-request.ts) and passed to the lab's ControlHandler, answers in any order
 * matched by id. A stale socket left by a crashed instance is removed; a live one is not.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { dirname } from 'node:path';
import { ConfigError, type ErrorCode, isNetvscError } from '../../core/index.js';
import { LineSplitter } from './line-splitter.js';
import type { ControlHandler, ControlRequest, ControlResponse } from './protocol.js';
import { readRequestLine } from './read-request.js';
import { checkSocketPath } from './socket-path.js';

export interface ControlServerOptions {
  /** Longest request line accepted; a longer one closes the connection. Default 1 MiB. */
  readonly maxLineBytes?: number;
}

const DEFAULTS = { maxLineBytes: 1 << 20 } as const;

/** True if something accepts connections at `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  /** Listens at `path` (creating its directory, mode 0700) and serves `handler`. */
  static async listen(path: string, handler: ControlHandler, options: ControlServerOptions = {}): Promise<ControlServer> {
    checkSocketPath(path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let isSocket = false;
    try {
      isSocket = lstatSync(path).isSocket();
      if (!isSocket) throw new ConfigError('BAD_CONFIG', `${path} exists and is not a socket; not removing it`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (isSocket) {
      if (await isLive(path)) throw new ConfigError('BUSY', `an instance is already running at ${path}`);
      unlinkSync(path); // stale: left by an instance that did not close
    }
    const maxLineBytes = options.maxLineBytes ?? DEFAULTS.maxLineBytes;
    const server = createServer();
    const cs = new ControlServer(path, server);
    server.on('connection', (s) => cs.serve(s, handler, maxLineBytes));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return cs;
  }

  private serve(s: Socket, handler: ControlHandler, maxLineBytes: number): void {
    this.sockets.add(s);
    s.setEncoding('utf8');
    const lines = new LineSplitter(maxLineBytes);
    const send = (r: ControlResponse) => {
      if (!s.destroyed) s.write(`${JSON.stringify(r)}\n`);
    };
    s.on('data', (chunk: string) => {
      let got: string[];
      try {
        got = lines.push(chunk);
      } catch (e) {
        send({ id: null, ok: false, error: { code: 'LIMIT', message: (e as Error).message } });
        s.end();
        return;
      }
      for (const line of got) {
        const r = readRequestLine(line);
        if ('error' in r) send({ id: r.id, ok: false, error: { code: r.error.code, message: r.error.message } });
        else void this.answer(r.id, r.request, handler).then(send);
      }
    });
    s.on('error', () => s.destroy());
    s.on('close', () => this.sockets.delete(s));
  }

  private async answer(id: number, request: ControlRequest, handler: ControlHandler): Promise<ControlResponse> {
    try {
      const call = handler[request.op] as (r: ControlRequest) => Promise<unknown>;
      return { id, ok: true, result: await call(request) };
    } catch (e) {
      // A NetvscError keeps its code; anything else is a bug in the instance, reported as such.
      const code: ErrorCode = isNetvscError(e) ? e.code : 'UNSUPPORTED';
      const message = isNetvscError(e) ? e.message : `internal error in the instance: ${(e as Error)?.message ?? String(e)}`;
      return { id, ok: false, error: { code, message } };
    }
  }

  /** Stops listening, drops open connections and removes the socket file. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone (server.close removes it on some platforms)
    }
  }
}
