/**
 * What the HTML report shows; the demo and `netvsc run` fill it from the lab's counters.
 * Plain JSON-able data: it is embedded in the page and drawn by the page's own script.
 */

/** One line of the throughput chart: [time in ms since start, Mbit/s of payload] samples. */
export interface ThroughputSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export type ReportEventKind = 'vf-remove' | 'vf-add' | 'ring-change' | 'channels-change' | 'mtu-change' | 'link' | 'other';

/** A vertical marker on the throughput chart. */
export interface ReportEvent {
  readonly atMs: number;
  readonly kind: ReportEventKind;
  readonly label: string;
}

/** Frames received per RSS channel of one NIC (index = channel). */
export interface ChannelFrames {
  readonly nic: string;
  readonly frames: readonly number[];
}

/**
 * Offload use on one NIC: which side computed checksums and how much LSO/GRO/RSC did.
 * Counter names are free-form (e.g. tx_csum_host, tx_csum_guest, lso_sends, gro_merged).
 */
export interface OffloadUse {
  readonly nic: string;
  readonly counters: readonly { readonly name: string; readonly value: number }[];
}

/** A plain table: the negotiated-versions table and the per-queue counter table. */
export interface ReportTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

export interface ReportData {
  readonly title: string;
  /** ISO time of the run, printed under the title. */
  readonly generatedAt: string;
  /** Label/value pairs for the summary box (duration, frames, loss, …). */
  readonly summary: readonly { readonly label: string; readonly value: string }[];
  readonly throughput: readonly ThroughputSeries[];
  readonly events: readonly ReportEvent[];
  readonly rssChannels: readonly ChannelFrames[];
  readonly offloads: readonly OffloadUse[];
  /** Drops by reason, summed over NICs (reason → frames). */
  readonly drops: Readonly<Record<string, number>>;
  readonly versions: ReportTable;
  readonly queues: ReportTable;
}
