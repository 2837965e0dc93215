// `npm run bench`: speed and memory figures that do not belong in unit tests (they would flake
// on a noisy machine). Bundles scripts/bench/main.ts with esbuild, runs it with --expose-gc,
// prints a summary and writes test-results/bench-results.json.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'out', 'bench', 'main.js');
await esbuild.build({
  entryPoints: [path.join(root, 'scripts', 'bench', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['playwright-core', 'bufferutil', 'utf-8-validate', 'cpu-features', '*.node'],
});
const result = spawnSync(process.execPath, ['--expose-gc', outfile, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
