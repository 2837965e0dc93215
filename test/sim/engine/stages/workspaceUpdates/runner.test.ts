// The workspace-updates stage against the simulated deployment, and the fault that fails it for
// the right reason (updates reaching watchers late).
import * as assert from 'assert';
import type { Plan } from '../../../../../src/engine';
import { readRunJournal } from '../../../../../src/engine/run/journal';
import { startRun, type RunResult } from '../../../../../src/engine/run/run';
import { leftovers, oneStagePlan, tempDir, useSimAndOutDir } from '../../../../support/simRun';

describe('workspace updates stage', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  const plan = (): Plan =>
    oneStagePlan(env.sim, {
      users: 2,
      stage: 'workspace_updates',
      settings: { workspacesPerUser: 1, intervalSeconds: 0.2, jitterSeconds: 0 },
      window: [0, 4],
      thresholds: ['workspace_updates.errors == 0', 'workspace_updates.latency.p95 < 400ms'],
    });
  const run = (p: Plan): Promise<RunResult> =>
    startRun({ plan: p, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: tempDir() }).done;
  const stage = (result: RunResult) => result.snapshot.stages.find((s) => s.name === 'workspace_updates')!;

  it('times build requested → update seen on watch-ws, and deletes the workspaces it created', async () => {
    const result = await run(plan());
    const s = stage(result);
    assert.strictEqual(result.verdict, 'pass', `${s.reason ?? ''} ${JSON.stringify(s.errors)}`);
    assert.ok(s.latency.count >= 4, `updates timed: ${s.latency.count}`);
    assert.strictEqual(s.connections.target, 2);
    assert.deepStrictEqual(s.figures, { builds: s.sent, seen: s.completed, missed: 0 });
    assert.match(
      s.summary!,
      /^\d+ of \d+ build\(s\) on 2 watched workspace\(s\) reached their watcher: the update after .+ \(p50\), .+ \(p95\); 0 missed$/,
    );
    // Its own workspaces are the run's: in its journal, named by the stage, numbered after prepare's (users × 1 + index).
    const runId = result.snapshot.runId;
    const own = readRunJournal(result.reportDir, runId)!.entries.filter((entry) => entry.stage === 'workspace_updates');
    assert.deepStrictEqual(own.map((entry) => [entry.key, entry.name, entry.state]).sort(), [
      ['workspace:1:0', `scaletest-${runId}-2`, 'deleted'],
      ['workspace:1:1', `scaletest-${runId}-3`, 'deleted'],
    ]);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });

  it('workspaceEventDelayMs: late updates fail the latency threshold with the delay in it', async () => {
    env.sim.setFaults({ workspaceEventDelayMs: 600 });
    // Builds further apart than the lag: a late notice of the previous build (coderd re-reads the
    // workspace when it arrives) must not be taken for the new one.
    const slow = plan();
    slow.traffic.workspace_updates.intervalSeconds = 1;
    const result = await run(slow);
    const s = stage(result);
    assert.strictEqual(result.verdict, 'fail');
    const latency = result.snapshot.thresholds.find((t) => t.expression.startsWith('workspace_updates.latency'))!;
    assert.strictEqual(latency.verdict, 'fail');
    assert.ok(s.latency.p50 >= 550, `p50 ${s.latency.p50} ms`);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });
});
