import * as assert from 'assert';
import { startRun, type RunResult } from '../../../../src/engine/run/run';
import type { StageName } from '../../../../src/protocol/snapshot';
import type { FaultsConfig } from '../../../../src/sim';
import { leftovers, smallPlan, useSimAndOutDir } from '../../../support/simRun';

describe('engine verdicts with faults injected into the simulated deployment', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  async function runWith(faults: FaultsConfig, users: number, only: Array<'ssh' | 'pty' | 'apps'>): Promise<RunResult> {
    env.sim.setFaults(faults);
    const result = await startRun({
      plan: smallPlan(env.sim, { users, only }),
      connection: { url: env.sim.url, token: env.sim.ownerToken },
      outDir: env.out,
    }).done;
    env.sim.setFaults({});
    return result;
  }

  const failed = (result: RunResult) => result.snapshot.thresholds.filter((t) => t.verdict === 'fail').map((t) => t.expression);
  const stage = (result: RunResult, name: StageName) => result.snapshot.stages.find((s) => s.name === name)!;

  it('dropped web-terminal connections fail the web terminal stage on pty.disconnects', async () => {
    const result = await runWith({ dropConnections: { pty: { fraction: 1, afterMs: 300 } } }, 2, ['ssh', 'pty']);
    assert.strictEqual(result.verdict, 'fail');
    assert.strictEqual(result.exitCode, 1);
    assert.ok(failed(result).includes('pty.disconnects == 0'), failed(result).join(', '));
    assert.strictEqual(stage(result, 'pty').verdict, 'fail');
    assert.match(stage(result, 'pty').reason!, /pty\.disconnects was [1-9]/);
    assert.ok(stage(result, 'pty').reconnects >= 1, 'the web terminal re-attached');
    assert.strictEqual(stage(result, 'ssh').verdict, 'pass');
  });

  it('a threshold with abortOnFail stops the run early with a failed verdict (exit 1, not 130)', async () => {
    env.sim.setFaults({ dropConnections: { pty: { fraction: 1, afterMs: 200 } } });
    const plan = smallPlan(env.sim, { users: 2, only: ['pty'] });
    plan.timeline.slotSeconds = 5;
    plan.thresholds = [{ expression: 'pty.disconnects == 0', abortOnFail: true, abortAfterSeconds: 0 }];
    const result = await startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out }).done;
    assert.strictEqual(result.exitCode, 1);
    assert.strictEqual(result.snapshot.status, 'aborted');
    assert.match(result.snapshot.reason!, /threshold "pty\.disconnects == 0" breached/);
    const pty = stage(result, 'pty');
    assert.ok(pty.endedAt! - pty.startedAt! < 5000, 'stopped before the end of its window');
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });

  it('a web terminal that connects after the connect timeout is closed, not leaked', async () => {
    env.sim.setFaults({ latency: { pty: { ms: 1500 } } });
    const plan = smallPlan(env.sim, { users: 1, only: ['pty'] });
    plan.timeouts.connectSeconds = 1;
    // Deleting the workspace would end its sessions and hide a leak.
    plan.cleanup.strategy = 'never';
    const result = await startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out }).done;
    assert.strictEqual(stage(result, 'pty').errors.connect, 1);
    // The late connection opened about 1.5 s after the stage began, before the run ended.
    const deadline = Date.now() + 5000;
    while (env.sim.stats().sessions.reconnecting_pty > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepStrictEqual(env.sim.stats().sessions, { ssh: 0, reconnecting_pty: 0, app: 0 });
    assert.strictEqual(env.sim.stats().openWebSockets, 0);
  });

  it('failed builds fail prepare on prepare.failures and still clean up', async () => {
    const result = await runWith({ failBuilds: 0.5 }, 4, ['ssh']);
    assert.strictEqual(result.verdict, 'fail');
    assert.ok(failed(result).includes('prepare.failures == 0'), failed(result).join(', '));
    assert.strictEqual(stage(result, 'prepare').verdict, 'fail');
    assert.ok(stage(result, 'prepare').errors.build_failed >= 1);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });

  it('when no workspace becomes ready the run ends in error, and still cleans up', async () => {
    const result = await runWith({ failBuilds: 1 }, 2, ['ssh']);
    assert.strictEqual(result.exitCode, 1);
    assert.strictEqual(result.snapshot.status, 'error');
    assert.match(result.snapshot.reason!, /no workspace became ready/);
    assert.strictEqual(result.snapshot.stages.find((s) => s.name === 'ssh')!.state, 'skipped');
    assert.strictEqual(result.cleanup.deletedUsers, 2);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });

  it('internal errors fail api.errors_5xx', async () => {
    const result = await runWith({ errorRates: { builds: 0.3 } }, 3, ['ssh']);
    assert.strictEqual(result.verdict, 'fail');
    assert.ok(failed(result).includes('api.errors_5xx == 0'), failed(result).join(', '));
    assert.ok(result.snapshot.api.byClass.builds.errors5xx >= 1);
  });

  it('a coderd restart fails deployment.restarts and interrupts the connections', async () => {
    const result = await runWith({ restart: { atMs: 1800, downForMs: 1000 } }, 2, ['pty']);
    assert.strictEqual(result.verdict, 'fail');
    assert.ok(failed(result).includes('deployment.restarts == 0'), failed(result).join(', '));
    assert.ok(result.snapshot.deployment.restarts >= 1);
    assert.ok(stage(result, 'pty').disconnects >= 1, 'the restart reset the web terminals');
  });
});
