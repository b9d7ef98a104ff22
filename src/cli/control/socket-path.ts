/**
 * Where an instance's control socket lives: `$NETVSC_SOCKET` if set, else
 * `$XDG_RUNTIME_DIR/netvsc/<instance>.sock`, else `/run/netvsc/<instance>.sock` for root, else
 * `<tmpdir>/netvsc-<uid>/<instance>.sock`. Per-user directories keep users' instances apart.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/index.js';

export const DEFAULT_INSTANCE = 'default';
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface SocketPathEnv {
  readonly NETVSC_SOCKET?: string | undefined;
  readonly XDG_RUNTIME_DIR?: string | undefined;
}

export function checkSocketPath(path: string): string {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new ConfigError('BAD_CONFIG', `socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes (the unix socket limit)`);
  }
  return path;
}

/**
 * The socket path for an instance name.
 * @example controlSocketPath('lab1', { XDG_RUNTIME_DIR: '/run/user/1000' }) === '/run/user/1000/netvsc/lab1.sock'
 */
export function controlSocketPath(instance: string = DEFAULT_INSTANCE, env: SocketPathEnv = process.env, uid: number = process.getuid?.() ?? 0): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(instance) || instance.startsWith('.')) {
    throw new ConfigError('BAD_CONFIG', `--instance: "${instance}" must be 1..64 letters, digits, _ . - (not starting with .)`);
  }
  if (env.NETVSC_SOCKET) return checkSocketPath(env.NETVSC_SOCKET);
  const dir = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'netvsc') : uid === 0 ? '/run/netvsc' : join(tmpdir(), `netvsc-${uid}`);
  return checkSocketPath(join(dir, `${instance}.sock`));
}
