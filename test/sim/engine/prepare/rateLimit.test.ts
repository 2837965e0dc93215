import * as assert from 'assert';
import * as fs from 'fs';
import { startRun } from '../../../../src/engine/run/run';
import { startSimDeployment } from '../../../../src/sim';
import { processedRequests, smallPlan, tempDir } from '../../../support/simRun';

// coderd before PR #22049 keys every request by the client IP and path, so the owner's user
// creations (bypass header ignored) and all users' workspace creations from one runner would
// share buckets. A lowered limit with a short window keeps the test quick: 12 users against
// 4 requests per 1-s window on each path is three windows' worth.
describe('engine: prepare under coderd rate limits (issue 24 item 1)', function () {
  this.timeout(90_000);

  for (const version of ['2.29.0', '2.35.2']) {
    it(`prepares every user though the limit lets a third through per window (coderd ${version})`, async () => {
      const sim = await startSimDeployment({
        buildDurationMs: 100,
        agentConnectDelayMs: 20,
        directSsh: true,
        coderVersion: version,
        rateLimitPerMinute: 4,
        rateLimitWindowMs: 1000,
      });
      const out = tempDir();
      try {
        const plan = smallPlan(sim, { users: 12, only: ['ssh'] });
        plan.concurrency.prepare = 12;
        const result = await startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir: out }).done;
        const prepare = result.snapshot.stages.find((stage) => stage.name === 'prepare')!;
        assert.strictEqual(prepare.progress!.done, 12, `every user prepared: ${JSON.stringify(prepare.errors)}`);
        assert.strictEqual(prepare.progress!.failed, 0);
        const refused = (path: string) => processedRequests(sim, { path, code: '429' });
        if (version === '2.29.0') {
          // Keyed by IP: the owner's 12 user creations share one bucket and are held back.
          assert.ok(prepare.progress!.rateLimitedMs! > 0, 'the report says how long prepare was held back');
          // Each user's workspace goes to its own path (/users/{id}/workspaces, never /users/me/…).
          assert.strictEqual(await refused('/api/v2/users/{user}/workspaces'), 0);
        } else {
          // Keyed by user: the owner's bypass header is honoured; nothing waits.
          assert.strictEqual(prepare.progress!.rateLimitedMs ?? 0, 0);
          assert.strictEqual(await refused('/api/v2/users'), 0);
        }
        assert.strictEqual(result.exitCode, 0, result.snapshot.reason);
      } finally {
        await sim.close();
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
