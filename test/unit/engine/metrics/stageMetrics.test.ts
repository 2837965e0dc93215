import * as assert from 'assert';
import * as fc from 'fast-check';
import * as hdr from 'hdr-histogram-js';
import { libraryGetters as librarySummary } from '../../../../scripts/bench/snapshot';
import { decodeLatency, LatencyRecorder } from '../../../../src/engine/metrics/stageMetrics';

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
