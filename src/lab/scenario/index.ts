// lab/scenario: the scenario file format (docs/scenarios.md): types, validation with errors
// that name the field, and the NicChange shape shared with the control socket. Imports core
// and host (profile names). Start with types.ts, then validate-scenario.ts.
export type {
  FlowExpect,
  FlowRate,
  FlowSpec,
  HostOverrides,
  HostSpec,
  NicSpec,
  ScenarioEvent,
  ScenarioSpec,
  VlanPort,
  VmSpec,
} from './types.js';
export { CAPTURE_LAYER_NAMES, type CaptureLayerName, type NicCapture } from './types.js';
export { FEATURE_ALIASES, FEATURE_NAMES, type FeatureName, featureName } from './features.js';
export {
  FLOW_TYPES,
  type FlowType,
  type HashFields,
  NIC_CHANGE_ACTIONS,
  NIC_LIMITS,
  type NicChange,
  type NicChangeAction,
  readHkey,
  readNicChange,
} from './nic-change.js';
export { Issues } from './fields.js';
export { ScenarioError, validateScenario } from './validate-scenario.js';
export { loadScenario, parseScenario } from './load-scenario.js';
