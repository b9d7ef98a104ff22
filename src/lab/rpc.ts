/**
 * Control calls between the lab (main thread) and its runtimes: method name + arguments in,
 * result or error out. In worker mode they travel by postMessage (setup, teardown and reports:
 * never packets); in single-thread mode the same runtime object is called directly while the
 * pump drives every event loop. Errors keep their class and code across the thread boundary.
 */
import type { MessagePort, Transferable, Worker } from 'node:worker_threads';
import { ConfigError, isNetvscError, NetvscError, ProtocolError, ResourceError, WireError, type ErrorCode } from '../core/index.js';

/** The async face of a runtime: every method, returning a promise. */
export type RuntimeMethods<T> = {
  [K in keyof T as T[K] extends (...a: never[]) => unknown ? K : never]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never;
};

/** Calls into a runtime, wherever it lives. */
export interface RuntimeClient<T> {
  call<K extends keyof RuntimeMethods<T> & string>(method: K, args: Parameters<RuntimeMethods<T>[K]>, transfer?: readonly Transferable[]): ReturnType<RuntimeMethods<T>[K]>;
}

interface CallMsg {
  readonly kind: 'call';
  readonly id: number;
  readonly method: string;
  readonly args: readonly unknown[];
}
interface ReplyMsg {
  readonly kind: 'reply';
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { readonly name: string; readonly code: ErrorCode | null; readonly message: string };
}

const ERROR_CLASSES: Readonly<Record<string, new (code: ErrorCode, message: string) => NetvscError>> = {
  ConfigError,
  ProtocolError,
  ResourceError,
  WireError,
  NetvscError,
};

function toReplyError(e: unknown): NonNullable<ReplyMsg['error']> {
  if (isNetvscError(e)) return { name: e.name, code: e.code, message: e.message };
  return { name: e instanceof Error ? e.name : 'Error', code: null, message: e instanceof Error ? e.message : String(e) };
}

function fromReplyError(where: string, r: NonNullable<ReplyMsg['error']>): Error {
  const cls = r.code ? ERROR_CLASSES[r.name] : undefined;
  if (cls && r.code) return new cls(r.code, r.message);
  return new Error(`${where}: ${r.name}: ${r.message}`);
}

function isCall(m: unknown): m is CallMsg {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'call';
}

/**
 * Worker side: answers calls arriving on `port` by invoking `target[method](...args)`. Other
 * messages (the reports the runtime posts itself) are not its business.
 */
export function serveRuntime(port: MessagePort, target: object): void {
  port.on('message', (m: unknown) => {
    if (!isCall(m)) return;
    const fn = (target as Record<string, unknown>)[m.method];
    const reply = (r: Omit<ReplyMsg, 'kind' | 'id'>): void => port.postMessage({ kind: 'reply', id: m.id, ...r } satisfies ReplyMsg);
    if (typeof fn !== 'function') {
      reply({ ok: false, error: { name: 'ConfigError', code: 'BAD_CONFIG', message: `no such call '${m.method}'` } });
      return;
    }
    Promise.resolve()
      .then(() => (fn as (...a: unknown[]) => unknown).apply(target, [...m.args]))
      .then(
        (value) => reply({ ok: true, value }),
        (e: unknown) => reply({ ok: false, error: toReplyError(e) }),
      );
  });
}

/** Main-thread side of a worker runtime. Every call fails (never hangs) after timeoutMs or on worker exit. */
export class WorkerClient<T> implements RuntimeClient<T> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private dead: Error | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly label: string,
    private readonly timeoutMs: number,
  ) {
    worker.on('message', (m: unknown) => {
      const r = m as ReplyMsg;
      if (r?.kind !== 'reply') return;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.value);
      else p.reject(fromReplyError(this.label, r.error!));
    });
    const fail = (e: Error): void => {
      this.dead ??= e;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(e);
      }
      this.pending.clear();
    };
    worker.on('error', (e: Error) => fail(new Error(`${label} worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code: number) => fail(new Error(`${label} worker exited (code ${code})`)));
  }

  call<K extends keyof RuntimeMethods<T> & string>(method: K, args: Parameters<RuntimeMethods<T>[K]>, transfer: readonly Transferable[] = []): ReturnType<RuntimeMethods<T>[K]> {
    const p = new Promise<unknown>((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ResourceError('TIMEOUT', `${this.label}: ${method} got no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ kind: 'call', id, method, args } satisfies CallMsg, transfer);
    });
    return p as ReturnType<RuntimeMethods<T>[K]>;
  }
}

/** Single-thread side: calls the runtime directly; `drive` pumps every loop until the call settles. */
export class DirectClient<T extends object> implements RuntimeClient<T> {
  constructor(
    private readonly target: T,
    private readonly drive: <R>(p: Promise<R>, what: string) => Promise<R>,
  ) {}

  call<K extends keyof RuntimeMethods<T> & string>(method: K, args: Parameters<RuntimeMethods<T>[K]>): ReturnType<RuntimeMethods<T>[K]> {
    const fn = (this.target as Record<string, unknown>)[method] as (...a: unknown[]) => unknown;
    const p = Promise.resolve().then(() => fn.apply(this.target, [...args]));
    return this.drive(p, method) as ReturnType<RuntimeMethods<T>[K]>;
  }
}
