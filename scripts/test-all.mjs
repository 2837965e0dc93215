// `npm test`: set-up (works on a fresh clone), type check, build, unit tests, the in-host
// integration suite in every installed VS Code, packaging, and the packaged-VSIX workbench
// tests. Prints each part's result and ends with one line `N passed, N failed`.
// A part that fails without running tests (set-up, type check, build, packaging) counts as
// one failure, so the summary never reads "0 failed" when the exit code says otherwise.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, setupForTests } from './setup.mjs';

const RESULTS_DIR = path.join(ROOT, 'test-results');
const RESULTS_FILE_ENV = 'CODER_SCALETEST_TEST_RESULTS';
const TEST_RUN_TIMEOUT_MS = 25 * 60_000;
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

/** @type {{name: string, passes: number, failures: number, seconds: number, outcome: string}[]} */
const parts = [];

function banner(title) {
  console.log(`\n=== ${title} ===`);
}

/** A step with no test count of its own: ok, or one failure. */
function step(name, command, args) {
  banner(name);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  const ok = result.status === 0;
  parts.push({ name, passes: 0, failures: ok ? 0 : 1, seconds: (Date.now() - started) / 1000, outcome: ok ? 'ok' : 'FAILED' });
  return ok;
}

/** A test run that writes a results file (test/support/resultsReporter.ts) for us to count. */
function testRun(name, resultsFile, command, args) {
  banner(name);
  const started = Date.now();
  fs.rmSync(resultsFile, { force: true });
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, [RESULTS_FILE_ENV]: resultsFile },
    // A hung run is stopped with SIGTERM, on which the harness kills its code-server and browser.
    timeout: TEST_RUN_TIMEOUT_MS,
    killSignal: 'SIGTERM',
  });
  const seconds = (Date.now() - started) / 1000;
  let counts = { passes: 0, failures: 0 };
  try {
    counts = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    // No results at all: the run crashed before or while reporting.
  }
  // A run that exits non-zero, or runs nothing, must not pass on its counts alone.
  const ranNothing = counts.passes + counts.failures === 0;
  const unexplainedExit = result.status !== 0 && counts.failures === 0;
  const failures = counts.failures + (ranNothing || unexplainedExit ? 1 : 0);
  const outcome = `${counts.passes} passed, ${counts.failures} failed${ranNothing ? ' (ran no tests)' : unexplainedExit ? ` (exited with ${result.status ?? result.signal})` : ''}`;
  parts.push({ name, passes: counts.passes, failures, seconds, outcome });
}

function main() {
  const started = Date.now();
  banner('set-up');
  let routes;
  try {
    routes = setupForTests();
  } catch (error) {
    console.error(`[setup] failed: ${error instanceof Error ? error.message : String(error)}`);
    console.log('\n0 passed, 1 failed');
    return 1;
  }

  step('type check (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', '.']);
  step('lint (eslint)', bin('eslint'), ['.']);
  step('format (prettier --check)', bin('prettier'), ['--check', '.']);
  const built = step('build (esbuild)', process.execPath, ['esbuild.mjs']);
  testRun('unit tests', path.join(RESULTS_DIR, 'unit', 'results.json'), bin('mocha'), ['--reporter', 'test/support/resultsReporter.ts']);
  // The tier that starts the simulator, servers, child processes or Chromium (test/sim).
  testRun('simulator tests', path.join(RESULTS_DIR, 'sim', 'results.json'), bin('mocha'), [
    '--config',
    'test/sim/.mocharc.json',
    '--reporter',
    'test/support/resultsReporter.ts',
  ]);
  // The benchmark is a tool, not a test: its smoke only proves it still runs end to end
  // (no timing is asserted; results go to bench/results/*-smoke.*, ignored by git).
  step('benchmark smoke (npm run bench -- --smoke)', process.execPath, ['scripts/bench.mjs', '--smoke']);
  // The fault matrix runs the built CLI (dist/cli.js) against the simulated deployment.
  if (built)
    testRun('fault matrix', path.join(RESULTS_DIR, 'faults', 'results.json'), bin('mocha'), [
      '--config',
      'test/faults/.mocharc.json',
      '--reporter',
      'test/support/resultsReporter.ts',
    ]);
  // k8s run against MockKubernetesApi: the built CLI (the Kubernetes client runs bundled only).
  if (built)
    testRun('k8s run (mock Kubernetes API)', path.join(RESULTS_DIR, 'k8s', 'results.json'), bin('mocha'), [
      '--config',
      'test/k8s/.mocharc.json',
      '--reporter',
      'test/support/resultsReporter.ts',
    ]);
  if (built) {
    for (const route of routes) {
      testRun(
        `integration tests in VS Code ${route.vscode} (${route.name})`,
        path.join(RESULTS_DIR, `integration-${route.name}`, 'results.json'),
        process.execPath,
        ['--import', 'tsx', 'test/integration/runSuite.ts', route.name],
      );
    }
  }
  // Packaging rebuilds dist/ for production, so it comes after the suites that use the dev build.
  if (step('package (vsce)', process.execPath, ['scripts/package.mjs'])) {
    testRun('packaged VSIX in the workbench', path.join(RESULTS_DIR, 'workbench', 'results.json'), bin('mocha'), [
      '--no-config',
      '--require',
      'tsx/cjs',
      '--reporter',
      'test/support/resultsReporter.ts',
      '--timeout',
      '300000',
      'test/integration/workbench/*.test.ts',
    ]);
  }

  banner(`results (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  for (const part of parts) {
    console.log(`${part.failures > 0 ? '✘' : '✔'} ${part.name}: ${part.outcome} [${part.seconds.toFixed(1)} s]`);
  }
  const passed = parts.reduce((sum, part) => sum + part.passes, 0);
  const failed = parts.reduce((sum, part) => sum + part.failures, 0);
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
