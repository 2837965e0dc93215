// Is a run better, worse or the same as its baseline? Decided per stage on the whole-run HDR
// histograms, not on one percentile (docs/baselines.md, "Better, worse or the same: how it is decided"):
// 1. Two-sample Kolmogorov-Smirnov: when the largest gap between the two cumulative
//    distributions is within what chance gives at α = 0.01, the stage is the same.
// 2. Otherwise p50, p90, p95 and p99 are compared, each with its distribution-free 95 %
//    confidence interval (order statistics: ranks n·q ± 1.96·√(n·q·(1−q))). A quantile moved
//    when the two intervals do not overlap AND the move is at least 10 % and 0.25 ms (the
//    run-to-run noise of a deployment that did not change, which no single run's sampling
//    error shows).
// 3. Worse when any quantile moved up; better when one moved down and none up; else the same.
import type * as Hdr from 'hdr-histogram-js';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { BaselineComparison, Change, HistogramComparison, QuantileShift, StageComparison } from '../../protocol/comparison';
import type { RunArtifacts } from '../outputs/sinks';

export type { BaselineComparison, Change, HistogramComparison, QuantileShift, StageComparison };

export interface ComparisonRule {
  quantiles: number[];
  /** z of the quantiles' confidence intervals (1.96: 95 %). */
  z: number;
  /** Kolmogorov-Smirnov coefficient c(α) (1.63: α = 0.01). */
  ksCoefficient: number;
  /** Smallest move that counts, relative to the baseline's quantile and in ms. */
  minRelative: number;
  minAbsoluteMs: number;
}

export const DEFAULT_RULE: ComparisonRule = {
  quantiles: [0.5, 0.9, 0.95, 0.99],
  z: 1.96,
  ksCoefficient: 1.63,
  minRelative: 0.1,
  minAbsoluteMs: 0.25,
};

interface CountsWalk {
  countsArrayLength: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
}

/** The histogram as ascending [value µs, count] pairs. */
function buckets(base64: string): { points: [number, number][]; total: number } {
  // Required on first use: the extension host loads this module at activation, and
  // hdr-histogram-js sets up number formatting (ICU) and its codecs when it loads.
  const hdr = require('hdr-histogram-js') as typeof Hdr;
  const histogram = hdr.decodeFromCompressedBase64(base64);
  const walk = histogram as unknown as CountsWalk;
  const points: [number, number][] = [];
  for (let i = 0; i < walk.countsArrayLength; i++) {
    const count = walk.getCountAtIndex(i);
    if (count > 0) points.push([walk.valueFromIndex(i), count]);
  }
  histogram.destroy();
  return { points, total: points.reduce((sum, [, count]) => sum + count, 0) };
}

/** Value (ms) of the sample at 1-based `rank`. */
function valueAtRank(points: [number, number][], rank: number): number {
  let running = 0;
  for (const [value, count] of points) {
    running += count;
    if (running >= rank) return value / 1000;
  }
  return (points.at(-1)?.[0] ?? 0) / 1000;
}

function quantileWithRange(points: [number, number][], n: number, q: number, z: number): { value: number; range: [number, number] } {
  const center = n * q;
  const half = z * Math.sqrt(n * q * (1 - q));
  const clamp = (rank: number) => Math.min(n, Math.max(1, rank));
  return {
    value: valueAtRank(points, clamp(Math.ceil(center))),
    range: [valueAtRank(points, clamp(Math.floor(center - half))), valueAtRank(points, clamp(Math.ceil(center + half)))],
  };
}

function ksDistance(a: [number, number][], nA: number, b: [number, number][], nB: number): number {
  let i = 0;
  let j = 0;
  let cumulativeA = 0;
  let cumulativeB = 0;
  let distance = 0;
  while (i < a.length || j < b.length) {
    const value = Math.min(a[i]?.[0] ?? Infinity, b[j]?.[0] ?? Infinity);
    while (i < a.length && a[i]![0] === value) cumulativeA += a[i++]![1];
    while (j < b.length && b[j]![0] === value) cumulativeB += b[j++]![1];
    distance = Math.max(distance, Math.abs(cumulativeA / nA - cumulativeB / nB));
  }
  return distance;
}

const percent = (q: number) => `p${Math.round(q * 1000) / 10}`;
const signed = (relative: number) => `${relative >= 0 ? '+' : '−'}${Math.abs(Math.round(relative * 100))}%`;

/** Compares two encoded HDR histograms (microseconds); null when either is empty. */
export function compareHistograms(baseline: string, current: string, rule: ComparisonRule = DEFAULT_RULE): HistogramComparison | null {
  const a = buckets(baseline);
  const b = buckets(current);
  if (a.total === 0 || b.total === 0) return null;
  const distance = ksDistance(a.points, a.total, b.points, b.total);
  const critical = rule.ksCoefficient * Math.sqrt((a.total + b.total) / (a.total * b.total));
  const distinguishable = distance > critical;
  const quantiles = rule.quantiles.map((q): QuantileShift => {
    const before = quantileWithRange(a.points, a.total, q, rule.z);
    const after = quantileWithRange(b.points, b.total, q, rule.z);
    const delta = after.value - before.value;
    const relative = before.value > 0 ? delta / before.value : 0;
    const large = Math.abs(relative) >= rule.minRelative && Math.abs(delta) >= rule.minAbsoluteMs;
    let change: Change = 'same';
    if (distinguishable && large && after.range[0] > before.range[1]) change = 'worse';
    else if (distinguishable && large && after.range[1] < before.range[0]) change = 'better';
    return {
      q,
      baselineMs: before.value,
      currentMs: after.value,
      baselineRange: before.range,
      currentRange: after.range,
      relative,
      change,
    };
  });
  const moved = (kind: Change) => quantiles.filter((shift) => shift.change === kind);
  const change: Change = moved('worse').length ? 'worse' : moved('better').length ? 'better' : 'same';
  const ks = `KS distance ${distance.toFixed(3)} (chance: under ${critical.toFixed(3)})`;
  let explanation: string;
  if (!distinguishable) explanation = `same within noise: ${ks}`;
  else if (change === 'same')
    explanation = `same within noise: the distributions differ (${ks}) but no quantile moved by ${Math.round(rule.minRelative * 100)}% and ${rule.minAbsoluteMs} ms beyond its confidence interval`;
  else
    explanation = `${change}: ${moved(change)
      .map((shift) => `${percent(shift.q)} ${signed(shift.relative)}`)
      .join(', ')}; ${ks}`;
  return { change, baselineCount: a.total, currentCount: b.total, ks: { distance, critical }, quantiles, explanation };
}

/** What a comparison needs of a run: its report's figures and histograms. */
export interface ComparableRun {
  runId: string;
  snapshot: Pick<RunSnapshot, 'stages' | 'api'>;
  histograms: RunArtifacts['histograms'];
}

const errorsOf = (stage: RunSnapshot['stages'][number] | undefined) =>
  stage ? Object.values(stage.errors).reduce((sum, n) => sum + n, 0) + stage.mismatches : 0;

/** Every stage with a latency histogram in either run, plus the API, current against baseline. */
export function compareWithBaseline(
  baseline: ComparableRun,
  current: ComparableRun,
  rule: ComparisonRule = DEFAULT_RULE,
): BaselineComparison {
  const names = [...new Set([...current.snapshot.stages, ...baseline.snapshot.stages].map((stage) => stage.name))];
  const stages: StageComparison[] = [];
  for (const name of names) {
    const before = baseline.snapshot.stages.find((stage) => stage.name === name);
    const after = current.snapshot.stages.find((stage) => stage.name === name);
    const encodedBefore = baseline.histograms.stages[name];
    const encodedAfter = current.histograms.stages[name];
    if (!encodedBefore && !encodedAfter) continue;
    const comparison = encodedBefore && encodedAfter ? (compareHistograms(encodedBefore, encodedAfter, rule) ?? undefined) : undefined;
    stages.push({
      name,
      title: (after ?? before)!.title,
      change: comparison?.change ?? 'no-data',
      comparison,
      errors: { baseline: errorsOf(before), current: errorsOf(after) },
      disconnects: { baseline: before?.disconnects ?? 0, current: after?.disconnects ?? 0 },
    });
  }
  const apiBefore = baseline.histograms.api.total;
  const apiAfter = current.histograms.api.total;
  if (apiBefore || apiAfter) {
    const comparison = apiBefore && apiAfter ? (compareHistograms(apiBefore, apiAfter, rule) ?? undefined) : undefined;
    const errors = (api: RunSnapshot['api']) => api.total.errors5xx + api.total.networkErrors;
    stages.push({
      name: 'api',
      title: 'API',
      change: comparison?.change ?? 'no-data',
      comparison,
      errors: { baseline: errors(baseline.snapshot.api), current: errors(current.snapshot.api) },
      disconnects: { baseline: 0, current: 0 },
    });
  }
  const tally: Record<Change, number> = { better: 0, worse: 0, same: 0 };
  for (const stage of stages) if (stage.change !== 'no-data') tally[stage.change]++;
  return { baselineRunId: baseline.runId, currentRunId: current.runId, stages, tally };
}
