// guest/netvsc: the Hyper-V synthetic NIC driver (protocol.md §3–8). Start at docs/guest.md.
export { NetvscDevice, type NetvscOptions, type DeviceState } from './device.js';
export { NVSP_VERSIONS } from './attach.js';
export { GUEST_COUNTER_NAMES, type GuestCounterName } from './counters.js';
export type { EthtoolView } from './ethtool.js';
export type { VfAssociation } from './inband.js';
export * from './meta.js';
export { SendSections } from './send-sections.js';
export { XMIT_BUSY, XMIT_COPIED, XMIT_IN_PLACE } from './tx.js';
export { VfFailover, VF_FAILOVER_COUNTER_NAMES, VF_TX_BUSY, VF_TX_TAKEN, VF_TX_UNUSED, type FailoverHost, type VfUserEvent } from './vf-failover.js';
export type { VfNetdev, VfNetdevEvent, VfRxHandler } from './vf-netdev.js';
export type { GuestDataPath } from './vf-path.js';
