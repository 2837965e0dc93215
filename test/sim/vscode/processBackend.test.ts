// The extension's process model without VS Code: the simulated deployment and the run each
// in a child process (dist/cli.js's runner mode, here its TypeScript source through tsx),
// stopping through the runner's own abort path, and a killed runner reported with its reason.
import * as assert from 'assert';
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CoderClient } from '../../../src/coder/client';
import { defaultPlan } from '../../../src/engine/plan/plan';
import { RUNNER_MODE_ARG, type RunnerToHost } from '../../../src/protocol/runner';
import type { LogLevel, RunningTest, SimDeploymentHandle } from '../../../src/vscode/backend';
import { createEngineBackend } from '../../../src/vscode/engineBackend';
import { createProcessBackend, RunnerExitedError, startRunInChild, type RunnerEntry } from '../../../src/vscode/processBackend';
import { leftovers, tempDir } from '../../support/simRun';

const ENTRY: RunnerEntry = { modulePath: path.resolve(__dirname, '../../../src/cli/main.ts'), execArgv: ['--import', 'tsx'] };

function ptyOnlyPlan(users: number): string {
  const plan = defaultPlan();
  plan.users = users;
  plan.timeline.slotSeconds = 2;
  plan.concurrency = { prepare: 4, cleanup: 4 };
  plan.traffic.ssh.enabled = false;
  plan.traffic.apps.enabled = false;
  plan.traffic.dashboard.enabled = false;
  plan.cleanup.strategy = 'always';
  return JSON.stringify(plan);
}

/** A runner forked by hand, to play a host that misbehaves. */
function forkRunner(): {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  messages: RunnerToHost[];
} {
  const child = fork(ENTRY.modulePath, [RUNNER_MODE_ARG], { execArgv: ENTRY.execArgv, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  const messages: RunnerToHost[] = [];
  child.on('message', (message) => messages.push(message as RunnerToHost));
  return { child, messages, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))) };
}

function untilRunning(test: RunningTest): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = test.subscribe((snapshot) => {
      if (snapshot.status === 'running') {
        unsubscribe();
        resolve();
      }
    });
  });
}

describe('VS Code process backend: runs and the simulated deployment outside the extension host', function () {
  this.timeout(120_000);
  let sim: SimDeploymentHandle;
  let out: string;
  const logs: string[] = [];
  const log = (level: LogLevel, line: string) => void logs.push(`${level}: ${line}`);

  before(async () => {
    sim = await createProcessBackend(ENTRY).startSimDeployment();
    out = tempDir();
  });

  after(async () => {
    await sim?.close();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('serves the simulated deployment from its own process', async () => {
    assert.ok(sim.pid && sim.pid !== process.pid, `sim pid ${sim.pid}`);
    const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
    try {
      assert.strictEqual((await owner.me()).email, sim.ownerEmail);
    } finally {
      owner.close();
    }
  });

  it('runs in another process; Stop takes the abort path and leaves nothing on the deployment', async () => {
    const abort = new AbortController();
    const test = await startRunInChild(ENTRY, {
      planText: ptyOnlyPlan(2),
      planSource: 'stop.scaletest.json',
      connection: { url: sim.url, token: sim.ownerToken },
      outDir: out,
      signal: abort.signal,
      log,
    });
    assert.ok(test.runnerPid && test.runnerPid !== process.pid && test.runnerPid !== sim.pid, `runner pid ${test.runnerPid}`);
    await untilRunning(test);
    // The token reached the runner over IPC only: not its command line, not its environment.
    for (const view of ['cmdline', 'environ']) {
      assert.ok(
        !fs.readFileSync(`/proc/${test.runnerPid}/${view}`, 'latin1').includes(sim.ownerToken),
        `the runner's ${view} holds the token`,
      );
    }
    assert.strictEqual((await leftovers(sim)).users.length, 2, 'the run has not created its users');
    abort.abort();
    const outcome = await test.done;
    assert.strictEqual(outcome.snapshot.status, 'aborted');
    assert.ok(outcome.reportDir && fs.existsSync(path.join(outcome.reportDir, 'report.json')), 'no partial report');
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    assert.ok(
      logs.some((line) => line.includes('[prepare]')),
      'no stage log lines arrived',
    );
    for (const line of logs) assert.ok(!line.includes(sim.ownerToken), `a log line has the token: ${line}`);
  });

  it('reports a runner that dies with its exit reason; its leftovers are cleaned up by run id', async () => {
    const test = await startRunInChild(ENTRY, {
      planText: ptyOnlyPlan(1),
      planSource: 'killed.scaletest.json',
      connection: { url: sim.url, token: sim.ownerToken },
      outDir: out,
      signal: new AbortController().signal,
      log,
    });
    await untilRunning(test);
    process.kill(test.runnerPid!, 'SIGKILL');
    const error = await test.done.then(
      () => assert.fail('the run of a killed runner resolved'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof RunnerExitedError, String(error));
    assert.match(error.message, new RegExp(`runner \\(run ${test.runId}\\) process was killed by SIGKILL`));
    assert.ok(!error.message.includes(sim.ownerToken));
    assert.strictEqual((await leftovers(sim)).users.length, 1, 'a killed runner could not clean up: its user is the leftover');
    const summary = await createEngineBackend().cleanupRun({ runId: test.runId, connection: { url: sim.url, token: sim.ownerToken }, log });
    assert.match(summary, /deleted 1 of 1 workspace\(s\) and 1 of 1 user\(s\)\.$/);
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
  });

  it('refuses an invalid plan with every problem, before any traffic', async () => {
    const plan = JSON.parse(ptyOnlyPlan(1));
    plan.users = 0;
    await assert.rejects(
      startRunInChild(ENTRY, {
        planText: JSON.stringify(plan),
        planSource: 'bad.scaletest.json',
        connection: { url: sim.url, token: sim.ownerToken },
        outDir: out,
        signal: new AbortController().signal,
        log,
      }),
      /users/,
    );
  });

  it('a runner whose host goes away (window closed) stops the run, cleans up and exits', async () => {
    const { child, exited, messages } = forkRunner();
    child.send({
      v: 1,
      type: 'startRun',
      planText: ptyOnlyPlan(1),
      planSource: 'orphan.scaletest.json',
      connection: { url: sim.url, token: sim.ownerToken },
      outDir: out,
    });
    await new Promise<void>((resolve) =>
      child.on('message', (message: RunnerToHost) => message.type === 'snapshot' && message.snapshot.status === 'running' && resolve()),
    );
    assert.strictEqual((await leftovers(sim)).users.length, 1);
    child.disconnect();
    assert.deepStrictEqual(await exited, { code: 0, signal: null });
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    assert.ok(messages.some((message) => message.type === 'runStarted'));
  });

  it('answers a message of another protocol version with "failed" and exits 2', async () => {
    const { child, exited, messages } = forkRunner();
    child.send({ v: 2, type: 'startRun' });
    assert.deepStrictEqual(await exited, { code: 2, signal: null });
    assert.deepStrictEqual(messages, [{ v: 1, type: 'failed', message: 'runner protocol mismatch: expected version 1, got 2' }]);
  });
});
