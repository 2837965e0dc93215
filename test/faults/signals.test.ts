// Every way a run can be stopped: SIGINT, SIGTERM and SIGHUP in each phase, a second and a
// third signal, SIGKILL followed by `cleanup --run-id`, and a stopped `cleanup`. Each case
// asserts the exit code, the verdict and cause in the report, and that the deployment holds
// no scale-test resource afterwards.
import * as assert from 'assert';
import * as fs from 'fs';
import { CoderClient } from '../../src/coder/client';
import type { SimDeployment } from '../../src/sim';
import { faultPlan, leftOnDeployment, readReport, record, runCli, scrub, startFaultSim, tempDir, writePlan } from './harness';

const PHASES = [
  { phase: 'prepare', trigger: /\[prepare\] creating 3 users/ },
  { phase: 'SSH', trigger: /\[ssh\] SSH stage started/ },
  { phase: 'web terminal', trigger: /\[pty\] Web terminal stage started/ },
  { phase: 'apps', trigger: /\[apps\] Workspace apps stage started/ },
  { phase: 'dashboard', trigger: /\[dashboard\] Dashboard stage started/, dashboard: true },
  { phase: 'cleanup', trigger: /\[cleanup\] deleting 3 workspaces/ },
] as const;

describe('fault matrix: stop signals', function () {
  this.timeout(180_000);
  let sim: SimDeployment;
  let out: string;
  before(async () => (sim = await startFaultSim()));
  after(async () => sim.close());
  beforeEach(() => (out = tempDir()));
  afterEach(async () => {
    sim.setFaults({});
    await scrub(sim);
    fs.rmSync(out, { recursive: true, force: true });
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    for (const { phase, trigger, ...options } of PHASES) {
      it(`${signal} during ${phase}: cleans up, writes the partial report naming ${signal}, exit 130`, async () => {
        const plan = faultPlan(sim, { staggered: true, dashboard: 'dashboard' in options });
        const run = runCli(['run', writePlan(out, plan), '--out', out], sim);
        await run.waitFor(trigger);
        run.child.kill(signal);
        const result = await run.done;
        assert.strictEqual(result.code, 130, result.stdout + result.stderr);
        const report = readReport(out, result.runId);
        assert.strictEqual(report.status, 'aborted');
        assert.strictEqual(report.verdict, 'fail');
        assert.match(report.reason ?? '', new RegExp(`stopped by ${signal}`));
        assert.deepStrictEqual(report.cleanup.leftovers, []);
        const left = await leftOnDeployment(sim);
        assert.deepStrictEqual(left, []);
        record({
          fault: `${signal} during ${phase}`,
          exitCode: result.code,
          verdict: report.verdict,
          reported: report.reason!,
          leftBehind: left.length,
        });
      });
    }
  }

  for (const phase of ['prepare', 'cleanup'] as const) {
    it(`a second SIGINT during ${phase} stops waiting for cleanup, still writes the report and prints the cleanup command; that command removes the rest`, async () => {
      const plan = faultPlan(sim);
      const run = runCli(['run', writePlan(out, plan), '--out', out], sim);
      await run.waitFor(phase === 'prepare' ? /\[prepare\] creating 3 users/ : /\[cleanup\] deleting 3 workspaces/);
      run.child.kill('SIGINT');
      await run.waitFor(/SIGINT: stopping traffic/);
      run.child.kill('SIGINT');
      const result = await run.done;
      assert.strictEqual(result.code, 130, result.stdout + result.stderr);
      assert.match(result.stderr, new RegExp(`SIGINT again: .*coder-scaletest cleanup --run-id ${result.runId}`));
      const report = readReport(out, result.runId);
      assert.strictEqual(report.verdict, 'fail');
      assert.match(report.reason ?? '', /stopped by SIGINT/);
      // What the report names as left is what the deployment holds.
      const left = await leftOnDeployment(sim);
      assert.deepStrictEqual([...report.cleanup.leftovers].sort(), [...left].sort());
      if (left.length) {
        assert.match(report.reason!, new RegExp(`cleanup left ${left.length} resource\\(s\\) of run ${result.runId} behind`));
        assert.match(result.stdout, new RegExp(`${left.length} left behind \\(coder-scaletest cleanup --run-id ${result.runId}\\)`));
      }
      const cleanup = await runCli(['cleanup', '--run-id', result.runId!], sim).done;
      assert.strictEqual(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
      assert.deepStrictEqual(await leftOnDeployment(sim), []);
      record({
        fault: `SIGINT twice during ${phase}, then cleanup --run-id`,
        exitCode: result.code,
        verdict: report.verdict,
        reported: `${report.reason}; ${left.length} left until cleanup --run-id`,
        leftBehind: 0,
      });
    });
  }

  it('a third SIGINT exits at once with the cleanup command; that command removes everything', async () => {
    const plan = faultPlan(sim);
    const run = runCli(['run', writePlan(out, plan), '--out', out], sim);
    await run.waitFor(/\[prepare\] creating 3 users/);
    for (const expected of [/SIGINT: stopping traffic/, /SIGINT again/]) {
      run.child.kill('SIGINT');
      await run.waitFor(expected);
    }
    run.child.kill('SIGINT');
    const result = await run.done;
    assert.strictEqual(result.code, 130);
    assert.match(
      result.stderr,
      new RegExp(
        `SIGINT a third time: exiting now, without waiting; what is left can be removed with: coder-scaletest cleanup --run-id ${result.runId}`,
      ),
    );
    const cleanup = await runCli(['cleanup', '--run-id', result.runId!], sim).done;
    assert.strictEqual(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
    assert.deepStrictEqual(await leftOnDeployment(sim), []);
    record({
      fault: 'SIGINT three times during prepare, then cleanup --run-id',
      exitCode: result.code,
      verdict: 'none (exited at once)',
      reported: 'the cleanup --run-id command on stderr',
      leftBehind: 0,
    });
  });

  it("SIGKILL mid-run, then cleanup --run-id: removes the run and leaves look-alikes (admin workspace, user with the run's naming but another email) untouched", async () => {
    const plan = faultPlan(sim);
    const run = runCli(['run', writePlan(out, plan), '--out', out], sim);
    await run.waitFor(/\[ssh\] SSH stage started/);
    run.child.kill('SIGKILL');
    const result = await run.done;
    assert.strictEqual(result.signal, 'SIGKILL');
    const runId = result.runId!;
    const lookAlikes = await createLookAlikes(sim, runId);
    assert.strictEqual((await leftOnDeployment(sim, lookAlikes)).length, 6, 'the killed run left its 3 users and 3 workspaces');

    const cleanup = await runCli(['cleanup', '--run-id', runId], sim).done;
    assert.strictEqual(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
    assert.match(cleanup.stdout, /deleted 3 workspace\(s\) and 3 user\(s\); not touched \(not this run's\): 2/);
    assert.match(
      cleanup.stderr,
      new RegExp(`not touching workspace [^ ]+/scaletest-${runId}-7: its owner .* is not one of the run's users`),
    );
    assert.match(
      cleanup.stderr,
      new RegExp(`not touching user scaletest-lookalik-${runId}: its email .* is not the one this run gives its users`),
    );
    assert.deepStrictEqual(await leftOnDeployment(sim, lookAlikes), []);
    assert.deepStrictEqual((await leftOnDeployment(sim)).sort(), [...lookAlikes].sort(), 'the look-alikes survive');
    record({
      fault: 'SIGKILL during SSH, then cleanup --run-id (with look-alikes)',
      exitCode: cleanup.code,
      verdict: 'n/a (killed)',
      reported: 'cleanup: 3 workspaces + 3 users deleted, 2 look-alikes named and not touched',
      leftBehind: 0,
    });
  });

  it('SIGTERM during `cleanup --run-id` lets deletions under way finish, names what is left (exit 130); a second cleanup finishes the job', async () => {
    const plan = faultPlan(sim, { mutate: (p) => (p.cleanup.strategy = 'never') });
    const run = await runCli(['run', writePlan(out, plan), '--out', out], sim).done;
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    const cleanup = runCli(['cleanup', '--run-id', run.runId!, '--concurrency', '1'], sim);
    await cleanup.waitFor(/found (by name )?3 workspace\(s\) and 3 user\(s\)/);
    cleanup.child.kill('SIGTERM');
    const stopped = await cleanup.done;
    assert.strictEqual(stopped.code, 130, stopped.stdout + stopped.stderr);
    const left = await leftOnDeployment(sim);
    assert.ok(left.length > 0);
    for (const name of left) assert.ok(stopped.stdout.includes(name), `${name} is named as left behind`);
    const again = await runCli(['cleanup', '--run-id', run.runId!], sim).done;
    assert.strictEqual(again.code, 0, again.stdout + again.stderr);
    assert.deepStrictEqual(await leftOnDeployment(sim), []);
    record({
      fault: 'SIGTERM during cleanup --run-id',
      exitCode: stopped.code,
      verdict: 'n/a (cleanup)',
      reported: `interrupted, left behind: ${left.length} named; a second cleanup removed them`,
      leftBehind: 0,
    });
  });
});

/** An owner-owned workspace named like the run's, and a user with the run's naming but not its email. */
async function createLookAlikes(sim: SimDeployment, runId: string): Promise<string[]> {
  const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
  try {
    const me = await owner.me();
    const workspace = await owner.createWorkspace(sim.organizationId, me.username, {
      name: `scaletest-${runId}-7`,
      template_id: sim.templateId,
      rich_parameter_values: [],
    });
    await owner.waitForBuild(workspace.latest_build.id);
    await owner.createUser({
      email: `someone-${runId}@example.com`,
      username: `scaletest-lookalik-${runId}`,
      name: 'Scale test user 9',
      password: 'Look-alike-passw0rd',
      login_type: 'password',
      organization_ids: [sim.organizationId],
    });
    return [`workspace scaletest-${runId}-7`, `user scaletest-lookalik-${runId}`];
  } finally {
    owner.close();
  }
}
