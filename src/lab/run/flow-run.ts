/**
 * One scenario flow running in the lab: `parallel` generator/sink pairs (source ports srcPort,
 * srcPort+1, …), each pair with its own flow id so the sink checks its own sequence. Started at
 * the flow's start time, stopped at its end (or when every generator has sent `count`), then
 * drained and read out: what the generators really sent against what the sinks saw.
 */
import type { GeneratorReport } from '../traffic/generator.js';
import type { SinkReport } from '../traffic/sink.js';
import type { LabNic, TrafficApp } from '../lab-vm.js';
import type { FlowSpec } from '../scenario/index.js';
import { recordsPerSend } from '../traffic/spec.js';

/** Records a sink tracks at most (its bitmap is count/8 bytes; traffic/spec.ts sinkSpec). */
const SINK_RECORD_CAP = 1 << 26;

/** Frames a sink can track for a flow with no count and no pacing (its bitmap is count/8 bytes). */
export const UNPACED_FRAME_CAP = 1 << 22;

/** A flow's totals over its parallel pairs; `lost` counts against what the generators really sent. */
export interface FlowTotals extends Pick<SinkReport, 'delivered' | 'unique' | 'lost' | 'duplicated' | 'reordered' | 'corrupt'> {
  readonly sent: number;
  readonly sentBytes: number;
  readonly rxBytes: number;
  /** Received frames that carried several records (GRO/RSC merged TCP segments). */
  readonly coalesced: number;
  /** IP fragments received (each datagram counts once in delivered). */
  readonly fragments: number;
}

/** Frames per second per parallel flow for the rate (0 = as fast as the NIC takes them). */
export function flowPps(f: FlowSpec): number {
  if (f.rate.kind === 'pps') return f.rate.pps;
  if (f.rate.kind === 'bitrate') return Math.max(1, Math.round(f.rate.bitsPerSecond / (f.size * 8)));
  return 0;
}

/** Frames each generator sends: the count, else what the rate fills the flow's time with. */
export function flowCount(f: FlowSpec, runMs: number): number {
  if (f.count !== undefined) return Math.min(f.count, UNPACED_FRAME_CAP);
  const ms = Math.max(1, f.durationMs ?? runMs - f.startMs);
  const pps = flowPps(f);
  return pps > 0 ? Math.max(1, Math.min(UNPACED_FRAME_CAP, Math.ceil((pps * ms) / 1000))) : UNPACED_FRAME_CAP;
}

interface Pair {
  readonly gen: TrafficApp<GeneratorReport>;
  readonly sink: TrafficApp<SinkReport>;
  final: GeneratorReport | null;
}

export class FlowRun {
  private pairs: Pair[] = [];
  private sinkFinal: SinkReport[] | null = null;
  state: 'waiting' | 'running' | 'stopped' = 'waiting';

  constructor(
    readonly spec: FlowSpec,
    private readonly from: LabNic,
    private readonly to: LabNic,
    /** First flow id; parallel flow i uses firstId + i. */
    readonly firstId: number,
    private readonly count: number,
    /**
     * Sum L4 checksums in the generator instead of asking the driver for checksum offload (a stack
     * on a device without it). Scenarios leave it off: a NIC on its VF has the VF fill them
     * (src/lab/vf/vf-tx-offload.ts), as a VF with checksum offload does.
     */
    private readonly softwareChecksum = false,
    /** The VLAN the receiver must see the frames on (its receive VLAN PPI; 0 = untagged), or unchecked. */
    private readonly rxVlan?: number,
  ) {}

  /** Starts every sink, then every generator. */
  async start(): Promise<void> {
    const f = this.spec;
    const pps = flowPps(f);
    const vlan = f.vlan ?? -1;
    // An LSO send is at most the host's GSO limit; each carries `records` sequence numbers.
    const size = f.lso ? Math.min(f.size, 14 + (vlan >= 0 ? 4 : 0) + (await this.from.ethtool()).features.gsoMaxSize - 1) : f.size;
    const records = recordsPerSend({ protocol: f.protocol, family: f.family, lso: f.lso, vlan }, size, this.from.info.mtu);
    const count = Math.min(this.count, Math.floor(SINK_RECORD_CAP / records));
    for (let i = 0; i < f.parallel; i++) {
      const flow = this.firstId + i;
      const sink = await this.to.startSink({ flow, count: count * records, ...(this.rxVlan !== undefined ? { vlan: this.rxVlan } : {}) });
      const gen = await this.from.startGenerator({
        flow,
        protocol: f.protocol,
        family: f.family,
        ...(f.vlan !== undefined ? { vlan: f.vlan } : {}),
        lso: f.lso,
        fragment: f.fragment,
        // Scenario traffic takes the stack's path: checksum offload as negotiated, TX hash.
        stack: true,
        softwareChecksum: this.softwareChecksum,
        dstMac: this.to.mac,
        src: f.src,
        dst: f.dst,
        srcPort: (f.srcPort ?? 49152) + i,
        dstPort: f.dstPort ?? 5201,
        sizes: [size],
        count,
        pps,
      });
      this.pairs.push({ gen, sink, final: null });
    }
    this.state = 'running';
  }

  /** True when every generator has sent its count. */
  async allSent(): Promise<boolean> {
    for (const p of this.pairs) if (!(p.final ?? (await p.gen.report())).done) return false;
    return true;
  }

  /** Stops the generators; their final reports are exact (nothing is sent after). */
  async stopSending(): Promise<void> {
    if (this.state !== 'running') return;
    for (const p of this.pairs) p.final = await p.gen.stop();
    this.state = 'stopped';
  }

  /** Live totals (generators still running count what they sent so far). */
  async totals(): Promise<FlowTotals> {
    const gens = await Promise.all(this.pairs.map(async (p) => p.final ?? p.gen.report()));
    const sinks = this.sinkFinal ?? (await Promise.all(this.pairs.map((p) => p.sink.report())));
    const sent = gens.reduce((a, g) => a + g.sent, 0);
    const unique = sinks.reduce((a, s) => a + s.unique, 0);
    const sum = (k: keyof SinkReport): number => sinks.reduce((a, s) => a + s[k], 0);
    return {
      sent,
      sentBytes: gens.reduce((a, g) => a + g.bytes, 0),
      delivered: sum('delivered'),
      unique,
      lost: Math.max(0, sent - unique),
      duplicated: sum('duplicated'),
      reordered: sum('reordered'),
      corrupt: sum('corrupt'),
      rxBytes: sum('bytes'),
      coalesced: sum('coalesced'),
      fragments: sum('fragments'),
    };
  }

  /** Stops the sinks and keeps their final reports. */
  async finish(): Promise<FlowTotals> {
    await this.stopSending();
    if (!this.sinkFinal) this.sinkFinal = await Promise.all(this.pairs.map((p) => p.sink.stop()));
    return this.totals();
  }
}
