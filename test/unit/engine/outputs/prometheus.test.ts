import * as assert from 'assert';
import * as hdr from 'hdr-histogram-js';
import {
  cumulativeCounts,
  LATENCY_BUCKETS_SECONDS,
  parseMetricsAddress,
  runRegistry,
  type EncodedRunHistograms,
} from '../../../../src/engine/outputs/prometheus';
import type { RunSnapshot, StageSnapshot } from '../../../../src/protocol/snapshot';
import { sampleSnapshot } from '../../../support/snapshotFixture';

const newHistogram = () => hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
const BOUNDS = LATENCY_BUCKETS_SECONDS.map((s) => Math.round(s * 1e6));

/** Seeded: the same samples every run. */
function samples(seed: number, n: number): number[] {
  let state = seed;
  return Array.from({ length: n }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    // Log-spread from 100 µs to ~40 s.
    return Math.round(100 * Math.pow(400_000, state / 2 ** 31));
  });
}

/** The value each sample is reported as: its HDR bucket's highest equivalent value. */
function expectedCounts(values: number[]): number[] {
  const reference = newHistogram() as hdr.Histogram & { highestEquivalentValue(value: number): number };
  return BOUNDS.map((bound) => values.filter((value) => reference.highestEquivalentValue(value) <= bound).length);
}

describe('/metrics: latency histograms projected from the HDR histograms', () => {
  it('counts each bucket as the samples at or below its bound (HDR resolution)', () => {
    const values = samples(7, 5000);
    const histogram = newHistogram();
    for (const value of values) histogram.recordValue(value);
    assert.deepStrictEqual(cumulativeCounts(histogram, BOUNDS), expectedCounts(values));
    // Exact away from the boundaries: every sample lands on the side of its true value.
    const clear = values.filter((value) => BOUNDS.every((bound) => Math.abs(value - bound) > bound * 0.002));
    const exact = newHistogram();
    for (const value of clear) exact.recordValue(value);
    assert.deepStrictEqual(
      cumulativeCounts(exact, BOUNDS),
      BOUNDS.map((bound) => clear.filter((value) => value <= bound).length),
    );
  });

  it("sums across shards to exactly the merged histogram's buckets", () => {
    const shards = [samples(1, 3000), samples(2, 2000), samples(3, 1000)].map((values) => {
      const histogram = newHistogram();
      for (const value of values) histogram.recordValue(value);
      return histogram;
    });
    const merged = newHistogram();
    for (const shard of shards) merged.add(shard);
    const summed = shards.map((shard) => cumulativeCounts(shard, BOUNDS)).reduce((a, b) => a.map((n, i) => n + b[i]));
    assert.deepStrictEqual(summed, cumulativeCounts(merged, BOUNDS));
  });

  it('writes Prometheus text with cumulative buckets, +Inf = _count, and the run labels', async () => {
    const histogram = newHistogram();
    for (const value of [200, 800, 40_000, 2_000_000]) histogram.recordValue(value);
    const encoded: EncodedRunHistograms = { stages: { pty: { latency: hdr.encodeIntoCompressedBase64(histogram) } }, api: {} };
    const snapshot = { stages: [], thresholds: [], api: { total: {}, byClass: {} }, runner: {}, deployment: {} } as unknown as RunSnapshot;
    const registry = runRegistry(
      {
        snapshot: () => ({ ...snapshot, planName: 'p', deploymentUrl: 'http://x', status: 'running', verdict: 'pending' }) as RunSnapshot,
        histograms: () => encoded,
      },
      { runId: 'abc', shard: '0/1' },
    );
    const text = await registry.metrics();
    const bucket = (le: string) =>
      Number(
        new RegExp(`coder_scaletest_latency_seconds_bucket\\{stage="pty",le="${le}",run_id="abc",shard="0/1"\\} (\\d+)`).exec(text)?.[1],
      );
    assert.strictEqual(bucket('0.0005'), 1);
    assert.strictEqual(bucket('0.001'), 2);
    assert.strictEqual(bucket('0.05'), 3);
    assert.strictEqual(bucket('2.5'), 4);
    assert.strictEqual(bucket('\\+Inf'), 4);
    assert.match(text, /coder_scaletest_latency_seconds_count\{stage="pty",run_id="abc",shard="0\/1"\} 4/);
    assert.match(text, /# TYPE coder_scaletest_latency_seconds histogram/);
  });

  it("serves a stage's open lag, its declared latencies (minutes long) and its live figures", async () => {
    const encode = (values: number[]) => {
      const histogram = newHistogram();
      for (const value of values) histogram.recordValue(value);
      return hdr.encodeIntoCompressedBase64(histogram);
    };
    const encoded: EncodedRunHistograms = {
      stages: {
        ssh: { latency: encode([1000]), openLag: encode([5_000, 20_000, 900_000]) },
        // The morning rush's queue wait: 40 s and 4 minutes, beyond the round trips' 30 s bucket.
        morning_rush: { latency: encode([200_000_000]), latencies: { queue_wait: encode([40_000_000, 240_000_000]) } },
      },
      api: {},
    };
    const base = sampleSnapshot();
    const ssh = base.stages.find((stage) => stage.name === 'ssh')!;
    const rush = { ...ssh, name: 'morning_rush', title: 'Morning rush', figures: { queue_depth: 7, ready: 150 } } as StageSnapshot;
    const snapshot: RunSnapshot = { ...base, stages: [ssh, rush] };
    const registry = runRegistry({ snapshot: () => snapshot, histograms: () => encoded }, { runId: 'r', shard: '' });
    const text = await registry.metrics();
    const value = (pattern: string) => Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.strictEqual(value('coder_scaletest_open_lag_seconds_bucket\\{stage="ssh",le="0.025",run_id="r",shard=""\\}'), 2);
    assert.strictEqual(value('coder_scaletest_open_lag_seconds_count\\{stage="ssh",run_id="r",shard=""\\}'), 3);
    const wait = (le: string) =>
      value(`coder_scaletest_stage_latency_seconds_bucket\\{stage="morning_rush",latency="queue_wait",le="${le}",run_id="r",shard=""\\}`);
    assert.strictEqual(wait('30'), 0);
    assert.strictEqual(wait('60'), 1);
    assert.strictEqual(wait('300'), 2);
    assert.strictEqual(value('coder_scaletest_latency_seconds_bucket\\{stage="morning_rush",le="300",run_id="r",shard=""\\}'), 1);
    assert.strictEqual(value('coder_scaletest_stage_figure\\{stage="morning_rush",figure="queue_depth",run_id="r",shard=""\\}'), 7);
    assert.strictEqual(value('coder_scaletest_stage_figure\\{stage="morning_rush",figure="ready",run_id="r",shard=""\\}'), 150);
  });

  it('reads a metrics address: loopback unless an interface is named', () => {
    assert.deepStrictEqual(parseMetricsAddress(':9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepStrictEqual(parseMetricsAddress('9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepStrictEqual(parseMetricsAddress('0.0.0.0:21112'), { host: '0.0.0.0', port: 21112 });
    assert.deepStrictEqual(parseMetricsAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.throws(() => parseMetricsAddress('localhost'), /expected HOST:PORT/);
    assert.throws(() => parseMetricsAddress('1.2.3.4:70000'), /expected HOST:PORT/);
  });
});
