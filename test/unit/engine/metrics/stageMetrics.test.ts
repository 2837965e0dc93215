import * as assert from 'assert';
import * as fc from 'fast-check';
import * as hdr from 'hdr-histogram-js';
import { libraryGetters as librarySummary } from '../../../../scripts/bench/snapshot';
import { decodeLatency, LatencyRecorder, StageMetrics } from '../../../../src/engine/metrics/stageMetrics';
import { morningRushStage } from '../../../../src/engine/stages/morningRush/descriptor';

describe('latency summaries (one walk per histogram)', () => {
  it('give the same percentiles, mean, min and max as the HDR library, for any recorded values', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.001, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 400 }), (values) => {
        const recorder = new LatencyRecorder();
        const reference = hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
        for (const ms of values) {
          recorder.record(ms);
          reference.recordValue(Math.max(1, Math.round(ms * 1000)));
        }
        const expected = librarySummary(reference);
        assert.deepStrictEqual(recorder.summary(), expected);
        assert.deepStrictEqual(recorder.takeInterval(), expected);
        const encoded = recorder.encode();
        assert.deepStrictEqual(decodeLatency(encoded), librarySummary(hdr.decodeFromCompressedBase64(encoded)));
      }),
      { numRuns: 100 },
    );
  });

  it('an empty histogram summarises to zeros', () => {
    assert.deepStrictEqual(new LatencyRecorder().summary(), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 });
  });
});

describe("a stage's summary sentence, worded by its descriptor", () => {
  it('atRank gives the rank-th smallest value, to the histogram precision, for any recorded values', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600_000 }), { minLength: 1, maxLength: 200 }), (values) => {
        const recorder = new LatencyRecorder();
        for (const ms of values) recorder.record(ms);
        const sorted = [...values].sort((a, b) => a - b);
        for (const rank of [1, Math.ceil(sorted.length / 2), sorted.length]) {
          const expected = sorted[rank - 1]!;
          const got = recorder.atRank(rank)!;
          assert.ok(Math.abs(got - expected) <= expected * 0.001 + 0.001, `rank ${rank}: ${got} vs ${expected}`);
        }
        assert.strictEqual(recorder.atRank(sorted.length + 1), undefined);
        assert.strictEqual(recorder.atRank(0), undefined);
      }),
    );
  });

  it('is worded once the stage is done, from its snapshot; a descriptor that throws is named, not fatal', () => {
    const rush = new StageMetrics('morning_rush', 'Morning rush', { startMs: 0, endMs: 1000 }, 'yellow', morningRushStage);
    rush.targetConnections = 2;
    rush.figures.queue_peak = 2;
    rush.figures.provisioners = 1;
    for (const ms of [4_000, 61_000]) rush.latency.record(ms);
    rush.state = 'running';
    assert.strictEqual(rush.snapshot().summary, undefined, 'not before the stage is done');
    rush.state = 'done';
    assert.strictEqual(
      rush.snapshot().summary,
      '50 % of 2 users had a ready workspace after 4s, 95 % after 1m01s, 100 % after 1m01s; the provisioner queue peaked at 2 job(s) ' +
        'with 1 provisioner(s) (the reference deployment runs 50 for 2000 users: 0.1 for 2)',
    );
    const broken = new StageMetrics('toy', 'Toy', undefined, undefined, {
      summary: () => {
        throw new Error('no figures');
      },
    });
    broken.state = 'done';
    assert.strictEqual(broken.snapshot().summary, "(the Toy stage's summary failed: no figures)");
  });
});
