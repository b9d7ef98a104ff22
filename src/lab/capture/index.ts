// lab/capture: layered capture of a NIC (issue 7 item 3): pcaps at guest TX, at its switch port
// (ingress and egress) and at guest RX, and a JSON-lines trace of every NVSP and RNDIS message.
// config.ts (options), port-capture.ts (host side), guest-capture.ts + message-trace.ts (VM side).
import { mkdirSync } from 'node:fs';
import type { NicConfig, NicOptions } from '../config.js';
import { captureFiles } from './config.js';

export { CAPTURE_LAYERS, captureFiles, type CaptureLayer, type NicCaptureFiles, type NicCaptureOptions } from './config.js';
export { PortCapture, writeWithVlanTag, type PortCapturePaths } from './port-capture.js';
export { NicCapture, type NicCapturePaths } from './guest-capture.js';
export { VmCaptures } from './vm-captures.js';
export { MessageTrace, type TraceRecord } from './message-trace.js';

/** Adds the checked capture files to a NIC's config and makes the directory (main thread). */
export function withCapture(cfg: NicConfig, o: NicOptions, vm: string, field: string): NicConfig {
  if (o.capture === undefined) return cfg;
  const capture = captureFiles(field, o.capture, vm, cfg.name);
  mkdirSync(o.capture.dir, { recursive: true });
  return { ...cfg, capture };
}
