import {
  RNDIS_STATUS_LINK_SPEED_CHANGE,
  RNDIS_STATUS_MEDIA_CONNECT,
  RNDIS_STATUS_MEDIA_DISCONNECT,
  RNDIS_STATUS_NETWORK_CHANGE,
} from '../../wire/index.js';
import type { Clock } from '../../core/index.js';
import type { GuestCounters } from './counters.js';

/** LINKCHANGE_INT: the down/up a NETWORK_CHANGE simulates lasts 2 s (§6.7). */
export const NETWORK_CHANGE_DOWN_MS = 2000;

/**
 * Link state from RNDIS INDICATE messages (protocol.md §5.7, §6.7, §8 item 51). Linux queues
 * events to a worker rate-limited to one per 2 s; we apply them at once, except that
 * NETWORK_CHANGE still means "down now, up 2 s later" on the injected Clock.
 */
export class LinkState {
  up = false;
  /** Mbps, from OID_GEN_LINK_SPEED or LINK_SPEED_CHANGE (value / 10000); 0 = unknown. */
  speedMbps = 0;
  onChange: (up: boolean) => void = () => {};
  private cancelUp: (() => void) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly counters: GuestCounters,
  ) {}

  set(up: boolean): void {
    this.cancelUp?.();
    this.cancelUp = null;
    if (this.up === up) return;
    this.up = up;
    this.counters.inc('link_changes');
    this.onChange(up);
  }

  /**
   * An INDICATE range: the header fields are read from the range itself, and the status buffer is
   * checked against the range length rather than msg_len (old vSwitches left it out of msg_len, §5.7).
   */
  indicate(dv: DataView, at: number, rangeLen: number, msgLen: number): boolean {
    if (msgLen - 8 < 12) {
      this.counters.inc('indicate_bad');
      return true; // ignored, not a failure of the range (§8 item 51)
    }
    const status = dv.getUint32(at + 8, true);
    switch (status) {
      case RNDIS_STATUS_MEDIA_CONNECT:
        this.set(true);
        return true;
      case RNDIS_STATUS_MEDIA_DISCONNECT:
        this.set(false);
        return true;
      case RNDIS_STATUS_NETWORK_CHANGE:
        if (this.up) {
          this.set(false);
          this.cancelUp = this.clock.after(NETWORK_CHANGE_DOWN_MS, () => {
            this.cancelUp = null;
            this.set(true);
          });
        }
        return true;
      case RNDIS_STATUS_LINK_SPEED_CHANGE: {
        const len = dv.getUint32(at + 12, true);
        const off = dv.getUint32(at + 16, true);
        if (len < 4 || off < 12 || 8 + off + 4 > rangeLen) {
          this.counters.inc('indicate_bad');
          return true;
        }
        this.speedMbps = dv.getUint32(at + 8 + off, true) / 10000;
        return true;
      }
      default:
        this.counters.inc('indicate_ignored');
        return true;
    }
  }

  stop(): void {
    this.cancelUp?.();
    this.cancelUp = null;
  }
}
