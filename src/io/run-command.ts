/**
 * Runs a system command (ip, ping, iperf3) without a shell and without blocking the event loop:
 * a TAP port in this process must keep answering while `ping` runs.
 */
import { execFile } from 'node:child_process';
import { ResourceError } from '../core/index.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv[0] with argv[1..]; resolves with the exit code (never rejects on a non-zero exit). */
export function runCommand(argv: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new ResourceError('BAD_CONFIG', 'empty command');
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        // Not an exit status: the command did not start, or it was killed by the timeout.
        if (err.killed) reject(new ResourceError('TIMEOUT', `${argv.join(' ')} ran longer than ${timeoutMs} ms`));
        else reject(new ResourceError('BAD_CONFIG', `${file} could not run: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed; throws ResourceError with its stderr otherwise. */
export async function mustRun(argv: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await runCommand(argv, timeoutMs);
  if (r.code !== 0) throw new ResourceError('BAD_CONFIG', `${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
