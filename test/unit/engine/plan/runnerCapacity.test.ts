import * as assert from 'assert';
import { defaultPlan } from '../../../../src/engine/plan/plan';
import { CONNECTION_COSTS, runnerCapacity } from '../../../../src/engine/plan/runnerCapacity';

const GIB = 1024 ** 3;
const twoCores = { cores: 2, memoryBytes: 24 * GIB };

describe('runner capacity', () => {
  it('the reference plan at 2000 users over direct SSH: the overlap of three echo stages sets the peak', () => {
    const plan = defaultPlan();
    plan.users = 2000;
    plan.traffic.ssh.transport = 'direct';
    plan.traffic.dashboard.enabled = false;
    const capacity = runnerCapacity(plan, twoCores);
    // SSH [0,3], web terminal [1,4], apps [2,5]: all three open in slot 2.
    assert.strictEqual(capacity.peakConnections, 6000);
    const expectedCores = 2000 * (CONNECTION_COSTS.sshDirect.cores + CONNECTION_COSTS.pty.cores + CONNECTION_COSTS.apps.cores);
    assert.ok(Math.abs(capacity.peakCores - expectedCores) < 0.01, `${capacity.peakCores} vs ${expectedCores}`);
    // 7.6 cores against 1.4 usable: six runners of two cores.
    assert.strictEqual(capacity.limitedBy, 'cpu');
    assert.strictEqual(capacity.shardsNeeded, Math.ceil(expectedCores / 1.4));
    assert.strictEqual(capacity.stages.find((s) => s.stage === 'pty')!.connectionsPerCore, Math.floor(0.7 / CONNECTION_COSTS.pty.cores));
    assert.strictEqual(capacity.memoryPerCliProcess, undefined);
  });

  it('the coder CLI path: a process per connection, and a ramp held to the starts a runner can make', () => {
    const plan = defaultPlan();
    plan.users = 2000;
    plan.traffic.pty.enabled = false;
    plan.traffic.apps.enabled = false;
    plan.traffic.dashboard.enabled = false;
    const capacity = runnerCapacity(plan, twoCores);
    assert.strictEqual(capacity.memoryPerCliProcess, CONNECTION_COSTS.sshCoderCli.memoryBytes);
    assert.strictEqual(capacity.peakMemoryBytes, 2000 * CONNECTION_COSTS.sshCoderCli.memoryBytes);
    // 2000 × 0.8 % of a core = 16 cores against 1.4 usable (memory: 137 GiB against 16.8 would need 9).
    assert.strictEqual(capacity.limitedBy, 'cpu');
    assert.strictEqual(capacity.shardsNeeded, 12);
    assert.match(capacity.summary, /each SSH connection is a coder CLI process of 70 MiB/);
    // 50 starts a second over 12 runners is ~4 each: they fit (1.4 cores ÷ 0.15 s ≈ 9 a second).
    assert.strictEqual(capacity.cliStartsPerSecond, 9);
    assert.strictEqual(capacity.cliRampTooFast, undefined);
    plan.users = 100;
    const one = runnerCapacity(plan, twoCores);
    assert.strictEqual(one.shardsNeeded, 1);
    assert.match(
      one.cliRampTooFast!,
      /starts 50 coder CLI processes a second per runner, about 9 fit: set traffic\.ssh\.connectionsPerSecond to 9 or less/,
    );
    assert.match(one.summary, /about 9 fit/);
  });

  it('a measured CLI process replaces the estimate; the simulated CLI has its own figures', () => {
    const plan = defaultPlan();
    plan.users = 100;
    const measured = runnerCapacity(plan, twoCores, { measuredCliProcess: { memoryBytes: 30 * 1024 * 1024 } });
    assert.strictEqual(measured.memoryPerCliProcess, 30 * 1024 * 1024);
    assert.match(measured.summary, /measured coder CLI process/);
    const simulated = runnerCapacity(plan, twoCores, { simulatedCli: true });
    assert.strictEqual(simulated.memoryPerCliProcess, CONNECTION_COSTS.sshSimulatedCli.memoryBytes);
  });

  it('a small plan fits one runner, and traffic heavier than the reference costs more', () => {
    const plan = defaultPlan();
    plan.users = 20;
    plan.traffic.ssh.transport = 'direct';
    const small = runnerCapacity(plan, twoCores);
    assert.strictEqual(small.shardsNeeded, 1);
    assert.strictEqual(small.limitedBy, 'none');
    assert.strictEqual(small.usersPerRunner, 20);
    assert.match(small.summary, /one runner holds it/);
    plan.traffic.pty.tickIntervalMs = 50;
    const faster = runnerCapacity(plan, twoCores).stages.find((s) => s.stage === 'pty')!;
    assert.ok(Math.abs(faster.cost.cores - 2 * CONNECTION_COSTS.pty.cores) < 1e-9);
  });
});
