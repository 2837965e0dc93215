// The planned ramp against a deployment slow to accept connections (the simulator's acceptRate
// fault): a ramp that plans more opens per second than the deployment lets through fails on
// open lag; the same deployment with a ramp paced under its rate passes.
import * as assert from 'assert';
import { startRun, type RunResult } from '../../../../../src/engine/run/run';
import { smallPlan, useSimAndOutDir } from '../../../../support/simRun';

describe('echo stages: the planned ramp and open lag', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();
  const USERS = 6;
  // The deployment lets 2 app connections a second through; the others wait their turn.
  const ACCEPTED_PER_SECOND = 2;
  const OPEN_LAG_LIMIT = 'apps.open_lag.p95 < 1200ms';

  async function run(connectionsPerSecond: number): Promise<RunResult> {
    env.sim.setFaults({ acceptRate: { apps: { perSecond: ACCEPTED_PER_SECOND } } });
    const plan = smallPlan(env.sim, { users: USERS, only: ['apps'] });
    // A window of 6 s: long enough for the paced ramp (6 connections at 1.5/s: 3.3 s).
    plan.timeline.slotSeconds = 3;
    plan.traffic.apps.connectionsPerSecond = connectionsPerSecond;
    plan.thresholds = [OPEN_LAG_LIMIT, 'apps.errors == 0'].map((expression) => ({ expression, abortOnFail: false, abortAfterSeconds: 0 }));
    return startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out }).done;
  }

  const apps = (result: RunResult) => result.snapshot.stages.find((s) => s.name === 'apps')!;
  const threshold = (result: RunResult) => result.snapshot.thresholds.find((t) => t.expression === OPEN_LAG_LIMIT)!;

  it('a ramp faster than the deployment accepts connections fails on open lag', async () => {
    // 50/s plans all 6 within 0.1 s; the deployment lets the last through 2.5 s after the first.
    const result = await run(50);
    assert.strictEqual(result.verdict, 'fail');
    assert.strictEqual(threshold(result).verdict, 'fail', JSON.stringify(threshold(result)));
    assert.ok(apps(result).openLag!.count === USERS, 'every connection has its open lag');
    assert.ok(apps(result).openLag!.max >= 2000, `the last connection was up ≥ 2 s late (max ${apps(result).openLag!.max} ms)`);
    assert.match(result.snapshot.reason!, /apps\.open_lag\.p95 was/);
    assert.strictEqual(apps(result).ramp!.connectionsPerSecond, 50);
  });

  it('a ramp paced under the rate the deployment accepts passes', async () => {
    const result = await run(1.5);
    assert.strictEqual(threshold(result).verdict, 'pass', JSON.stringify(threshold(result)));
    assert.strictEqual(result.verdict, 'pass', result.snapshot.reason);
    assert.strictEqual(apps(result).openLag!.count, USERS);
    assert.match(apps(result).ramp!.description, /6 connections at 1\.5\/s \(3\.3 s\)/);
  });
});
