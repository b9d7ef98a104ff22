// host: the emulated Hyper-V host (issue 4): NetVSP per synthetic NIC (coordinator + queue
// workers), the virtual switch, host profiles. Imports core, wire, packet and vmbus only.
// Start with docs/host.md.
export * from './profiles.js';
export * from './counters.js';
export * from './hyperv-host.js';
export * from './host-nic.js';
export * from './vswitch/port.js';
export * from './vswitch/vswitch.js';
export { Coordinator, NVSP_VERSIONS, type NvspState } from './netvsp/coordinator.js';
export { recvSectionSize, CONTROL_RESERVE_SECTIONS, controlReserve } from './netvsp/recv-buffer.js';
export type { RndisState } from './netvsp/control.js';
export { HostVf, HOST_VF_DEFAULTS, type HostVfOptions, type HostVfEvent, type VfNicLink } from './vf/host-vf.js';
export type { VfHardware, VfFrameHandler, VfLoss } from './vf/vf-hardware.js';
export type { HostVfState, VfStateKind } from './vf/vf-state.js';
export { HOST_VF_COUNTER_NAMES, type HostVfCounterName } from './vf/counters.js';
