// The CLI's face of a capacity search: validate names it, --ndjson carries its steps, `run`
// prints the verdict sentence, and the exit code says whether the capacity reached the minimum.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { capture } from '../../support/capture';
import type { Plan } from '../../../src/engine/plan/plan';
import type { SimDeployment } from '../../../src/sim';
import type { RunSnapshot } from '../../../src/protocol/snapshot';
import { leftovers, smallPlan, startTestSim, tempDir } from '../../support/simRun';

describe('CLI: capacity search', function () {
  this.timeout(90_000);
  let dir: string;
  let sim: SimDeployment;
  beforeEach(async () => {
    dir = tempDir();
    sim = await startTestSim();
    // Web-terminal echoes 800 ms late from the second live terminal on: the deployment holds 1 user.
    sim.setFaults({ loadLatency: { pty: { msPerConnection: 800, above: 1 } } });
  });
  afterEach(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function writePlan(search: Plan['search']): string {
    const plan = smallPlan(sim, { only: ['pty'] });
    plan.timeline.pty = [0, 1.5];
    plan.search = search;
    plan.users = search!.to;
    plan.thresholds = [{ expression: 'pty.rtt.p95 < 400ms', abortOnFail: false, abortAfterSeconds: 0 }];
    const file = path.join(dir, 'search.scaletest.json');
    fs.writeFileSync(file, JSON.stringify(plan));
    return file;
  }

  const env = () => ({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken });

  it('validate names the search; a sharded search is refused before anything is created (exit 2)', async () => {
    const file = writePlan({ from: 1, to: 3, step: 'double', resolution: 1 });
    const validate = capture({});
    assert.strictEqual(await main(['validate', file], validate), 0);
    assert.match(validate.out(), /valid plan "[^"]+": capacity search 1-3 users/);
    const sharded = capture(env());
    assert.strictEqual(await main(['run', file, '--shards', '2', '--local', '--out', dir], sharded), 2);
    assert.match(sharded.err(), /a capacity search \(search in the plan\) runs in one runner: drop --shards/);
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
  });

  it('--ndjson carries every step; the verdict sentence is printed; exit 0 when the capacity reaches the minimum', async () => {
    const io = capture(env());
    assert.strictEqual(
      await main(['run', writePlan({ from: 1, to: 2, step: 'double', resolution: 1, minimum: 1 }), '--out', dir, '--ndjson'], io),
      0,
      io.err(),
    );
    const snapshots = io
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunSnapshot);
    const last = snapshots.at(-1)!;
    assert.deepStrictEqual(
      last.search?.steps.map((step) => [step.users, step.verdict]),
      [
        [1, 'pass'],
        [2, 'fail'],
      ],
    );
    const during = (snapshot: RunSnapshot) =>
      snapshot.search?.steps.length === 2 && snapshot.search.steps[0].verdict === 'pass' && snapshot.search.steps[1].verdict === 'pending';
    assert.ok(snapshots.some(during), "a step's result arrives while the next step runs");
    assert.match(io.err(), /PASSED: holds 1 user; at 2 users `pty\.rtt\.p95` was \d+ ms \(limit < 400 ms\)/);
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
  });

  it('exits 1 when the capacity found is below the minimum, saying so', async () => {
    const io = capture(env());
    assert.strictEqual(
      await main(['run', writePlan({ from: 1, to: 2, step: 1, resolution: 1, minimum: 2 }), '--out', dir], io),
      1,
      io.err(),
    );
    assert.match(io.out(), /FAILED: holds 1 user; at 2 users .*; the plan asks for at least 2 users/);
    assert.match(io.out(), /search 1-2 users: 1✓ 2✗; holds 1 user/);
  });
});
