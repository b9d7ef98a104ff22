/**
 * The commands' side of the control socket: one connection per call, one request line, wait
 * for the line with the same id. No instance, a timeout or an error answer become typed
 * errors that main() prints as one line.
 */
import { connect } from 'node:net';
import { ConfigError, type ErrorCode, NetvscError } from '../../core/index.js';
import { LineSplitter } from './line-splitter.js';
import type { ControlOp, ControlResponse, ControlResults, RequestOf } from './protocol.js';

/** Nothing listens at the socket: printed without a code, with how to start one. */
export class NoInstanceError extends NetvscError {
  constructor(readonly path: string) {
    super('CHANNEL_CLOSED', `no running instance (start one with netvsc up or netvsc demo --keep); looked for ${path}`);
  }
}

/** An error the instance answered with; keeps the instance's code. */
export class ControlError extends NetvscError {}

export interface ControlCallOptions {
  /** How long to wait for the answer. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;
const MAX_RESPONSE_BYTES = 64 << 20;
let nextId = 1;

/** Sends one request to the instance at `path` and returns its result. */
export function callControl<O extends ControlOp>(path: string, request: RequestOf<O>, options: ControlCallOptions = {}): Promise<ControlResults[O]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const id = nextId++;
  return new Promise<ControlResults[O]>((resolve, reject) => {
    const s = connect(path);
    const lines = new LineSplitter(MAX_RESPONSE_BYTES);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new NetvscError('TIMEOUT', `no answer from the instance at ${path} within ${timeoutMs} ms`))), timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify({ id, request })}\n`));
    s.on('error', (e: NodeJS.ErrnoException) => {
      const gone = e.code === 'ENOENT' || e.code === 'ECONNREFUSED';
      finish(() => reject(gone ? new NoInstanceError(path) : new ConfigError('BAD_CONFIG', `cannot connect to ${path}: ${e.code ?? e.message}`)));
    });
    s.on('close', () => finish(() => reject(new ControlError('CHANNEL_CLOSED', `the instance at ${path} closed the connection without answering`))));
    s.on('data', (chunk: string) => {
      let got: string[];
      try {
        got = lines.push(chunk);
      } catch (e) {
        finish(() => reject(new ControlError('LIMIT', `answer from ${path}: ${(e as Error).message}`)));
        return;
      }
      for (const line of got) {
        let r: ControlResponse;
        try {
          r = JSON.parse(line) as ControlResponse;
        } catch {
          finish(() => reject(new ControlError('MALFORMED', `the instance at ${path} answered with a line that is not JSON`)));
          return;
        }
        if (r.id !== id && r.id !== null) continue;
        if (r.ok) finish(() => resolve(r.result as ControlResults[O]));
        else finish(() => reject(new ControlError(r.error.code as ErrorCode, r.error.message)));
      }
    });
  });
}
