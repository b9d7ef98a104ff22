/**
 * Per-NIC capture options as a user writes them (Lab API `nics[i].capture`, scenarios, `netvsc up
 * --capture`) and their checked form: one file path per layer. docs/tap.md "Capture".
 */
import { join } from 'node:path';
import { ConfigError } from '../../core/index.js';
import { CAPTURE_LAYER_NAMES, type CaptureLayerName } from '../scenario/index.js';

/** guest-tx/guest-rx: in the VM; switch-in/switch-out: at the NIC's switch port, in the host. */
export const CAPTURE_LAYERS = CAPTURE_LAYER_NAMES;
export type CaptureLayer = CaptureLayerName;

export interface NicCaptureOptions {
  /** Directory the files go into (created if missing). */
  readonly dir: string;
  /** Which pcap layers (default all four). */
  readonly layers?: readonly CaptureLayer[];
  /** Also write a JSON-lines trace of every NVSP and RNDIS message the guest sends and receives. */
  readonly trace?: boolean;
}

/** The files of one NIC's capture (structured-cloneable); absent = layer off. */
export interface NicCaptureFiles {
  readonly guestTx?: string;
  readonly guestRx?: string;
  readonly switchIn?: string;
  readonly switchOut?: string;
  /** The guest driver's view of every NVSP/RNDIS message. */
  readonly trace?: string;
  /** The host NetVSP's view: every packet the guest sends, every NVSP message the host answers. */
  readonly hostTrace?: string;
}

/** File names: `<vm>-<nic>-<layer>.pcap` and `<vm>-<nic>-trace.jsonl`. */
export function captureFiles(field: string, o: unknown, vm: string, nic: string): NicCaptureFiles {
  if (typeof o !== 'object' || o === null) throw new ConfigError('BAD_CONFIG', `${field}: must be an object {dir, layers?, trace?}`);
  const c = o as { dir?: unknown; layers?: unknown; trace?: unknown };
  if (typeof c.dir !== 'string' || c.dir === '') throw new ConfigError('BAD_CONFIG', `${field}.dir: must be a directory path`);
  const layers = c.layers ?? CAPTURE_LAYERS;
  if (!Array.isArray(layers) || layers.some((l) => !(CAPTURE_LAYERS as readonly unknown[]).includes(l))) {
    throw new ConfigError('BAD_CONFIG', `${field}.layers: must be a list of ${CAPTURE_LAYERS.join(', ')}`);
  }
  if (c.trace !== undefined && typeof c.trace !== 'boolean') throw new ConfigError('BAD_CONFIG', `${field}.trace: must be true or false`);
  const has = (l: CaptureLayer): boolean => (layers as readonly string[]).includes(l);
  const file = (l: string): string => join(c.dir as string, `${vm}-${nic}-${l}`);
  return {
    ...(has('guest-tx') ? { guestTx: file('guest-tx.pcap') } : {}),
    ...(has('guest-rx') ? { guestRx: file('guest-rx.pcap') } : {}),
    ...(has('switch-in') ? { switchIn: file('switch-in.pcap') } : {}),
    ...(has('switch-out') ? { switchOut: file('switch-out.pcap') } : {}),
    ...(c.trace ? { trace: file('trace.jsonl'), hostTrace: file('host-trace.jsonl') } : {}),
  };
}
