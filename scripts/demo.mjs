// `npm run demo [-- args]`: set-up on a fresh clone (npm ci, Debian's Chromium for the
// dashboard stage), build, then `node dist/cli.js demo args…` with its exit code.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { CHROMIUM_PATH, ROOT, ensureAptPackages, ensureNodeModules, run } from './setup.mjs';

function ensureChromium() {
  if (fs.existsSync(CHROMIUM_PATH)) return;
  try {
    ensureAptPackages(['chromium']);
  } catch (error) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}, and it cannot be installed here (${error instanceof Error ? error.message : String(error)}). ` +
        'The dashboard stage drives a Chromium: install one (Debian/Ubuntu: apt-get install chromium) ' +
        'and, if it is not /usr/bin/chromium, set CODER_SCALETEST_CHROMIUM to its path.',
    );
  }
}

try {
  ensureNodeModules();
  ensureChromium();
  run(process.execPath, ['esbuild.mjs']);
} catch (error) {
  console.error(`[demo] set-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const demo = spawnSync(process.execPath, ['dist/cli.js', 'demo', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
process.exit(demo.status ?? 1);
