/**
 * Server-side check of a request line, so the lab's handler only ever sees well-formed,
 * typed requests, whatever a client sends.
 */
import { ConfigError } from '../../core/index.js';
import { FLOW_TYPES, type FlowType, Issues, readNicChange } from '../../lab/scenario/index.js';
import type { ControlOp, ControlRequest } from './protocol.js';

export const CONTROL_OPS: readonly ControlOp[] = [
  'ethtool.info', 'ethtool.stats', 'ethtool.rings', 'ethtool.channels', 'ethtool.features',
  'ethtool.rxfh', 'ethtool.rx-flow-hash', 'change', 'host', 'stats',
];

const isObj = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A request line read: the typed request, or the error to answer with (and the id, if it had one). */
export type RequestLine =
  | { readonly id: number; readonly request: ControlRequest }
  | { readonly id: number | null; readonly error: ConfigError };

/** `{"id": N, "request": {...}}` → the id and the typed request, or why it was refused. */
export function readRequestLine(line: string): RequestLine {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return { id: null, error: new ConfigError('BAD_CONFIG', 'request is not JSON') };
  }
  const id = isObj(msg) && typeof msg['id'] === 'number' && Number.isSafeInteger(msg['id']) ? msg['id'] : null;
  if (id === null) return { id, error: new ConfigError('BAD_CONFIG', 'request needs an integer id') };
  try {
    return { id, request: readRequest(isObj(msg) ? msg['request'] : undefined) };
  } catch (e) {
    return { id, error: e as ConfigError };
  }
}

export function readRequest(r: unknown): ControlRequest {
  if (!isObj(r)) throw new ConfigError('BAD_CONFIG', 'request must be an object {op, …}');
  const op = r['op'];
  if (typeof op !== 'string' || !(CONTROL_OPS as readonly string[]).includes(op)) {
    throw new ConfigError('BAD_CONFIG', `request.op must be one of ${CONTROL_OPS.join(', ')}`);
  }
  if (op === 'host' || op === 'stats') return { op };
  const nic = r['nic'];
  if (typeof nic !== 'string' || nic === '') throw new ConfigError('BAD_CONFIG', `request.nic: a NIC name is required for ${op}`);
  switch (op as Exclude<ControlOp, 'host' | 'stats'>) {
    case 'ethtool.rx-flow-hash': {
      const flowType = r['flowType'];
      if (typeof flowType !== 'string' || !(FLOW_TYPES as readonly string[]).includes(flowType)) {
        throw new ConfigError('BAD_CONFIG', `request.flowType must be one of ${FLOW_TYPES.join(', ')}`);
      }
      return { op: 'ethtool.rx-flow-hash', nic, flowType: flowType as FlowType };
    }
    case 'change': {
      const issues = new Issues();
      const change = readNicChange(r['change'], 'request.change', issues);
      if (!change) throw new ConfigError('BAD_CONFIG', issues.list.join('; '));
      return { op: 'change', nic, change };
    }
    default:
      return { op, nic } as ControlRequest;
  }
}
