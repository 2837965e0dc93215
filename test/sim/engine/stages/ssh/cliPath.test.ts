// The SSH stage through `coder ssh --stdio` (issue 24 item 6): the path the CLI may take is a plan
// setting whose default is the reference runner's (direct connections allowed), and before coderd
// keyed rate limits by user every CLI of the runner shares the template version's and tailnet's
// buckets: a refused CLI is started again within the connect budget.
import * as assert from 'assert';
import * as fs from 'fs';
import { startRun } from '../../../../../src/engine/run/run';
import { startSimDeployment, type SimDeployment } from '../../../../../src/sim';
import { processedRequests, smallPlan, tempDir } from '../../../../support/simRun';

describe('SSH stage through the coder CLI: path and rate limits (issue 24 items 1, 6)', function () {
  this.timeout(120_000);
  let sim: SimDeployment | undefined;
  let out = '';
  afterEach(async () => {
    await sim?.close();
    fs.rmSync(out, { recursive: true, force: true });
  });

  async function runSsh(users: number, settings: { directConnections?: boolean }, seconds = 2) {
    out = tempDir();
    const plan = smallPlan(sim!, { users, only: ['ssh'] });
    plan.timeline.ssh = [0, seconds];
    plan.traffic.ssh = { ...plan.traffic.ssh, transport: 'coder-cli', ...settings };
    delete (plan.traffic.ssh as { directAddress?: string }).directAddress;
    // The CLI is downloaded from the deployment into the run's own cache.
    const result = await startRun({ plan, connection: { url: sim!.url, token: sim!.ownerToken }, outDir: out, cacheDir: out }).done;
    return result.snapshot.stages.find((stage) => stage.name === 'ssh')!;
  }

  for (const directConnections of [undefined, false]) {
    it(`directConnections ${directConnections ?? 'unset (the reference: allowed)'}: the CLI is told which path it may take`, async () => {
      sim = await startSimDeployment({ buildDurationMs: 50, agentConnectDelayMs: 20, directSsh: true });
      const ssh = await runSsh(2, directConnections === undefined ? {} : { directConnections });
      assert.deepStrictEqual(ssh.errors, {});
      assert.ok(ssh.completed > 5, `completed ${ssh.completed}`);
      assert.deepStrictEqual(sim.stats().sshPaths, directConnections === false ? { direct: 0, relayed: 2 } : { direct: 2, relayed: 0 });
    });
  }

  it("coderd 2.29.0 (limits keyed by IP): every CLI connects though they share the template version's bucket", async () => {
    sim = await startSimDeployment({
      buildDurationMs: 50,
      agentConnectDelayMs: 20,
      directSsh: true,
      coderVersion: '2.29.0',
      rateLimitPerMinute: 2,
      rateLimitWindowMs: 1000,
    });
    // Long enough for CLIs refused once or twice (backing off 1 s, 2 s) to connect and echo.
    const ssh = await runSsh(5, {}, 8);
    const refused =
      (await processedRequests(sim, { path: '/api/v2/templateversions/{templateversion}', code: '429' })) +
      (await processedRequests(sim, { path: '/_sim/tunnel/{owner}/{workspace}', code: '429' }));
    assert.ok(refused > 0, 'the CLIs were refused on the shared paths');
    // Ticks due while a CLI waited are not sent (the connection opened late); none failed to open.
    assert.strictEqual(ssh.errors.connect, undefined, JSON.stringify(ssh.errors));
    assert.strictEqual(ssh.connectLatency?.count, 5);
    assert.strictEqual(sim.stats().sshPaths.direct, 5, 'every CLI reached its agent');
    assert.strictEqual(ssh.mismatches, 0);
  });
});
