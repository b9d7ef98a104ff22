/**
 * Where the runtimes run. Worker mode starts the compiled host.worker.js / vm.worker.js (Node 20
 * cannot start .ts workers); single-thread mode builds the same runtimes here and hands out
 * direct clients that pump. Either way the lab gets a RuntimeClient and a stop().
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import { compiledWorkerUrl } from '../core/index.js';
import type { HostProfileName } from '../host/index.js';
import type { MessageLink } from '../vmbus/index.js';
import { HostRuntime } from './host-runtime.js';
import type { Pump } from './pump.js';
import { DirectClient, WorkerClient, type RuntimeClient } from './rpc.js';
import { VmRuntime, type VmSetup } from './vm-runtime.js';

export interface HostWorkerData {
  readonly hostDoorbell: SharedArrayBuffer;
  readonly profile: HostProfileName;
}

export interface VmWorkerData {
  readonly setup: VmSetup;
  readonly link: MessagePort;
}

/** A runtime somewhere, and how to make it go away. */
export interface Spawned<T> {
  readonly client: RuntimeClient<T>;
  /** Ends the thread (or drops the loop from the pump); never throws. */
  stop(): Promise<void>;
}

function startWorker<T>(file: string, label: string, workerData: unknown, transfer: MessagePort[], timeoutMs: number): Spawned<T> {
  const worker = new Worker(compiledWorkerUrl(new URL(file, import.meta.url)), { workerData, transferList: transfer });
  const client = new WorkerClient<T>(worker, label, timeoutMs);
  worker.on('error', () => {}); // reported to pending calls by WorkerClient
  return { client, stop: () => worker.terminate().then(() => undefined) };
}

export function spawnHostWorker(d: HostWorkerData, timeoutMs: number): Spawned<HostRuntime> {
  return startWorker<HostRuntime>('./host.worker.js', 'host', d, [], timeoutMs);
}

export function spawnVmWorker(d: VmWorkerData, timeoutMs: number): Spawned<VmRuntime> {
  return startWorker<VmRuntime>('./vm.worker.js', `vm ${d.setup.name}`, d, [d.link], timeoutMs);
}

export function spawnHostHere(d: HostWorkerData, pump: Pump): Spawned<HostRuntime> & { readonly runtime: HostRuntime } {
  const runtime = new HostRuntime(d.hostDoorbell, d.profile);
  pump.add(runtime.loop);
  return { runtime, client: new DirectClient(runtime, (p, what) => pump.until(p, `host ${what}`)), stop: async () => pump.remove(runtime.loop) };
}

export function spawnVmHere(setup: VmSetup, link: MessageLink, pump: Pump): Spawned<VmRuntime> {
  const runtime = new VmRuntime(setup, link);
  pump.add(runtime.loop);
  return { client: new DirectClient(runtime, (p, what) => pump.until(p, `vm ${setup.name} ${what}`)), stop: async () => pump.remove(runtime.loop) };
}
