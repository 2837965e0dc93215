// The extension's activation time in a real VS Code: code-server driven in Chromium, started by
// the integration tests' harness (test/integration/harness.ts), beside an empty extension
// (`activate() {}`, generated here) activated the same way in the same VS Code.
//
// How: each window is a new page load, hence a new extension host where nothing of ours is
// active yet. It loads one development extension (ours, or the empty one: one per window,
// because code-server keeps only the last `extensionDevelopmentPath` of a test payload) and a
// tiny test index that, from inside the extension host, times
// `await vscode.extensions.getExtension(id).activate()`. That call is what VS Code does on an
// activation event: load the extension's code, build its context, call `activate` and await
// what it returns (VS Code's own codeLoading + activateCall + activateResolved). Only the
// public API is used, so it reads the same on every VS Code version; VS Code's own figures go
// to telemetry and the Running Extensions view, neither readable here, and the exthost log
// names activations without their times. The two kinds of window alternate, so drift of the
// machine's load hits both alike.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { format } from 'util';
import { ROOT, WorkbenchSession, readRoutes } from '../../test/integration/harness';

const EXTENSION_ID = 'coder-scaletest.coder-scaletest';
const EMPTY_ID = 'coder-scaletest-bench.empty-extension';
const LINE_PREFIX = '[coder-scaletest-activation]';
const WINDOW_TIMEOUT_MS = 60_000;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export type ActivationFigures =
  | { skipped: string }
  | {
      vscode: string;
      route: string;
      bundle: 'production' | 'development';
      windows: number;
      /** `loadMedianMs`: of the whole, loading the code and building the context (VS Code's mark, where it has one). */
      ours: { medianMs: number; maxMs: number; samplesMs: number[]; loadMedianMs?: number };
      empty: { medianMs: number; maxMs: number; samplesMs: number[]; loadMedianMs?: number };
    };

/** A package.json plus an `activate` that does nothing. */
function writeEmptyExtension(dir: string, id: string): void {
  const [publisher, name] = id.split('.');
  fs.mkdirSync(dir, { recursive: true });
  const manifest = { name, publisher, version: '0.0.0', engines: { vscode: '^1.100.0' }, main: './extension.js', activationEvents: [] };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(dir, 'extension.js'), 'exports.activate = function () {};\nexports.deactivate = function () {};\n');
}

/**
 * Runs in the extension host (extensionTestsPath). It first waits until the set of active
 * extensions has not changed for a second: the workbench's own start-up activations (built-in
 * extensions on `*` or `onStartupFinished`) would otherwise run beside the timed one, and
 * having run, they have paid whatever the host does once on a first activation.
 */
function testIndexSource(id: string): string {
  return `const vscode = require('vscode');
const { performance } = require('perf_hooks');
const report = (line) => console.log(${JSON.stringify(LINE_PREFIX)} + ' ' + JSON.stringify(line));
exports.run = async function () {
  let active = '';
  let quietSince = Date.now();
  for (const started = Date.now(); Date.now() - quietSince < 1000 && Date.now() - started < 10000; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = vscode.extensions.all.filter((e) => e.isActive).map((e) => e.id).sort().join(',');
    if (now !== active) { active = now; quietSince = Date.now(); }
  }
  const id = ${JSON.stringify(id)};
  const extension = vscode.extensions.getExtension(id);
  if (!extension) throw new Error(id + ' is not loaded in this window');
  if (extension.isActive) throw new Error(id + ' was already active: its time cannot be measured');
  const startedAt = Date.now();
  const start = performance.now();
  await extension.activate();
  const ms = performance.now() - start;
  // VS Code's own mark (ms since the epoch) between loading the code and context and calling
  // activate: internal (globalThis.MonacoPerformanceMarks), so left out where it is missing.
  const marks = globalThis.MonacoPerformanceMarks ? globalThis.MonacoPerformanceMarks.getMarks() : [];
  const called = marks.filter((mark) => mark.name === 'code/extHost/willActivateExtension/' + id).pop();
  const loadMs = called && called.startTime >= startedAt ? called.startTime - startedAt : undefined;
  report({ id, ms, loadMs, vscode: vscode.version, activeBefore: active.split(',').filter(Boolean).length });
};
`;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function summary(samples: number[], loads: number[]) {
  return {
    medianMs: round(median(samples)),
    maxMs: round(Math.max(...samples)),
    samplesMs: samples.map((ms) => round(ms)),
    ...(loads.length === samples.length ? { loadMedianMs: round(median(loads)) } : {}),
  };
}

/** dist/extension.js as it is (production after `npm run package`, development after `npm run build`); built if missing. */
function ensureBundle(): 'production' | 'development' {
  const bundle = path.join(ROOT, 'dist', 'extension.js');
  if (!fs.existsSync(bundle)) {
    const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (built.status !== 0) throw new Error('`node esbuild.mjs` failed');
  }
  // esbuild.mjs writes source maps for development builds only.
  return fs.readFileSync(bundle, 'utf8').trimEnd().endsWith('.js.map') ? 'development' : 'production';
}

/** Median and max over 5 fresh windows each (1 in the smoke; fewer if time runs out) of ours and of the empty extension. */
export async function activationTime(smoke: boolean): Promise<ActivationFigures> {
  let routes;
  try {
    routes = readRoutes();
  } catch {
    return { skipped: 'run `node scripts/setup.mjs` (npm test does it) to install code-server' };
  }
  // The newest VS Code installed: the one most users run.
  const route = routes.find((candidate) => candidate.name === 'latest') ?? routes[routes.length - 1];
  if (!route) return { skipped: '.cache/vscode-routes.json lists no VS Code: run `node scripts/setup.mjs`' };
  const bundle = ensureBundle();
  // On a loaded machine a window takes seconds: after the budget no new pair of windows
  // starts, so the figure comes with the windows it has (at least one pair) rather than none.
  const wantedPairs = smoke ? 1 : 5;
  const deadline = Date.now() + (smoke ? 40_000 : 80_000);
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coder-scaletest-activation-'));
  let session: WorkbenchSession | undefined;
  try {
    const emptyDir = path.join(tempDir, 'empty-extension');
    writeEmptyExtension(emptyDir, EMPTY_ID);
    // Outside both extensions, so its `require('vscode')` is the same in both windows.
    const extensions = [
      { id: EMPTY_ID, dir: emptyDir, index: path.join(tempDir, 'timeEmpty.js') },
      { id: EXTENSION_ID, dir: ROOT, index: path.join(tempDir, 'timeOurs.js') },
    ];
    for (const { id, index } of extensions) fs.writeFileSync(index, testIndexSource(id));

    session = await WorkbenchSession.start({ route, outputName: 'bench-activation' });
    const { page } = session;
    const outputDir = session.outputDir;
    // One window at a time: its reported line and its exit code go to the current listener.
    let onLine: (line: Record<string, unknown>) => void = () => {};
    let onExit: (code: number) => void = () => {};
    const workbenchLog = fs.createWriteStream(path.join(outputDir, 'workbench.log'));
    await page.exposeFunction('codeAutomationExit', (code: number) => onExit(code));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = format(...args);
      const at = line.indexOf(LINE_PREFIX);
      if (at >= 0) onLine(JSON.parse(line.slice(at + LINE_PREFIX.length)) as Record<string, unknown>);
      workbenchLog.write(`[${type}] ${line}\n`);
    });
    const samples: Record<string, number[]> = { [EMPTY_ID]: [], [EXTENSION_ID]: [] };
    const loads: Record<string, number[]> = { [EMPTY_ID]: [], [EXTENSION_ID]: [] };
    let version = route.vscode;
    try {
      for (let pair = 0; pair < wantedPairs && (pair === 0 || Date.now() < deadline); pair++) {
        for (const { id, dir, index } of pair % 2 ? [...extensions].reverse() : extensions) {
          let timed: number | undefined;
          let loaded: number | undefined;
          let timer: NodeJS.Timeout | undefined;
          const exited = new Promise<number>((resolve, reject) => {
            onExit = resolve;
            timer = setTimeout(
              () =>
                reject(new Error(`the window timing ${id} did not finish within ${WINDOW_TIMEOUT_MS} ms (see ${outputDir}/workbench.log)`)),
              WINDOW_TIMEOUT_MS,
            );
          });
          onLine = (line) => {
            if (line.id === id && typeof line.ms === 'number') timed = line.ms;
            if (line.id === id && typeof line.loadMs === 'number') loaded = line.loadMs;
            if (typeof line.vscode === 'string') version = line.vscode;
          };
          let code: number;
          try {
            await page.goto(
              session.workbenchUrl([
                ['extensionDevelopmentPath', session.remoteUri(dir)],
                ['extensionTestsPath', session.remoteUri(index)],
                ['skipWelcome', 'true'],
              ]),
            );
            code = await exited;
          } finally {
            clearTimeout(timer);
          }
          if (timed === undefined)
            throw new Error(`the window timing ${id} exited with ${code} without a time (see ${outputDir}/workbench.log)`);
          samples[id].push(timed);
          if (loaded !== undefined) loads[id].push(loaded);
        }
      }
    } finally {
      workbenchLog.end();
    }
    return {
      vscode: version,
      route: route.name,
      bundle,
      windows: samples[EXTENSION_ID].length,
      ours: summary(samples[EXTENSION_ID], loads[EXTENSION_ID]),
      empty: summary(samples[EMPTY_ID], loads[EMPTY_ID]),
    };
  } catch (error) {
    return { skipped: `failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await session?.dispose();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}
