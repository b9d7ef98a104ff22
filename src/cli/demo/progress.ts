/**
 * The demo's live view. On a TTY: a progress bar, throughput and per-queue counters, redrawn in
 * place (cursor up + clear) at every sample. Elsewhere (CI logs, pipes): a line per event and a
 * line every few seconds, nothing redrawn.
 */
import type { EventResult, RunSample } from '../../lab/index.js';
import { eventLabel } from './report.js';

export interface ProgressSink {
  onSample(s: RunSample): void;
  onEvent(e: EventResult): void;
  done(): void;
}

export interface ProgressOptions {
  readonly durationMs: number;
  readonly tty: boolean;
  readonly write: (s: string) => void;
}

const BAR = 30;
/** Non-TTY: one progress line per this many ms. */
const PLAIN_EVERY_MS = 5000;

function bar(frac: number): string {
  const n = Math.max(0, Math.min(BAR, Math.round(frac * BAR)));
  return `[${'#'.repeat(n)}${'.'.repeat(BAR - n)}]`;
}

export function progressView(o: ProgressOptions): ProgressSink {
  let prev: RunSample | null = null;
  let drawn = 0;
  let lastPlain = 0;
  const events: string[] = [];
  const rate = (s: RunSample, name: string): string => {
    const a = prev?.nics.find((n) => n.name === name);
    const b = s.nics.find((n) => n.name === name);
    if (!a || !b || !prev || s.atMs <= prev.atMs) return '     -';
    return (((b.rxBytes - a.rxBytes) * 8) / (s.atMs - prev.atMs) / 1000).toFixed(0).padStart(6);
  };
  return {
    onSample(s) {
      const frac = s.atMs / o.durationMs;
      if (o.tty) {
        const lines = [`${bar(frac)} ${(Math.min(1, frac) * 100).toFixed(0).padStart(3)}%  ${(s.atMs / 1000).toFixed(1)} s`];
        for (const n of s.nics) {
          lines.push(`  ${n.name.padEnd(6)} rx ${rate(s, n.name)} Mbit/s  rx ${String(n.rxPackets).padStart(9)}  tx ${String(n.txPackets).padStart(9)} frames  per queue rx: ${n.queueRxPackets.join(' ')}`);
        }
        for (const e of events.slice(-3)) lines.push(`  ${e}`);
        // Move up over the last drawing and clear each line before writing the new one.
        o.write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
        drawn = lines.length;
      } else if (s.atMs - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = s.atMs;
        o.write(`${(s.atMs / 1000).toFixed(0)} s: ${s.nics.map((n) => `${n.name} rx ${n.rxPackets} tx ${n.txPackets}`).join(', ')}\n`);
      }
      prev = s;
    },
    onEvent(e) {
      const line = `${(e.appliedAtMs / 1000).toFixed(1)} s event: ${eventLabel(e)} (${e.tookMs} ms)`;
      events.push(line);
      if (!o.tty) o.write(`${line}\n`);
    },
    done() {
      if (o.tty && drawn > 0) o.write('\n');
    },
  };
}
