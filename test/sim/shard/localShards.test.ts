import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { capture } from '../../support/capture';
import type { RunReport } from '../../../src/engine/outputs/report/report';
import type { SimDeployment } from '../../../src/sim';
import { leftovers, smallPlan, startTestSim, tempDir } from '../../support/simRun';

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('run --shards N --local (shard processes merged like a cluster)', function () {
  this.timeout(120_000);
  let sim: SimDeployment;
  let dir: string;
  let planFile: string;
  before(async () => {
    sim = await startTestSim();
    dir = tempDir();
    const plan = smallPlan(sim, { users: 6, only: ['ssh', 'pty'] });
    plan.deployment.prometheusUrl = sim.prometheusUrl;
    planFile = path.join(dir, 'sharded.scaletest.json');
    fs.writeFileSync(planFile, JSON.stringify(plan));
  });
  after(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const readReport = (out: string): RunReport => {
    const [runId] = fs.readdirSync(out);
    return JSON.parse(fs.readFileSync(path.join(out, runId, 'report.json'), 'utf8')) as RunReport;
  };

  it('three shards: every user prepared exactly once, one merged verdict, nothing left after cleanup', async () => {
    const out = path.join(dir, 'three');
    const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
    const code = await main(
      ['run', planFile, '--shards', '3', '--local', '--start-delay', '15', '--url', sim.url, '--out', out, '--ndjson'],
      io,
    );
    assert.strictEqual(code, 0, io.err());
    const report = readReport(out);
    assert.strictEqual(report.verdict, 'pass');
    const prepare = report.stages.find((stage) => stage.name === 'prepare')!;
    assert.deepStrictEqual(
      prepare.progress && { done: prepare.progress.done, total: prepare.progress.total, failed: prepare.progress.failed },
      { done: 6, total: 6, failed: 0 },
    );
    // Six users and six workspaces existed: each user was prepared once, by exactly one shard.
    assert.deepStrictEqual(report.cleanup, { deletedUsers: 6, deletedWorkspaces: 6, leftovers: [] });
    const cleanup = report.stages.find((stage) => stage.name === 'cleanup')!;
    assert.deepStrictEqual([cleanup.state, cleanup.progress?.done], ['done', 12], "the shards' final reports include their cleanup");
    const pty = report.stages.find((stage) => stage.name === 'pty')!;
    assert.strictEqual(pty.connections.target, 6);
    assert.ok(pty.latency.count > 0 && pty.completed === pty.latency.count, "the merged histogram holds every shard's round trips");
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    // Coder's reference figures beside the merged run's, scaled to the plan's 6 users, from the
    // shards' scrapes of the simulated coderd's Prometheus endpoint.
    assert.strictEqual(report.reference?.users, 6);
    const coderdCpu = report.reference?.rows.find((row) => row.id === 'coderd.cpu.median');
    assert.ok(typeof coderdCpu?.measured === 'number', JSON.stringify(coderdCpu));
    // The merged live view went out as NDJSON snapshots of the one run.
    const snapshots = io
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.ok(snapshots.length > 3);
    assert.ok(snapshots.every((snapshot) => snapshot.runId === report.runId));
  });

  it('a shard killed mid-run (SIGKILL) fails the verdict, is named, and its users are cleaned up', async () => {
    const out = path.join(dir, 'killed');
    const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
    const done = main(['run', planFile, '--shards', '3', '--local', '--start-delay', '15', '--url', sim.url, '--out', out, '--ndjson'], io);
    await until(() => /shard 1\/3 started \(pid \d+\)/.test(io.err()), 30_000, 'shard 1 to start');
    const pid = Number(/shard 1\/3 started \(pid (\d+)\)/.exec(io.err())![1]);
    await until(() => /"status":"running"/.test(io.out()), 60_000, 'traffic to start');
    process.kill(pid, 'SIGKILL');
    const code = await done;
    // A lost shard is the runner's failure: exit 5 (runner suspect), not 1 (the deployment failed).
    assert.strictEqual(code, 5, io.err());
    const report = readReport(out);
    assert.strictEqual(report.verdict, 'fail');
    assert.match(report.reason!, /shard 1\/3 was lost \(killed by SIGKILL\)/);
    assert.match(io.out() + io.err(), /lost\s+shard 1\/3: killed by SIGKILL/);
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] }, "the coordinator cleaned up the lost shard's users");
  });
});
