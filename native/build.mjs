// Install-time build of the TAP addon (package.json "install"). It must never fail `npm ci`:
// without the addon everything except the TAP commands works, and those print why (src/io/tap/addon.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const skip = (why) => {
  console.log(`netvsc: TAP addon not built (${why}); TAP commands unavailable`);
  process.exit(0);
};

if (process.platform !== 'linux') skip(`TAP needs Linux, this is ${process.platform}`);
const hasCc = ['cc', 'gcc', 'clang'].some((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!hasCc) skip('no C compiler (cc/gcc/clang) on PATH');
// node-gyp downloads headers unless nodedir points at installed ones; we never want a download at install.
const nodedir = process.env.npm_config_nodedir ?? '/usr';
if (!existsSync(`${nodedir}/include/node/node_api.h`)) skip(`no Node headers under ${nodedir}/include/node`);

const r = spawnSync('node-gyp', ['rebuild', '--directory', here, `--nodedir=${nodedir}`], { encoding: 'utf8' });
if (r.error) skip(`node-gyp did not start: ${r.error.message}`);
if (r.status !== 0) {
  const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-8).join('\n');
  console.log(tail);
  skip(`node-gyp exited with ${r.status}`);
}
console.log('netvsc: TAP addon built (native/build/Release/tap.node)');
