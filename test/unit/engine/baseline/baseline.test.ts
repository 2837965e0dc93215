import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { fakeReport, histogram, snapshotWithPty, writeReport } from '../../../support/baselineFixture';
import { compareHistograms, compareWithBaseline } from '../../../../src/engine/baseline/compare';
import {
  baselineFile,
  clearBaseline,
  listBaselines,
  lookupBaseline,
  markBaseline,
  planShapeHash,
  readBaseline,
  type BaselineLookup,
} from '../../../../src/engine/baseline/store';
import { ThresholdJudge } from '../../../../src/engine/judge/judge';
import { newShardMerger } from '../../../../src/shard/coordinator';
import { LatencyRecorder } from '../../../../src/engine/metrics/stageMetrics';
import { defaultPlan, validatePlan } from '../../../../src/engine/plan/plan';
import { seededRandom } from '../../../../src/engine/common/random';
import { parseThreshold } from '../../../../src/engine/judge/thresholds';
import { tempDir } from '../../../support/simRun';

describe('baseline thresholds', () => {
  it("parses `baseline`, `* factor` and `+/- offset` in the metric's unit", () => {
    const relative = parseThreshold('pty.rtt.p95 < baseline * 1.2');
    assert.deepStrictEqual([relative.baseline, relative.unit, Number.isNaN(relative.limit)], [{ factor: 1.2, offset: 0 }, 'ms', true]);
    assert.deepStrictEqual(parseThreshold('pty.rtt.p95 <= baseline*1.5 + 0.05s').baseline, { factor: 1.5, offset: 50 });
    assert.deepStrictEqual(parseThreshold('api.errors_5xx <= baseline').baseline, { factor: 1, offset: 0 });
    assert.deepStrictEqual(parseThreshold('ssh.throughput >= baseline - 5%').baseline, { factor: 1, offset: -0.05 });
    assert.strictEqual(parseThreshold('ssh.disconnects <= baseline + 1%').unit, '%');
  });

  it('explains badly written baseline expressions', () => {
    assert.throws(() => parseThreshold('pty.rtt.p95 < 1.2 * baseline'), /"baseline" first, then "\* <factor>"/);
    assert.throws(() => parseThreshold('pty.rtt.p95 < baseline * 0'), /factor after "baseline \*" must be above 0/);
    assert.throws(() => parseThreshold('pty.rtt.p95 < baseline + 5%'), /is a duration/);
    assert.throws(() => parseThreshold('api.errors_5xx <= baseline + 3ms'), /is a count/);
    assert.throws(() => parseThreshold('pty.rtt.p42 < baseline'), /unknown metric/);
    assert.throws(
      () => validatePlan({ thresholds: [{ expression: 'pty.rtt.p95 < baselin * 2' }] }),
      /thresholds\[0\]\.expression: cannot read/,
    );
  });

  it('resolves the limit from the baseline run and shows it; fails when the run is slower', () => {
    const record = { runId: 'stbase1', snapshot: snapshotWithPty(Array.from({ length: 100 }, (_, i) => 100 + i)) };
    const lookup = { kind: 'ok', record } as unknown as BaselineLookup;
    const judge = new ThresholdJudge([{ expression: 'pty.rtt.p95 < baseline * 1.2', abortOnFail: false, abortAfterSeconds: 0 }], lookup);
    const [pending] = judge.states();
    assert.match(pending!.limit!, /^< 23\dms \(baseline 19\dms × 1\.2\)$/);
    judge.evaluate(snapshotWithPty(Array.from({ length: 100 }, (_, i) => 110 + i)), { final: true, trafficPhase: false });
    assert.strictEqual(judge.states()[0]!.verdict, 'pass');
    judge.evaluate(snapshotWithPty(Array.from({ length: 100 }, (_, i) => 300 + i)), { final: true, trafficPhase: false });
    const [failed] = judge.states();
    assert.strictEqual(failed!.verdict, 'fail');
    assert.match(failed!.reason!, /pty\.rtt\.p95 was 39\dms, required < 23\dms \(baseline 19\dms × 1\.2\)/);
  });

  it("counts compare with the baseline's count: `api.errors_5xx <= baseline`", () => {
    const lookup = { kind: 'ok', record: { runId: 'stb', snapshot: snapshotWithPty([1], { errors5xx: 2 }) } } as unknown as BaselineLookup;
    const judge = new ThresholdJudge([{ expression: 'api.errors_5xx <= baseline', abortOnFail: false, abortAfterSeconds: 0 }], lookup);
    judge.evaluate(snapshotWithPty([1], { errors5xx: 2 }), { final: true, trafficPhase: false });
    assert.strictEqual(judge.states()[0]!.verdict, 'pass');
    judge.evaluate(snapshotWithPty([1], { errors5xx: 3 }), { final: true, trafficPhase: false });
    assert.strictEqual(judge.states()[0]!.verdict, 'fail');
  });

  it('without a fitting baseline, a baseline threshold is not applicable and says why; plain thresholds still judge', () => {
    const specs = [
      { expression: 'pty.rtt.p95 < baseline * 1.2', abortOnFail: true, abortAfterSeconds: 0 },
      { expression: 'pty.rtt.p95 < 1ms', abortOnFail: false, abortAfterSeconds: 0 },
    ];
    const cases: [BaselineLookup | undefined, RegExp][] = [
      [undefined, /no baseline is marked for this plan/],
      [{ kind: 'none', file: '/r/baselines/x.json' }, /x\.json does not exist/],
      [
        { kind: 'stale', record: { runId: 'stold' } as never, differences: ['users 10 → 20'] },
        /run stold\) was measured with a different plan \(users 10 → 20\)/,
      ],
      [
        { kind: 'ok', record: { runId: 'stold', snapshot: snapshotWithPty([]) } as never },
        /baseline run stold has no data for pty\.rtt\.p95/,
      ],
    ];
    for (const [lookup, reason] of cases) {
      const judge = new ThresholdJudge(specs, lookup);
      const { abort } = judge.evaluate(snapshotWithPty([500]), { final: false, trafficPhase: true, now: 0 });
      assert.strictEqual(abort, undefined, 'a threshold without a baseline never aborts');
      judge.evaluate(snapshotWithPty([500]), { final: true, trafficPhase: false });
      const [relative, plain] = judge.states();
      assert.strictEqual(relative!.verdict, 'skipped');
      assert.match(relative!.reason!, reason);
      assert.strictEqual(plain!.verdict, 'fail');
    }
  });
});

describe('baseline comparison on HDR histograms', () => {
  it('two samples of the same distribution are the same within noise', () => {
    for (const [seedA, seedB, n] of [
      [11, 12, 5000],
      [13, 14, 300],
      [15, 16, 30],
    ]) {
      const result = compareHistograms(histogram(seedA!, n!, 20), histogram(seedB!, n!, 20))!;
      assert.strictEqual(result.change, 'same', `n=${n}: ${result.explanation}`);
    }
  });

  it('a 30 % slower run is worse and a 30 % faster one better, each quantile with its interval', () => {
    const base = histogram(21, 3000, 20);
    const worse = compareHistograms(base, histogram(22, 3000, 26))!;
    assert.strictEqual(worse.change, 'worse', worse.explanation);
    assert.ok(worse.ks.distance > worse.ks.critical);
    const p95 = worse.quantiles.find((shift) => shift.q === 0.95)!;
    assert.ok(p95.relative > 0.15 && p95.relative < 0.45, `p95 moved ${p95.relative}`);
    assert.ok(p95.baselineRange[0] <= p95.baselineMs && p95.baselineMs <= p95.baselineRange[1]);
    assert.match(worse.explanation, /^worse: p50 \+\d+%/);
    assert.strictEqual(compareHistograms(base, histogram(23, 3000, 14))!.change, 'better');
  });

  it('a statistically clear but small shift (5 %) is the same: under the practical floor', () => {
    const result = compareHistograms(histogram(31, 50_000, 20), histogram(32, 50_000, 21))!;
    assert.ok(result.ks.distance > result.ks.critical, 'KS tells them apart');
    assert.strictEqual(result.change, 'same', result.explanation);
  });

  it('a slower tail alone is worse (not only one percentile is looked at)', () => {
    const random = seededRandom(41);
    const base = new LatencyRecorder();
    const tail = new LatencyRecorder();
    for (let i = 0; i < 4000; i++) {
      const ms = 10 + random() * 2;
      base.record(ms);
      tail.record(i % 20 === 0 ? ms * 4 : ms);
    }
    const result = compareHistograms(base.encode(), tail.encode())!;
    assert.strictEqual(result.change, 'worse', result.explanation);
    assert.deepStrictEqual(
      result.quantiles.filter((s) => s.change === 'worse').map((s) => s.q),
      [0.99],
    );
    assert.strictEqual(result.quantiles.find((s) => s.q === 0.5)!.change, 'same');
  });

  it('tiny samples are never called worse: their intervals are too wide', () => {
    assert.strictEqual(compareHistograms(histogram(51, 8, 20), histogram(52, 8, 30))!.change, 'same');
  });

  it('compares every stage and the API of two runs, and tallies them', () => {
    const baseline = {
      runId: 'stb',
      snapshot: snapshotWithPty([1]),
      histograms: { stages: { pty: histogram(61, 2000, 20) }, api: { total: histogram(62, 2000, 5) } },
    };
    const current = {
      runId: 'stc',
      snapshot: snapshotWithPty([1], { errors5xx: 4 }),
      histograms: { stages: { pty: histogram(63, 2000, 40) }, api: { total: histogram(64, 2000, 5) } },
    };
    const comparison = compareWithBaseline(baseline, current);
    assert.deepStrictEqual(
      comparison.stages.map((s) => [s.name, s.change]),
      [
        ['pty', 'worse'],
        ['api', 'same'],
      ],
    );
    assert.deepStrictEqual(comparison.stages[1]!.errors, { baseline: 0, current: 4 });
    assert.deepStrictEqual(comparison.tally, { better: 0, worse: 1, same: 1 });
  });
});

describe('baseline store', () => {
  let out: string;
  beforeEach(() => (out = tempDir()));
  afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

  it('marks a run in <out>/baselines/<plan>.json with its histograms, and survives deleting the run', () => {
    const plan = validatePlan({ name: 'Nightly: 2k users!' });
    const dir = writeReport(out, fakeReport(plan));
    const { file, record } = markBaseline(dir, out);
    assert.strictEqual(file, path.join(out, 'baselines', 'nightly-2k-users.json'));
    assert.strictEqual(record.runId, 'stbase1');
    assert.deepStrictEqual(record.snapshot.history, [], 'history is left out');
    fs.rmSync(dir, { recursive: true });
    const found = lookupBaseline(out, plan);
    assert.strictEqual(found.kind, 'ok');
    assert.ok(found.kind === 'ok' && found.record.histograms.stages.pty);
    assert.deepStrictEqual(
      listBaselines(out).map((b) => b.planName),
      ['Nightly: 2k users!'],
    );
  });

  it('replacing names the previous baseline; clearing removes it', () => {
    const plan = defaultPlan();
    markBaseline(writeReport(out, fakeReport(plan, 'stfirst')), out);
    assert.strictEqual(markBaseline(writeReport(out, fakeReport(plan, 'stsecond')), out).replaced, 'stfirst');
    assert.strictEqual(clearBaseline(out, plan.name), 'stsecond');
    assert.strictEqual(readBaseline(out, plan.name), null);
    assert.strictEqual(clearBaseline(out, plan.name), undefined);
  });

  it('a changed plan shape makes the baseline stale; thresholds and names do not', () => {
    const plan = defaultPlan();
    markBaseline(writeReport(out, fakeReport(plan)), out);
    const sameShape = structuredClone(plan);
    sameShape.thresholds = [{ expression: 'pty.rtt.p95 < baseline * 1.2', abortOnFail: false, abortAfterSeconds: 0 }];
    sameShape.cleanup.strategy = 'never';
    assert.strictEqual(planShapeHash(sameShape), planShapeHash(plan));
    assert.strictEqual(lookupBaseline(out, sameShape).kind, 'ok');
    const bigger = structuredClone(plan);
    bigger.users = 40;
    bigger.traffic.pty.enabled = false;
    const stale = lookupBaseline(out, bigger);
    assert.ok(stale.kind === 'stale');
    assert.deepStrictEqual(stale.differences, ['users 10 → 40', 'traffic changed']);
  });

  it("a sharded run's merger finds the baseline beside its report directory and resolves the limits", () => {
    const plan = defaultPlan();
    plan.thresholds = [{ expression: 'pty.rtt.p95 < baseline * 2', abortOnFail: false, abortAfterSeconds: 0 }];
    markBaseline(writeReport(out, fakeReport(plan)), out);
    const merger = newShardMerger(plan, { url: 'http://127.0.0.1:1', token: 'x' }, 'stshard', 2, path.join(out, 'stshard'));
    assert.strictEqual(merger.baseline?.kind, 'ok');
    assert.match(merger.snapshot().thresholds[0]!.limit ?? '', /^< 400ms \(baseline 200ms × 2\)$/);
  });

  it('refuses an unfinished run and a file that is not a baseline', () => {
    const report = fakeReport();
    (report as { status: string }).status = 'aborted';
    assert.throws(() => markBaseline(writeReport(out, report), out), /did not finish \(status aborted\)/);
    fs.mkdirSync(path.dirname(baselineFile(out, 'x')), { recursive: true });
    fs.writeFileSync(baselineFile(out, 'x'), '{"hello": 1}');
    assert.throws(() => readBaseline(out, 'x'), /is not a coder-scaletest baseline/);
  });
});
