import * as assert from 'assert';
import * as dns from 'dns';
import * as fs from 'fs';
import type { LookupFunction } from 'net';
import { startRun } from '../../../../src/engine/run/run';
import { startSimDeployment, type SimDeploymentOptions } from '../../../../src/sim';
import { processedRequests, smallPlan, tempDir } from '../../../support/simRun';

/** No wildcard DNS here: *.localhost resolves to loopback for this test only. */
const resolveLocalhostSubdomainsForTest: LookupFunction = (hostname, options, callback) =>
  dns.lookup(hostname.endsWith('.localhost') ? '127.0.0.1' : hostname, options, callback);

// Connected is not ready (issue 24 item 4): the reference template's startup script starts the
// echo app, and lifecycle_state says when it has finished. And a refused first open (a rate
// limit's window, an app still starting) is tried again within the connect budget (item 1).
describe('engine: ready means ready (issue 24 item 4), refused opens retried (item 1)', function () {
  this.timeout(60_000);

  async function run(options: SimDeploymentOptions, adjust: (plan: ReturnType<typeof smallPlan>) => void = () => undefined) {
    const sim = await startSimDeployment({ buildDurationMs: 100, agentConnectDelayMs: 20, directSsh: true, ...options });
    const out = tempDir();
    try {
      const plan = smallPlan(sim, { users: 2, only: ['apps'] });
      adjust(plan);
      const connection = { url: sim.url, token: sim.ownerToken, lookup: resolveLocalhostSubdomainsForTest };
      const result = await startRun({ plan, connection, outDir: out }).done;
      const refusedAppOpens = await processedRequests(sim, { path: '/@{user}/{workspace_and_agent}/apps/{workspaceapp}/*', code: '429' });
      return { result, refusedAppOpens, prepare: result.snapshot.stages.find((stage) => stage.name === 'prepare')! };
    } finally {
      await sim.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  }

  it('waits for the startup script: the apps are there from the first tick', async () => {
    const { result } = await run({ startupScriptMs: 1500 });
    assert.strictEqual(result.exitCode, 0, result.snapshot.reason);
    const apps = result.snapshot.stages.find((stage) => stage.name === 'apps')!;
    assert.deepStrictEqual(apps.errors, {});
  });

  it('a startup script that failed (start_error) fails that workspace, named; a timed-out one (start_timeout) is used, counted', async () => {
    const failed = await run({ faults: { startupScriptFails: 0.5 } });
    assert.strictEqual(failed.prepare.progress!.failed, 1);
    assert.strictEqual(failed.prepare.errors.agent, 1);
    const timedOut = await run({ faults: { startupScriptTimesOut: 1 } });
    assert.strictEqual(timedOut.prepare.progress!.done, 2);
    assert.strictEqual(timedOut.prepare.progress!.startTimeouts, 2);
  });

  it('opens refused by the rate limit (subdomain apps share `/` before 2.32) are retried within the connect budget', async () => {
    const { result, refusedAppOpens } = await run(
      { coderVersion: '2.29.0', subdomainApps: true, rateLimitPerMinute: 2, rateLimitWindowMs: 1000 },
      (plan) => (plan.users = 3),
    );
    assert.ok(refusedAppOpens > 0, 'the deployment refused app opens with 429');
    const apps = result.snapshot.stages.find((stage) => stage.name === 'apps')!;
    assert.deepStrictEqual(apps.errors, {}, `every connection opened in the end: ${result.snapshot.reason}`);
    assert.strictEqual(apps.connections.target, 3);
  });
});
