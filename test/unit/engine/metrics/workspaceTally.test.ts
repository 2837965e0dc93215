import * as assert from 'assert';
import {
  bucketMiddle,
  bucketOf,
  RANKED_EVERY_TIME,
  RTT_BUCKETS,
  RunWorkspaces,
  StageWorkspaces,
} from '../../../../src/engine/metrics/workspaceTally';
import { mergeWorkspaceSnapshots, summarizeWorkspaces, WORST_IN_SNAPSHOT } from '../../../../src/protocol/workspaces';

const identity = (index: number) => ({ index, user: `u${index}`, workspace: `ws-${index}`, agent: 'main' });

describe('workspaceTally: each workspace’s own figures, bounded', () => {
  it('buckets a round trip within 3 % of its value, from 1 µs to the largest bucket', () => {
    for (let micros = 1; micros < 2 ** 27; micros = Math.ceil(micros * 1.07)) {
      const bucket = bucketOf(micros);
      assert.ok(bucket >= 0 && bucket < RTT_BUCKETS, `${micros} µs → bucket ${bucket}`);
      const error = Math.abs(bucketMiddle(bucket) - micros) / micros;
      assert.ok(error <= 0.03, `${micros} µs reads back as ${bucketMiddle(bucket)} (${(error * 100).toFixed(1)} %)`);
    }
    assert.strictEqual(bucketOf(2 ** 40), RTT_BUCKETS - 1, 'values past the range count in the last bucket');
  });

  it('counts one workspace: p50/p95 within 3 %, max exact, errors by kind', () => {
    const stage = new StageWorkspaces('ssh');
    const [tally, other] = stage.track([identity(0), identity(1)]);
    for (let ms = 1; ms <= 100; ms++) tally.record(ms);
    tally.record(250.125);
    tally.countError('echo_timeout', 2);
    tally.disconnects++;
    other.record(7);
    const [mine, theirs] = stage.figures();
    assert.ok(Math.abs(mine.figures.rtt.p50 - 51) / 51 <= 0.03, `p50 ${mine.figures.rtt.p50}`);
    assert.ok(Math.abs(mine.figures.rtt.p95 - 96) / 96 <= 0.03, `p95 ${mine.figures.rtt.p95}`);
    assert.strictEqual(mine.figures.rtt.max, 250.125);
    assert.strictEqual(mine.figures.rtt.count, 101);
    assert.deepStrictEqual(mine.figures.errors, { echo_timeout: 2 });
    // Two workspaces share one array: neither sees the other's round trips.
    assert.deepStrictEqual(theirs.figures.rtt, { count: 1, p50: 7, p95: 7, max: 7 });
    assert.deepStrictEqual(theirs.figures.errors, {});
  });

  it('takes a worker thread’s cumulative figures as they come, beside prepare’s times', () => {
    const worker = new StageWorkspaces('pty');
    const [tally] = worker.track([identity(3)]);
    tally.record(12);
    const parent = new StageWorkspaces('pty');
    parent.report(worker.figures());
    tally.record(40);
    parent.report(worker.figures());
    const prepare = new StageWorkspaces('prepare');
    prepare.prepared({ ...identity(3), agent: '' }, { buildMs: 900 });
    prepare.prepared(identity(3), { agentReadyMs: 300 });
    const [row] = new RunWorkspaces(() => [prepare, parent].map((workspaces) => ({ workspaces }))).rows();
    assert.deepStrictEqual(
      {
        agent: row.agent,
        buildMs: row.buildMs,
        agentReadyMs: row.agentReadyMs,
        max: row.stages.pty.rtt.max,
        count: row.stages.pty.rtt.count,
      },
      { agent: 'main', buildMs: 900, agentReadyMs: 300, max: 40, count: 2 },
    );
  });

  it('snapshots carry the worst few per stage at 2000 workspaces: problems first, then own p95', () => {
    const stage = new StageWorkspaces('apps');
    const tallies = stage.track(Array.from({ length: 2000 }, (_, i) => identity(i)));
    tallies.forEach((tally, i) => tally.record(10 + (i % 97)));
    tallies[1234].countError('reconnect');
    tallies[77].record(5000);
    let now = 0;
    const run = new RunWorkspaces(() => [{ workspaces: stage }], 5000);
    const first = run.summary(false, now)!;
    assert.strictEqual(first.total, 2000);
    assert.strictEqual(first.worst.apps.length, WORST_IN_SNAPSHOT);
    assert.deepStrictEqual(
      first.worst.apps.slice(0, 2).map((row) => row.workspace),
      ['ws-1234', 'ws-77'],
    );
    // Many workspaces: ranked again only every refresh period (or when asked for the final one).
    assert.ok(2000 > RANKED_EVERY_TIME);
    tallies[5].countError('echo_timeout', 9);
    assert.strictEqual(run.summary(false, (now += 1000))!.worst.apps[0].workspace, 'ws-1234');
    assert.strictEqual(run.summary(false, (now += 5000))!.worst.apps[0].workspace, 'ws-5');
  });

  it('ranks prepare failed first, then slowest; shards’ worst lists merge worst first, bounded', () => {
    const prepare = new StageWorkspaces('prepare');
    prepare.prepared(identity(0), { buildMs: 900, agentReadyMs: 100 });
    prepare.prepared(identity(1), { buildMs: 3000, agentReadyMs: 500 });
    prepare.prepared(identity(2), { error: 'build_failed' });
    const run = new RunWorkspaces(() => [{ workspaces: prepare }]);
    assert.deepStrictEqual(
      run.summary()!.worst.prepare.map((row) => row.workspace),
      ['ws-2', 'ws-1', 'ws-0'],
    );
    const shard = (first: number, p95s: number[]) => {
      const stage = new StageWorkspaces('ssh');
      stage.track(p95s.map((_, i) => identity(first + i))).forEach((tally, i) => tally.record(p95s[i]));
      return summarizeWorkspaces(new RunWorkspaces(() => [{ workspaces: stage }]).rows(), 2);
    };
    const merged = mergeWorkspaceSnapshots([shard(0, [5, 50, 7]), shard(10, [30, 90])], 3);
    assert.deepStrictEqual([merged.total, merged.worst.ssh.map((row) => row.workspace)], [5, ['ws-11', 'ws-1', 'ws-10']]);
  });
});
