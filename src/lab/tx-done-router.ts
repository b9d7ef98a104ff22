/**
 * One NIC's in-place transmit completions (Contract A, docs/guest.md): the driver's onTxDone is this
 * router's `route` for the NIC's whole life, re-probes included, and each owner of in-place buffers
 * registers itself here — the TAP arena (tokens 0 … records-1) and the generators' slots (tokens
 * ≥ GEN_TOKEN_BASE). Before, each owner wrapped whatever onTxDone the driver had when its mapping
 * finished, so a re-probe during that await left the new driver without the routing.
 */
import type { TxArena } from './tap/tx-arena.js';
import { GEN_TOKEN_BASE, type GenTxSlots } from './traffic/tx-slots.js';

export class TxDoneRouter {
  arena: TxArena | null = null;
  slots: GenTxSlots | null = null;

  /** The driver's onTxDone. A token no owner holds is ignored (the driver counts stale completions). */
  readonly route = (token: number): void => {
    if (token >= GEN_TOKEN_BASE) this.slots?.done(token);
    else this.arena?.done(token);
  };
}
