import { isNetvscError } from '../../core/index.js';
import { RNDIS_OID_GEN_CURRENT_PACKET_FILTER } from '../../wire/index.js';
import type { RndisFilter } from './rndis-filter.js';

/**
 * §1.5 close step 2: packet filter 0, so the host places no further frames in the receive buffer
 * (it counts them as filtered instead). The SET_C arrives on the primary after every frame the
 * host wrote before it, so what is left to drain is bounded. A failed or rescinded channel has
 * nothing more to stop: the teardown goes on (§3.7 "revoke failures on a rescinded channel are
 * ignored").
 */
export async function stopReceive(rndis: RndisFilter): Promise<void> {
  try {
    await rndis.set(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, 4, { newFilter: 0 });
  } catch (e) {
    if (!isNetvscError(e)) throw e;
  }
}
