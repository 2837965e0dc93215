import * as assert from 'assert';
import * as hdr from 'hdr-histogram-js';
import { newHistogram, StageMetrics } from '../../../src/engine/metrics/stageMetrics';
import { seededRandom } from '../../../src/engine/common/random';
import type { LatencySummary, RunSnapshot } from '../../../src/protocol/snapshot';
import { encodeShardMessage, parseShardMessage, parseShardSpec, SHARD_MESSAGE_VERSION, shardUserIndexes } from '../../../src/shard/message';
import { ShardMerger } from '../../../src/shard/merge';
import { intervalOf, ShardReporter, type EncodedTotals } from '../../../src/shard/producer';
import { morningRushStage } from '../../../src/engine/stages/morningRush/descriptor';

const API = {
  requests: 0,
  errors4xx: 0,
  errors5xx: 0,
  networkErrors: 0,
  latency: { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 },
};

/** One shard's engine state: a pty stage whose figures the test sets. */
class FakeShard {
  readonly pty = new StageMetrics('pty', 'Web terminal', { startMs: 0, endMs: 60_000 });
  readonly reporter: ShardReporter;

  constructor(
    readonly index: number,
    count: number,
  ) {
    this.reporter = new ShardReporter('strun1', { index, count });
    this.pty.state = 'running';
  }

  /** A shard report, through its NDJSON line and back (as the coordinator reads it). */
  line(
    status: RunSnapshot['status'] = 'running',
    deployment: Partial<RunSnapshot['deployment']> = {},
  ): ReturnType<typeof parseShardMessage> {
    const snapshot = {
      status,
      stages: [this.pty.snapshot()],
      api: { total: { ...API, requests: 10 }, byClass: {} },
      runner: { cpuPercent: 10 * (this.index + 1), rssBytes: 100, heapUsedBytes: 50, eventLoopLagP99Ms: this.index, overloaded: false },
      deployment: { url: 'http://127.0.0.1:1', healthy: true, restarts: 0, ...deployment },
    } as unknown as RunSnapshot;
    const totals: EncodedTotals = {
      stages: { pty: { latency: this.pty.latency.encode(), connect: this.pty.connectLatency.encode() } },
      api: { total: this.pty.connectLatency.encode() },
    };
    const report = this.reporter.report(snapshot, totals);
    return parseShardMessage(encodeShardMessage(report));
  }

  result(exitCode = 0, leftovers: string[] = []): ReturnType<typeof parseShardMessage> {
    return parseShardMessage(
      encodeShardMessage(
        this.reporter.result({ exitCode, status: 'finished', cleanup: { deletedUsers: 2, deletedWorkspaces: 2, leftovers } }),
      ),
    );
  }
}

/** One shard's morning rush: a stage with latencies (and figures) of its own, declared by its descriptor. */
function rushShard(index: number, count: number) {
  const metrics = new StageMetrics('morning_rush', 'Morning rush', { startMs: 0, endMs: 60_000 }, 'yellow', morningRushStage);
  metrics.state = 'running';
  const reporter = new ShardReporter('strun1', { index, count });
  const line = () => {
    const snapshot = {
      status: 'running',
      stages: [metrics.snapshot()],
      api: { total: { ...API, requests: 1 }, byClass: {} },
      runner: { cpuPercent: 1, rssBytes: 1, heapUsedBytes: 1, eventLoopLagP99Ms: 0, overloaded: false },
      deployment: { url: 'http://127.0.0.1:1', healthy: true, restarts: 0 },
    } as unknown as RunSnapshot;
    const latencies = Object.fromEntries([...metrics.recordedLatencies()].map(([name, recorder]) => [name, recorder.encode()]));
    const totals: EncodedTotals = {
      stages: { morning_rush: { latency: metrics.latency.encode(), latencies } },
      api: { total: metrics.latency.encode() },
    };
    return parseShardMessage(encodeShardMessage(reporter.report(snapshot, totals)));
  };
  return { metrics, line };
}

function merger(count: number, thresholds: string[] = [], extra: Partial<ConstructorParameters<typeof ShardMerger>[0]> = {}): ShardMerger {
  return new ShardMerger({
    ...extra,
    runId: 'strun1',
    planName: 'p',
    deploymentUrl: 'http://127.0.0.1:1',
    shardCount: count,
    thresholds: thresholds.map((expression) => ({ expression, abortOnFail: false, abortAfterSeconds: 0 })),
    timelineMs: 60_000,
    slotMs: 10_000,
  });
}

/**
 * Count and percentiles exactly; min and max are stored at the HDR bucket's edge once a histogram
 * is encoded, so they agree within the histogram's precision (3 significant digits).
 */
function assertSameDistribution(merged: LatencySummary, reference: LatencySummary): void {
  const { min, max, mean, ...exact } = merged;
  const { min: refMin, max: refMax, mean: refMean, ...refExact } = reference;
  assert.deepStrictEqual(exact, refExact);
  for (const [a, b] of [
    [min, refMin],
    [max, refMax],
    [mean, refMean],
  ])
    assert.ok(Math.abs(a - b) <= b * 0.001, `${a} vs ${b}`);
}

describe('shard message and merge', () => {
  it('merged percentiles equal those of one histogram fed every sample, live intervals included', () => {
    const random = seededRandom(7);
    const shards = [0, 1, 2].map((index) => new FakeShard(index, 3));
    const reference = new StageMetrics('pty', 'Web terminal');
    const recentReference = new StageMetrics('pty', 'Web terminal');
    const coordinator = merger(3);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3000; i++) {
        // Each shard gets its own latency profile, so no single shard looks like the whole.
        const shard = shards[i % 3];
        const ms = (shard.index + 1) * 5 + random() * 40 * (shard.index + 1) + (random() < 0.01 ? 900 : 0);
        shard.pty.latency.record(ms);
        reference.latency.record(ms);
        if (round === 1) recentReference.latency.record(ms);
      }
      for (const shard of shards) assert.ok(coordinator.accept(shard.line()));
      const merged = coordinator.snapshot().stages.find((stage) => stage.name === 'pty')!;
      assertSameDistribution(merged.latency, reference.latency.summary());
      if (round === 1) assertSameDistribution(merged.recentLatency, recentReference.latency.summary());
    }
  });

  it("merges a stage's own latencies over the shards, named and explained by its descriptor", () => {
    const shards = [0, 1].map((index) => rushShard(index, 2));
    for (const ms of [100, 200]) shards[0]!.metrics.latencyOf('queue_wait').record(ms);
    shards[1]!.metrics.latencyOf('queue_wait').record(3000);
    shards[1]!.metrics.latencyOf('build_created').record(50);
    const coordinator = merger(2);
    for (const shard of shards) assert.ok(coordinator.accept(shard.line()));
    const rush = coordinator.snapshot().stages.find((stage) => stage.name === 'morning_rush')!;
    const named = Object.fromEntries((rush.latencies ?? []).map((entry) => [entry.name, entry]));
    assert.deepStrictEqual(Object.keys(named), ['build_created', 'queue_wait'], 'in the order the descriptor declares them');
    assert.strictEqual(named.queue_wait!.meaning, morningRushStage.latencies!.queue_wait);
    assert.strictEqual(named.queue_wait!.latency.count, 3);
    assert.ok(Math.abs(named.queue_wait!.latency.max - 3000) <= 3, `max ${named.queue_wait!.latency.max}`);
    assert.strictEqual(named.build_created!.latency.count, 1);
  });

  it("combines a stage's own figures over the shards as its descriptor says, and carries its charts", () => {
    const shards = [0, 1].map((index) => rushShard(index, 2));
    // Each shard polls the same deployment-wide queue (max); each counts its own users' workspaces (sum).
    Object.assign(shards[0]!.metrics.figures, { queued: 7, queue_peak: 9, ready: 3 });
    Object.assign(shards[1]!.metrics.figures, { queued: 6, queue_peak: 11, ready: 4 });
    const coordinator = merger(2);
    for (const shard of shards) assert.ok(coordinator.accept(shard.line()));
    const rush = coordinator.snapshot().stages.find((stage) => stage.name === 'morning_rush')!;
    assert.deepStrictEqual(rush.figures, { queued: 7, queue_peak: 11, ready: 7 });
    assert.deepStrictEqual(
      rush.charts?.map((chart) => chart.id),
      ['queue', 'progress'],
    );
    assert.strictEqual(rush.latencyMeaning, 'scheduled start → agent ready');
  });

  it("words a finished stage's sentence from the merged histogram: the shares are of every shard's users", () => {
    const shards = [0, 1].map((index) => rushShard(index, 2));
    // Shard 0's users were ready fast, shard 1's slowly: neither alone knows when half of all were.
    for (const [shard, readyMs] of [
      [shards[0]!, [2_000, 3_000]],
      [shards[1]!, [90_000, 120_000]],
    ] as const) {
      shard.metrics.targetConnections = 2;
      Object.assign(shard.metrics.figures, { queue_peak: 3, provisioners: 2 });
      for (const ms of readyMs) shard.metrics.latency.record(ms);
      shard.metrics.state = 'done';
    }
    const coordinator = merger(2);
    for (const shard of shards) assert.ok(coordinator.accept(shard.line()));
    const rush = coordinator.snapshot().stages.find((stage) => stage.name === 'morning_rush')!;
    assert.strictEqual(
      rush.summary,
      '50 % of 4 users had a ready workspace after 3s, 95 % after 2m00s, 100 % after 2m00s; the provisioner queue peaked at 3 job(s) ' +
        'with 2 provisioner(s) (the reference deployment runs 50 for 2000 users: 0.1 for 4)',
    );
  });

  it('adds up counters, errors, connections and memory, and takes the busiest runner', () => {
    const shards = [0, 1].map((index) => new FakeShard(index, 2));
    shards.forEach((shard, i) => {
      shard.pty.sent = 100 * (i + 1);
      shard.pty.completed = 90 * (i + 1);
      shard.pty.bytesSent = 1000 * (i + 1);
      shard.pty.disconnects = i;
      shard.pty.targetConnections = 5;
      shard.pty.countError('read');
    });
    const coordinator = merger(2);
    for (const shard of shards) coordinator.accept(shard.line());
    const snapshot = coordinator.snapshot();
    const pty = snapshot.stages.find((stage) => stage.name === 'pty')!;
    assert.deepStrictEqual(
      {
        sent: pty.sent,
        completed: pty.completed,
        bytesSent: pty.bytesSent,
        disconnects: pty.disconnects,
        target: pty.connections.target,
        errors: pty.errors,
      },
      { sent: 300, completed: 270, bytesSent: 3000, disconnects: 1, target: 10, errors: { read: 2 } },
    );
    assert.strictEqual(snapshot.api.total.requests, 20);
    assert.deepStrictEqual([snapshot.runner.cpuPercent, snapshot.runner.rssBytes], [20, 200]);
  });

  it("sets Coder's reference figures beside the merged run's, from the shards' scrapes, scaled to the plan's users", () => {
    const shards = [0, 1].map((index) => new FakeShard(index, 2));
    const coordinator = merger(2, [], { reference: { users: 40, prometheusUrl: 'http://127.0.0.1:2112/metrics', runner: null } });
    let snapshot: RunSnapshot | undefined;
    for (const [second, cpuCores] of [0.2, 0.4, 0.6].entries()) {
      const prometheus = { scrapedAt: 1000 * (second + 1), cpuCores, apiRequestsPerSecond: 5, concurrentWebsockets: 12 };
      for (const shard of shards) coordinator.accept(shard.line('running', { prometheus } as Partial<RunSnapshot['deployment']>));
      snapshot = coordinator.snapshot();
    }
    const reference = snapshot!.reference!;
    assert.strictEqual(reference.users, 40);
    const row = (id: string) => reference.rows.find((r) => r.id === id)!;
    // The traffic phase's median of the three scrapes (each seen once, not once per shard).
    assert.strictEqual(row('coderd.cpu.median').measured, 0.4);
    assert.strictEqual(row('coderd.cpu.peak').measured, 0.6);
    // The runner is the shards' machines, not the coordinator's: not measured.
    assert.strictEqual(row('setup.runner').measured, undefined);
    const finished = coordinator.finish();
    assert.strictEqual(finished.snapshot.reference?.rows.find((r) => r.id === 'coderd.cpu.median')?.measured, 0.4);
    // Without reference settings (an older caller), no table.
    assert.strictEqual(merger(1).snapshot().reference, undefined);
  });

  it('judges thresholds on the merged view, not on any shard or an average of shards', () => {
    const shards = [0, 1, 2].map((index) => new FakeShard(index, 3));
    for (let i = 0; i < 100; i++) {
      shards[0].pty.latency.record(10);
      shards[1].pty.latency.record(10);
      shards[2].pty.latency.record(500);
    }
    // Averaging the shards' p95 would give (10 + 10 + 500) / 3 ≈ 173 ms and pass; the merged p95 is 500 ms.
    const coordinator = merger(3, ['pty.rtt.p95 < 300ms', 'pty.rtt.p50 < 300ms']);
    for (const shard of shards) coordinator.accept(shard.line());
    const live = coordinator.snapshot();
    assert.deepStrictEqual(
      live.thresholds.map((t) => t.verdict),
      ['fail', 'pass'],
    );
    for (const shard of shards) {
      shard.pty.state = 'done';
      coordinator.accept(shard.line('finished'));
      coordinator.accept(shard.result());
    }
    assert.ok(coordinator.ended());
    const outcome = coordinator.finish();
    assert.strictEqual(outcome.verdict, 'fail');
    assert.strictEqual(outcome.exitCode, 1);
    assert.match(outcome.reason!, /pty\.rtt\.p95 was 500ms/);
    assert.deepStrictEqual(outcome.cleanup, { deletedUsers: 6, deletedWorkspaces: 6, leftovers: [] });
  });

  it('passes when every shard ended well, and counts a lost shard against the verdict by name', () => {
    const shards = [0, 1].map((index) => new FakeShard(index, 2));
    for (const shard of shards) {
      shard.pty.latency.record(20);
      shard.pty.state = 'done';
    }
    const good = merger(2, ['pty.rtt.p95 < 300ms']);
    for (const shard of shards) {
      good.accept(shard.line('finished'));
      good.accept(shard.result());
    }
    assert.deepStrictEqual([good.finish().verdict, good.finish().exitCode], ['pass', 0]);

    const lossy = merger(2, ['pty.rtt.p95 < 300ms']);
    for (const shard of shards) lossy.accept(shard.line('running'));
    lossy.accept(shards[0].result());
    assert.ok(!lossy.ended());
    lossy.lose(1, 'killed by SIGKILL');
    const outcome = lossy.finish();
    // A lost shard is the runner's failure, not the deployment's: exit 5 (runner suspect).
    assert.deepStrictEqual([outcome.verdict, outcome.exitCode, outcome.lostShards], ['fail', 5, [{ index: 1, why: 'killed by SIGKILL' }]]);
    assert.match(outcome.reason!, /shard 1\/2 was lost \(killed by SIGKILL\)/);
  });

  it('a shard that left resources behind fails the merged verdict with exit 4', () => {
    const shard = new FakeShard(0, 1);
    shard.pty.latency.record(20);
    shard.pty.state = 'done';
    const coordinator = merger(1);
    coordinator.accept(shard.line('finished'));
    coordinator.accept(shard.result(1, ['user scaletest-abcdefgh-strun1']));
    const outcome = coordinator.finish();
    assert.deepStrictEqual([outcome.verdict, outcome.exitCode], ['fail', 4]);
    assert.match(outcome.reason!, /cleanup left 1 resource\(s\) of run strun1 behind/);
  });

  it('takes intervals off totals whose maximum lies in the last bucket of the range (hdr subtract edge)', () => {
    for (const top of [4095, 4096, 12_345, 2_000_000]) {
      const total = newHistogram();
      total.recordValue(top);
      const previous = hdr.encodeIntoCompressedBase64(total);
      total.recordValue(100);
      const interval = hdr.decodeFromCompressedBase64(intervalOf(hdr.encodeIntoCompressedBase64(total), previous));
      assert.deepStrictEqual([interval.totalCount, interval.maxValue < 101], [1, true], `top value ${top}`);
      interval.destroy();
    }
  });

  it('refuses other versions, other runs and malformed lines with a reason', () => {
    const line = encodeShardMessage(
      new FakeShard(0, 1).reporter.result({
        exitCode: 0,
        status: 'finished',
        cleanup: { deletedUsers: 0, deletedWorkspaces: 0, leftovers: [] },
      }),
    );
    assert.throws(
      () => parseShardMessage(line.replace(`"version":${SHARD_MESSAGE_VERSION}`, '"version":99')),
      /version 99 is not supported/,
    );
    assert.throws(() => parseShardMessage('{"type":"shard-result","version":1}'), /invalid shard-result/);
    assert.throws(() => parseShardMessage('hello'), /invalid JSON/);
    const coordinator = merger(2);
    assert.strictEqual(coordinator.accept(parseShardMessage(line)), false, 'a 1-shard message in a 2-shard run');
    assert.match(coordinator.rejected!, /does not belong to run strun1 with 2 shards/);
  });

  it('shares users out: every index exactly once over the shards; --shard I/N checked', () => {
    const all = [0, 1, 2].flatMap((index) => shardUserIndexes(10, { index, count: 3 }));
    assert.deepStrictEqual(
      all.sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepStrictEqual(shardUserIndexes(10, { index: 1, count: 3 }), [1, 4, 7]);
    assert.deepStrictEqual(parseShardSpec('2/3'), { index: 2, count: 3 });
    assert.throws(() => parseShardSpec('3/3'), /expected I\/N with 0 ≤ I < N/);
    assert.throws(() => parseShardSpec('x'), /--shard "x"/);
  });
});
