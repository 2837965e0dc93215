// `npm run bench [-- --smoke] [-- --steady-seconds N]`: speed and memory figures that do not
// belong in unit tests (they would flake on a noisy machine). Runs scripts/bench/main.ts (and
// its echo target, scripts/bench/target.ts, in a process of its own) through tsx with
// --expose-gc; it writes bench/results/<date>-<host>.json and .md.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const result = spawnSync(
  process.execPath,
  ['--expose-gc', '--import', 'tsx', path.join(root, 'scripts', 'bench', 'main.ts'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
