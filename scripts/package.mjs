// `npm run package`: production bundles → dist/coder-scaletest.vsix, then checks what went in.
//
// playwright-core stays outside the bundles (it loads its own files at run time) but the
// dashboard stage needs it. vsce never packs the top-level node_modules/ with
// --no-dependencies, so a copy goes to dist/node_modules/, where Node's lookup from
// dist/extension.js and dist/cli.js finds it first.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, run } from './setup.mjs';

const VSIX_PATH = path.join(ROOT, 'dist', 'coder-scaletest.vsix');
const VSCE = path.join(ROOT, 'node_modules', '.bin', 'vsce');
const VSCE_ARGS = ['--no-dependencies'];

/** Files that must never be in the VSIX: sources, tests, source maps. */
function forbiddenPackageFiles(files) {
  return files.filter(
    (file) => /\.ts$/.test(file) || /\.map$/.test(file) || /^(src|test|webview|scripts)\//.test(file) || /\.test\.js$/.test(file),
  );
}

/** The files vsce packs, as paths relative to the extension root. */
function listPackageFiles() {
  const result = spawnSync(VSCE, ['ls', ...VSCE_ARGS], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`vsce ls failed: ${result.stderr}`);
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function main() {
  run(process.execPath, ['esbuild.mjs', '--production']);
  const vendored = path.join(ROOT, 'dist', 'node_modules', 'playwright-core');
  fs.rmSync(vendored, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'node_modules', 'playwright-core'), vendored, { recursive: true });

  const files = listPackageFiles();
  const forbidden = forbiddenPackageFiles(files);
  if (forbidden.length > 0) {
    throw new Error(`the VSIX would contain sources, tests or maps (fix .vscodeignore): ${forbidden.slice(0, 20).join(', ')}`);
  }
  for (const required of [
    'package.json',
    'dist/extension.js',
    // Required by the extension on first use of the engine (src/vscode/engineModule.ts).
    'dist/engineBackend.js',
    'dist/webview.js',
    'dist/cli.js',
    'dist/node_modules/playwright-core/package.json',
    // `template push` and *Push Scale-Test Template* read them beside dist/.
    'templates/kubernetes/main.tf',
    'templates/docker/main.tf',
  ]) {
    if (!files.includes(required)) throw new Error(`the VSIX would lack ${required}`);
  }
  // stdin closed: vsce must never wait for an answer (CI has no terminal).
  run(VSCE, ['package', ...VSCE_ARGS, '--allow-missing-repository', '--out', VSIX_PATH], { stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`[package] ${path.relative(ROOT, VSIX_PATH)}: ${files.length} files, ${(fs.statSync(VSIX_PATH).size / 1e6).toFixed(1)} MB`);
}

try {
  main();
} catch (error) {
  console.error(`[package] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
