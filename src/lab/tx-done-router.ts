/**
 * One NIC's in-place transmit completions (Contract A, docs/guest.md): the driver's onTxDone is this
 * router's `route` for the NIC's whole life, re-probes included, and each owner of in-place buffers
 * registers itself here — the TAP arena (tokens below GEN_TOKEN_BASE: a frame's number mod 2^29,
 * TxArena) and the generators' slots (tokens ≥ GEN_TOKEN_BASE). Before, each owner wrapped whatever onTxDone the driver had when its mapping
 * finished, so a re-probe during that await left the new driver without the routing.
 */
import type { TxArena } from './tap/tx-arena.js';
import { GEN_TOKEN_BASE, type GenTxSlots } from './traffic/tx-slots.js';

export class TxDoneRouter {
  arena: TxArena | null = null;
  slots: GenTxSlots | null = null;
  /** Completions a retired (re-probed away) driver made after its close: ignored. */
  stale = 0;
  /** Arena records a retired driver never returned: freed when it was retired (its channel is closed). */
  missing = 0;
  /** The same for generator slots (GenTxSlots.abandonInFlight). */
  missingSlots = 0;

  /** A retired driver's onTxDone: counts, frees nothing. */
  readonly retired = (_token: number): void => {
    this.stale++;
  };

  /**
   * Re-probe: `old` is closed (its teardown handed back what it held, Contract A), so from now on
   * nothing it reports frees a record or slot, and whatever arena record or generator slot is
   * still in flight was its (the new driver has sent nothing yet) and is freed. Call before the new
   * driver sends.
   */
  retire(old: { onTxDone: (token: number) => void }): void {
    old.onTxDone = this.retired;
    this.missing += this.arena?.abandonInFlight() ?? 0;
    this.missingSlots += this.slots?.abandonInFlight() ?? 0;
  }

  /** The driver's onTxDone. A token no owner holds is ignored (the driver counts stale completions). */
  readonly route = (token: number): void => {
    if (token >= GEN_TOKEN_BASE) this.slots?.done(token);
    else this.arena?.done(token);
  };
}
