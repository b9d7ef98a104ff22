import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Node 20 cannot start a worker from a .ts file (platform.md §3), so workers always start from
 * the compiled JavaScript in dist/. Given `new URL('./x.worker.js', import.meta.url)` from a
 * module that is itself running as TypeScript (under vitest), this maps `<root>/src/.../x.worker.js`
 * to `<root>/dist/src/.../x.worker.js`. Run `npm run build` (npm test does) before starting workers.
 */
export function compiledWorkerUrl(url: URL): URL {
  const path = fileURLToPath(url);
  if (path.includes('/dist/')) return url;
  const mapped = path.replace(/\/(src|test|bench)\//, '/dist/$1/').replace(/\.ts$/, '.js');
  if (!existsSync(mapped)) {
    throw new Error(`compiled worker ${mapped} is missing: run \`npm run build\` first`);
  }
  return pathToFileURL(mapped);
}
