/**
 * The guest's send buffer as the host sees it (protocol.md §4.3): one GPADL cut into sections of
 * the size the host chose in SEND_SEND_BUF_COMPLETE. The host only reads sections the guest
 * names in NVSP 107, after checking the index and the used size.
 */
import { newContiguousRun, type GpadlMapping } from '../../vmbus/index.js';

export class SendBuffer {
  readonly sectionCount: number;
  /** Guest memory as reached through this GPADL's runs (for zero-copy reads of contiguous sections). */
  readonly mem: Uint8Array;
  readonly memDv: DataView;

  constructor(
    readonly mapping: GpadlMapping,
    readonly sectionSize: number,
  ) {
    this.sectionCount = Math.floor(mapping.len / sectionSize);
    const run = newContiguousRun();
    mapping.contiguous(0, Math.min(1, mapping.len), run);
    this.mem = run.u8;
    this.memDv = new DataView(run.u8.buffer, run.u8.byteOffset, run.u8.byteLength);
  }
}
