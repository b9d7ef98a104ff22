/**
 * The captures one VM worker runs: guest TX/RX pcaps per NIC and, with `trace`, the NIC's
 * NVSP/RNDIS message trace. Made at bring-up from the NIC's checked capture files, flushed on
 * demand (stats, Lab.flushCaptures) and closed with the VM.
 */
import { NicCapture } from './guest-capture.js';
import type { NicCaptureFiles } from './config.js';
import { MessageTrace } from './message-trace.js';

export class VmCaptures {
  private readonly pcaps = new Map<string, NicCapture>();
  private readonly traces = new Map<string, MessageTrace>();

  constructor(private readonly vm: string) {}

  /** The NIC's guest TX/RX capture, or null when neither layer is on. */
  pcapFor(nic: string, f: NicCaptureFiles | undefined): NicCapture | null {
    if (!f || (!f.guestTx && !f.guestRx)) return null;
    const c = new NicCapture({ ...(f.guestTx ? { tx: f.guestTx } : {}), ...(f.guestRx ? { rx: f.guestRx } : {}) });
    this.pcaps.set(nic, c);
    return c;
  }

  /** The NIC's message trace (the guest driver's observer), or null without `trace`. */
  traceFor(nic: string, f: NicCaptureFiles | undefined): MessageTrace | null {
    if (!f?.trace) return null;
    const t = new MessageTrace(f.trace, `${this.vm}/${nic}`, 'guest');
    this.traces.set(nic, t);
    return t;
  }

  pcap(nic: string): NicCapture | null {
    return this.pcaps.get(nic) ?? null;
  }

  /** Writes what is buffered; returns the trace counters per NIC (records, dropped). */
  flush(): Record<string, { records: number; dropped: number }> {
    for (const c of this.pcaps.values()) c.flush();
    const out: Record<string, { records: number; dropped: number }> = {};
    for (const [n, t] of this.traces) out[n] = t.flush();
    return out;
  }

  close(): void {
    for (const c of this.pcaps.values()) c.close();
    for (const t of this.traces.values()) t.close();
    this.pcaps.clear();
    this.traces.clear();
  }
}
