// Faults of the deployment and of the runner's machine: 5xx and 429 bursts in prepare and
// cleanup, dropped connections per stage, failed builds, agents that never connect, a coderd
// restart, a slow API, a failed cleanup, a CPU-burning neighbour, look-alikes, and plans or
// tokens that must be refused before anything is created. Each case asserts the exit code, the
// verdict and the cause named in the report, and zero scale-test resources left afterwards.
import * as assert from 'assert';
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CoderClient } from '../../src/coder/client';
import type { SimDeployment } from '../../src/sim';
import type { FaultsConfig } from '../../src/sim/faults';
import {
  failedThresholds,
  faultPlan,
  leftOnDeployment,
  readReport,
  record,
  runCli,
  scrub,
  startFaultSim,
  tempDir,
  writePlan,
  type CliRun,
} from './harness';

describe('fault matrix: the deployment and the runner', function () {
  this.timeout(180_000);
  let sim: SimDeployment;
  let out: string;
  const burstTimers: NodeJS.Timeout[] = [];
  before(async () => (sim = await startFaultSim()));
  after(async () => sim.close());
  beforeEach(() => (out = tempDir()));
  afterEach(async () => {
    // A burst's end must not reach into the next case and clear its faults.
    burstTimers.splice(0).forEach(clearTimeout);
    sim.setFaults({});
    await scrub(sim);
    fs.rmSync(out, { recursive: true, force: true });
  });

  /** Switches `faults` on when the output matches `trigger`, and off again after `forMs`. */
  async function burst(run: CliRun, trigger: RegExp, faults: FaultsConfig, forMs: number): Promise<void> {
    await run.waitFor(trigger);
    sim.setFaults(faults);
    burstTimers.push(setTimeout(() => sim.setFaults({}), forMs));
  }

  async function expectClean(): Promise<number> {
    const left = await leftOnDeployment(sim);
    assert.deepStrictEqual(left, [], 'nothing left on the deployment');
    return left.length;
  }

  const PREPARE = /\[prepare\] creating 3 users/;
  const CLEANUP = /\[cleanup\] deleting 3 workspaces/;

  for (const [phase, trigger] of [
    ['prepare', PREPARE],
    ['cleanup', CLEANUP],
  ] as const) {
    it(`a burst of 500s during ${phase}: idempotent steps retried, api.errors_5xx fails the run (exit 1), nothing left`, async () => {
      const run = runCli(['run', writePlan(out, faultPlan(sim)), '--out', out], sim);
      await burst(run, trigger, { errorRates: { all: 0.3 } }, 2000);
      const result = await run.done;
      assert.strictEqual(result.code, 1, result.stdout + result.stderr);
      const report = readReport(out, result.runId);
      assert.strictEqual(report.verdict, 'fail');
      assert.ok(failedThresholds(report).includes('api.errors_5xx == 0'), failedThresholds(report).join(', '));
      assert.deepStrictEqual(report.cleanup.leftovers, []);
      const left = await expectClean();
      record({
        fault: `500 burst (30 % of requests, 2 s) during ${phase}`,
        exitCode: result.code,
        verdict: report.verdict,
        reported: `failed: ${failedThresholds(report).join(', ')}`,
        leftBehind: left,
      });
    });

    it(`a burst of 429s with Retry-After during ${phase}: retried after the announced delay, the run passes (exit 0), nothing left`, async () => {
      const run = runCli(['run', writePlan(out, faultPlan(sim)), '--out', out], sim);
      await burst(run, trigger, { rateLimited: { all: { fraction: 0.3, retryAfterSeconds: 1 } } }, 2000);
      const result = await run.done;
      assert.strictEqual(result.code, 0, result.stdout + result.stderr);
      const report = readReport(out, result.runId);
      assert.strictEqual(report.verdict, 'pass');
      const refused = Object.values(report.api.byClass).reduce((sum, c) => sum + (c.errors4xx ?? 0), 0);
      assert.ok(refused > 0, 'the deployment refused requests with 429');
      const left = await expectClean();
      record({
        fault: `429 burst with Retry-After: 1 (30 %, 2 s) during ${phase}`,
        exitCode: result.code,
        verdict: report.verdict,
        reported: `passed; ${refused} request(s) refused with 429 and retried`,
        leftBehind: left,
      });
    });
  }

  for (const stage of ['ssh', 'pty', 'apps'] as const) {
    it(`dropped ${stage} connections fail ${stage}.disconnects (exit 1), nothing left`, async () => {
      const run = runCli(['run', writePlan(out, faultPlan(sim)), '--out', out], sim);
      await burst(run, PREPARE, { dropConnections: { [stage]: { fraction: 1, afterMs: 400 } } }, 60_000);
      const result = await run.done;
      assert.strictEqual(result.code, 1, result.stdout + result.stderr);
      const report = readReport(out, result.runId);
      assert.ok(failedThresholds(report).includes(`${stage}.disconnects == 0`), failedThresholds(report).join(', '));
      const left = await expectClean();
      record({
        fault: `every ${stage} connection dropped after 400 ms`,
        exitCode: result.code,
        verdict: report.verdict,
        reported: `failed: ${failedThresholds(report).join(', ')}`,
        leftBehind: left,
      });
    });
  }

  const prepareFaults: Array<[string, FaultsConfig, RegExp, (plan: ReturnType<typeof faultPlan>) => void]> = [
    ['half the builds fail', { failBuilds: 0.5 }, /prepare\.failures|threshold/, () => {}],
    ['every build fails', { failBuilds: 1 }, /no workspace became ready/, () => {}],
    ['agents never connect', { agentsNeverConnect: 1 }, /no workspace became ready/, (plan) => (plan.timeouts.agentSeconds = 2)],
  ];
  for (const [name, faults, cause, mutate] of prepareFaults) {
    it(`${name}: the run fails naming it (exit 1), nothing left`, async () => {
      sim.setFaults(faults);
      const result = await runCli(['run', writePlan(out, faultPlan(sim, { mutate })), '--out', out], sim).done;
      assert.strictEqual(result.code, 1, result.stdout + result.stderr);
      const report = readReport(out, result.runId);
      assert.strictEqual(report.verdict, 'fail');
      assert.match(report.reason ?? '', cause);
      sim.setFaults({});
      const left = await expectClean();
      record({ fault: name, exitCode: result.code, verdict: report.verdict, reported: report.reason!, leftBehind: left });
    });
  }

  for (const [phase, trigger] of [
    ['traffic', /\[ssh\] SSH stage started/],
    ['cleanup', CLEANUP],
  ] as const) {
    it(`a coderd restart during ${phase}: deployment.restarts fails (exit 1), cleanup rides it out, nothing left`, async () => {
      const run = runCli(['run', writePlan(out, faultPlan(sim)), '--out', out], sim);
      await run.waitFor(trigger);
      sim.setFaults({ restart: { atMs: 0, downForMs: 1500 } });
      const result = await run.done;
      const report = readReport(out, result.runId);
      assert.strictEqual(result.code, 1, result.stdout + result.stderr);
      assert.deepStrictEqual(report.cleanup.leftovers, []);
      if (phase === 'traffic')
        assert.ok(failedThresholds(report).includes('deployment.restarts == 0'), failedThresholds(report).join(', '));
      const left = await expectClean();
      record({
        fault: `coderd restart (down 1.5 s) during ${phase}`,
        exitCode: result.code,
        verdict: report.verdict,
        reported: report.reason!,
        leftBehind: left,
      });
    });
  }

  it('a slow API (600 ms per request) fails api.latency.p95 (exit 1), nothing left', async () => {
    const plan = faultPlan(sim, {
      mutate: (p) => p.thresholds.push({ expression: 'api.latency.p95 < 300ms', abortOnFail: false, abortAfterSeconds: 0 }),
    });
    sim.setFaults({ latency: { all: { ms: 600 } } });
    const result = await runCli(['run', writePlan(out, plan), '--out', out], sim).done;
    assert.strictEqual(result.code, 1, result.stdout + result.stderr);
    const report = readReport(out, result.runId);
    assert.ok(failedThresholds(report).includes('api.latency.p95 < 300ms'), failedThresholds(report).join(', '));
    sim.setFaults({});
    const left = await expectClean();
    record({
      fault: 'slow API (+600 ms on every request)',
      exitCode: result.code,
      verdict: report.verdict,
      reported: `failed: ${failedThresholds(report).join(', ')}`,
      leftBehind: left,
    });
  });

  it('a cleanup that cannot delete fails the run naming the leftovers and the command (exit 4); that command removes them', async () => {
    const plan = faultPlan(sim, { mutate: (p) => (p.timeouts.cleanupSeconds = 3) });
    const run = runCli(['run', writePlan(out, plan), '--out', out], sim);
    // Traffic uses neither builds nor users: the fault hits cleanup from its first request.
    await run.waitFor(/stage finished/);
    sim.setFaults({ errorRates: { builds: 1, users: 1 } });
    const result = await run.done;
    assert.strictEqual(result.code, 4, result.stdout + result.stderr);
    const report = readReport(out, result.runId);
    assert.strictEqual(report.verdict, 'fail');
    sim.setFaults({});
    const heldBefore = await leftOnDeployment(sim);
    assert.ok(heldBefore.length > 0);
    assert.match(report.reason ?? '', new RegExp(`cleanup left ${heldBefore.length} resource\\(s\\) of run ${result.runId} behind`));
    assert.match(result.stdout, new RegExp(`${heldBefore.length} left behind \\(coder-scaletest cleanup --run-id ${result.runId}\\)`));
    assert.deepStrictEqual(
      [...report.cleanup.leftovers].sort(),
      [...heldBefore].sort(),
      'the report names exactly what the deployment holds',
    );
    const cleanup = await runCli(['cleanup', '--run-id', result.runId!], sim).done;
    assert.strictEqual(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
    const left = await expectClean();
    record({
      fault: 'cleanup impossible (every build and user request 500 for the 3 s cleanup limit)',
      exitCode: result.code,
      verdict: report.verdict,
      reported: report.reason!,
      leftBehind: left,
    });
  });

  it("look-alikes created during a run (owner workspace, user with the run's naming) survive the run's own cleanup", async () => {
    const run = runCli(['run', writePlan(out, faultPlan(sim)), '--out', out], sim);
    await run.waitFor(/\[ssh\] SSH stage started/);
    const runId = /run (\w+) of "/.exec(run.output())![1]!;
    const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
    const me = await owner.me();
    const workspace = await owner.createWorkspace(sim.organizationId, me.username, {
      name: `scaletest-${runId}-8`,
      template_id: sim.templateId,
      rich_parameter_values: [],
    });
    await owner.waitForBuild(workspace.latest_build.id);
    await owner.createUser({
      email: `other-${runId}@example.com`,
      username: `scaletest-notmine1-${runId}`,
      name: 'Scale test user 1',
      password: 'Look-alike-passw0rd',
      login_type: 'password',
      organization_ids: [sim.organizationId],
    });
    owner.close();
    const lookAlikes = [`workspace scaletest-${runId}-8`, `user scaletest-notmine1-${runId}`];
    const result = await run.done;
    assert.strictEqual(result.code, 0, result.stdout + result.stderr);
    assert.deepStrictEqual((await leftOnDeployment(sim)).sort(), [...lookAlikes].sort());
    record({
      fault: 'look-alikes created during a run',
      exitCode: result.code,
      verdict: 'pass',
      reported: 'run passed; look-alikes untouched',
      leftBehind: 0,
    });
  });

  it('a CPU-burning neighbour: the report says the runner, not the deployment, is suspect', async () => {
    // The runner gets a sliver of one core (lowest priority, pinned beside two busy loops) while
    // its traffic runs, so its own event loop stalls and its latency figures are its own delay.
    const plan = faultPlan(sim, {
      mutate: (p) => {
        for (const stage of ['pty', 'apps'] as const) p.traffic[stage].enabled = false;
        p.timeline.ssh = [0, 4];
        p.thresholds = [{ expression: 'ssh.rtt.p95 < 1ms', abortOnFail: false, abortAfterSeconds: 0 }];
      },
    });
    const run = runCli(['run', writePlan(out, plan), '--out', out], sim, {}, ['taskset', '-c', '0', 'nice', '-n', '10']);
    await run.waitFor(/\[ssh\] SSH stage started/);
    const burners: ChildProcess[] = [0, 1].map(() =>
      spawn('taskset', ['-c', '0', process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }),
    );
    await run.waitFor(/\[ssh\] SSH stage finished/, 120_000).finally(() => burners.forEach((burner) => burner.kill('SIGKILL')));
    const result = await run.done;
    const report = readReport(out, result.runId);
    const threshold = report.thresholds.find((t) => t.expression === 'ssh.rtt.p95 < 1ms')!;
    assert.strictEqual(threshold.verdict, 'fail');
    // The verdict names the runner as suspect when the stalls line up with the breached seconds;
    // when the runner's catch-up after a stall outlasts that window, the run's overload warning
    // (kept in the report) still says the latencies include the runner's own delay.
    const suspect = /untrustworthy/.test(threshold.runnerSuspect ?? '') && /Runner suspect: .*untrustworthy/.test(report.reason ?? '');
    const warning = report.events.find((event) => /runner overloaded .*latencies include the runner's own delay/.test(event.message));
    assert.ok(suspect || warning, `the report says the figures are the runner's: ${report.reason}`);
    // Exit 5 (inconclusive) when the verdict blames the runner; 1 when only the warning does.
    assert.strictEqual(result.code, suspect ? 5 : 1, result.stdout + result.stderr);
    const left = await expectClean();
    record({
      fault: 'runner starved by a CPU-burning neighbour during traffic',
      exitCode: result.code,
      verdict: report.verdict,
      reported: suspect ? report.reason! : `${report.reason}; warning: ${warning!.message}`,
      leftBehind: left,
    });
  });

  describe('refused before anything is created', () => {
    const cases: Array<[string, (plan: ReturnType<typeof faultPlan>) => void, RegExp]> = [
      [
        "a cleanup time limit beyond Node's timers",
        (p) => (p.timeouts.cleanupSeconds = 4_294_968),
        /timeouts\.cleanupSeconds: must be <= 86400/,
      ],
      [
        'a 25-day timeline',
        (p) => ((p.timeline.slotSeconds = 86400), (p.timeline.ssh = [0, 25])),
        /timeline\.ssh: the window ends 2160000 s after T0/,
      ],
      [
        'every traffic stage disabled',
        (p) => (['ssh', 'pty', 'apps', 'dashboard'] as const).forEach((s) => (p.traffic[s].enabled = false)),
        /every traffic stage is disabled/,
      ],
      ['an unknown template', (p) => (p.deployment.template = 'no-such-template'), /template "no-such-template" not found/],
    ];
    for (const [name, mutate, message] of cases) {
      it(`${name}: exit 2 with what to fix, nothing created`, async () => {
        const result = await runCli(['run', writePlan(out, faultPlan(sim, { mutate })), '--out', out], sim).done;
        assert.strictEqual(result.code, 2, result.stdout + result.stderr);
        assert.match(result.stdout + result.stderr, message);
        const left = await expectClean();
        record({
          fault: `plan with ${name}`,
          exitCode: result.code,
          verdict: 'refused',
          reported: message.source.replace(/\\/g, ''),
          leftBehind: left,
        });
      });
    }

    it('cleanup with a non-owner token: exit 3 saying an owner is needed (not a raw 428)', async () => {
      const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
      const member = await owner.createUser({
        email: 'member@example.com',
        username: 'member',
        password: 'Member-passw0rd1',
        login_type: 'password',
        organization_ids: [sim.organizationId],
      });
      const { key } = await owner.createApiKey(member.id, { lifetime: 3600e9, token_name: 'member' });
      owner.close();
      const result = await runCli(['cleanup', '--run-id', 'stabcdef'], sim, { CODER_SESSION_TOKEN: key }).done;
      assert.strictEqual(result.code, 3, result.stdout + result.stderr);
      assert.match(result.stderr, /lacks the owner role.*needs the Owner role/);
      assert.ok(!/428/.test(result.stderr));
      record({
        fault: 'cleanup with a non-owner token',
        exitCode: result.code,
        verdict: 'refused',
        reported: 'needs the Owner role',
        leftBehind: 0,
      });
      void path;
    });
  });
});
