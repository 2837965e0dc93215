import * as assert from 'assert';
import * as fs from 'fs';
import { startRun } from '../../../../src/engine/run/run';
import { startSimDeployment } from '../../../../src/sim';
import { processedRequests, smallPlan, tempDir } from '../../../support/simRun';

describe('engine: prepare', function () {
  this.timeout(60_000);

  it('publishes the build queue depth (jobs pending) and builds in progress, back to zero when ready', async () => {
    // Builds slow enough to be seen: pending for the first fifth, then running.
    const sim = await startSimDeployment({ buildDurationMs: 2500, agentConnectDelayMs: 100, directSsh: true });
    const out = tempDir();
    try {
      const plan = smallPlan(sim, { users: 3, only: ['ssh'] });
      const handle = startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir: out, snapshotIntervalMs: 100 });
      let maxBuilding = 0;
      let maxInFlight = 0;
      handle.subscribe((snapshot) => {
        const progress = snapshot.stages.find((stage) => stage.name === 'prepare')?.progress;
        maxBuilding = Math.max(maxBuilding, progress?.building ?? 0);
        maxInFlight = Math.max(maxInFlight, (progress?.queued ?? 0) + (progress?.building ?? 0));
      });
      const result = await handle.done;
      assert.strictEqual(result.exitCode, 0, result.snapshot.reason);
      assert.ok(maxBuilding > 0, 'builds in progress were published during prepare');
      assert.ok(maxInFlight <= plan.users, `never more builds in flight than users (${maxInFlight})`);
      const final = result.snapshot.stages.find((stage) => stage.name === 'prepare')!.progress!;
      assert.deepStrictEqual({ queued: final.queued, building: final.building, done: final.done }, { queued: 0, building: 0, done: 3 });
    } finally {
      await sim.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
  it("the owner mints each user's token instead of logging in (coderd limits logins to 60 a minute per IP)", async () => {
    const sim = await startSimDeployment({ buildDurationMs: 100, agentConnectDelayMs: 20, directSsh: true });
    const out = tempDir();
    try {
      const plan = smallPlan(sim, { users: 3, only: ['ssh'] });
      const result = await startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir: out }).done;
      assert.strictEqual(result.exitCode, 0, result.snapshot.reason);
      const requests = (path: string) => processedRequests(sim, { path, method: 'POST' });
      assert.strictEqual(await requests('/api/v2/users/{user}/keys/tokens'), 3, 'one token per user');
      assert.strictEqual(await requests('/api/v2/users/login'), 0, 'no logins');
    } finally {
      await sim.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
