// cli/control: the local control socket (JSON lines over a unix socket) between `netvsc`
// commands and a running instance. The lab serves it with ControlServer.listen(path, handler);
// commands call it with callControl(). protocol.ts is the API; docs/cli.md shows the shapes.
export * from './protocol.js';
export { ControlServer, type ControlServerOptions } from './server.js';
export { ControlError, DEFAULT_TIMEOUT_MS, NoInstanceError, callControl, type ControlCallOptions } from './client.js';
export { DEFAULT_INSTANCE, controlSocketPath } from './socket-path.js';
export { CONTROL_OPS, readRequest } from './read-request.js';
