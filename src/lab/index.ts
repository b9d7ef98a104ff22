// lab: assembles a host, VMs and their backends and runs them (STYLE §2): topology (host in one
// worker, each VM in its own, or all in one thread, pumped), app ports, traffic apps, and the
// scenario format in scenario/. Imports core, wire, packet, vmbus, host, guest, io. Start with
// docs/lab.md, then topology.ts.
export { Lab } from './topology.js';
export { LabVm, LabNic, type LabNicStats, type TrafficApp } from './lab-vm.js';
export type { LabMode, LabOptions, NicOptions, VmOptions } from './config.js';
export type { NicInfo, NicSwitches } from './nic-driver.js';
export type { GuestNicStats } from './vm-runtime.js';
export type { GeneratorReport } from './traffic/generator.js';
export type { SinkReport } from './traffic/sink.js';
export type { GeneratorOptions, SinkSpec, TrafficFamily, TrafficProtocol } from './traffic/spec.js';
export { recordsPerSend } from './traffic/spec.js';
export { PAYLOAD_HEADER_LEN, patternByte } from './traffic/payload.js';
export { APP_PORT_RING_BYTES } from './app-port.js';
export * from './scenario/index.js';
export { ScenarioRun, runScenario, type RunOptions } from './scenario-runner.js';
export type { EventResult, FlowResult, NicSample, RunSample, ScenarioResult } from './run/results.js';
export type { NicSnapshot, QueueSnapshot } from './run/nic-snapshot.js';
export { labControlHandler } from './control-handler.js';
export { CAPTURE_LAYERS, type CaptureLayer, type NicCaptureOptions, type TraceRecord } from './capture/index.js';
