/**
 * The switch's uplink (issue 7 item 2): an external port backed by a Linux TAP, inside the host
 * worker. Frames the kernel writes to the TAP enter the switch like any port's; frames the switch
 * delivers here go to the kernel. Like a Hyper-V external port it is promiscuous (it takes every
 * frame the switch floods or has learned behind it). The TAP is opened without offloads, so the
 * kernel hands us finished frames and the switch delivers finished frames (segments, never
 * super-frames: takesSuperFrames is not set). No allocation per frame; the TAP's RX worker rings
 * the host's doorbell, so the host loop sleeps on one address.
 */
import { clearFrameMeta, newFrameMeta, type FrameMeta, type FramePort } from '../../core/index.js';
import { PortFrameMeta, type SwitchPort, type SwitchPortHandle } from '../../host/index.js';
import type { Pollable } from '../../vmbus/index.js';
import { NDIS_PACKET_TYPE_PROMISCUOUS } from '../../wire/index.js';

export interface UplinkCounters {
  /** Frames from the kernel sent into the switch. */
  rx_frames: number;
  /** Frames the switch delivered to the kernel. */
  tx_frames: number;
  /** Frames the TAP ring had no room for (the switch counts them as tx_dropped too). */
  tx_ring_full: number;
}

export class UplinkPort implements SwitchPort, Pollable {
  readonly packetFilter = NDIS_PACKET_TYPE_PROMISCUOUS;
  /** An external port has no MAC of its own on the switch; the promiscuous filter ignores it. */
  readonly macNumber = -1;
  readonly counters: UplinkCounters = { rx_frames: 0, tx_frames: 0, tx_ring_full: 0 };
  /** Set once the port is on the switch. */
  handle: SwitchPortHandle | null = null;
  private readonly meta = new PortFrameMeta();
  private readonly toKernel: FrameMeta = newFrameMeta();
  private readonly fromKernel = (b: Uint8Array, off: number, len: number): void => {
    this.counters.rx_frames++;
    this.meta.clear();
    this.handle?.forward(b, off, len, this.meta);
  };

  constructor(
    readonly name: string,
    private readonly port: FramePort,
    private readonly budget = 64,
  ) {
    clearFrameMeta(this.toKernel);
  }

  deliver(bytes: Uint8Array, off: number, len: number): boolean {
    if (!this.port.tryWrite(bytes, off, len, this.toKernel)) {
      this.counters.tx_ring_full++;
      return false;
    }
    this.counters.tx_frames++;
    return true;
  }

  poll(): number {
    return this.port.poll(this.fromKernel, this.budget);
  }

  idle(): number {
    return 0;
  }
}
