/** Flow rates: `"max"`, a number (frames per second), or a string with a unit: 10kpps, 1.5gbit. */
import type { FlowRate } from './types.js';

const UNITS: Readonly<Record<string, { readonly kind: 'pps' | 'bitrate'; readonly scale: number }>> = {
  pps: { kind: 'pps', scale: 1 },
  kpps: { kind: 'pps', scale: 1e3 },
  mpps: { kind: 'pps', scale: 1e6 },
  bit: { kind: 'bitrate', scale: 1 },
  kbit: { kind: 'bitrate', scale: 1e3 },
  mbit: { kind: 'bitrate', scale: 1e6 },
  gbit: { kind: 'bitrate', scale: 1e9 },
};

/** The rate, or an error message saying what is accepted. */
export function parseRate(v: unknown): FlowRate | string {
  const accepted = 'must be "max", frames per second (a number), or a string like "10kpps" or "1.5gbit"';
  if (v === 'max') return { kind: 'max' };
  if (typeof v === 'number') {
    return Number.isFinite(v) && v > 0 && v <= 1e9 ? { kind: 'pps', pps: v } : `${accepted}; frames per second must be 0 < pps <= 1e9`;
  }
  if (typeof v !== 'string') return accepted;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(v.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || !unit) return accepted;
  const value = Number(m[1]) * unit.scale;
  if (!(value > 0) || value > (unit.kind === 'pps' ? 1e9 : 1e12)) return `${accepted}; ${v} is out of range`;
  return unit.kind === 'pps' ? { kind: 'pps', pps: value } : { kind: 'bitrate', bitsPerSecond: value };
}
