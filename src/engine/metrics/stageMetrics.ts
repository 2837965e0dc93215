// Latency in HDR histograms (memory flat however long the run) and per-stage counters.
import * as hdr from 'hdr-histogram-js';
import type { ChartColor, LatencySummary, StageName, StageProgress, StageRamp, StageSnapshot } from '../../protocol/snapshot';
import { declaredLatencies, type StagePresentation } from '../stages/presentation';
import { StageWorkspaces } from './workspaceTally';

/** Histograms store microseconds (integers) so sub-millisecond loopback round trips keep their precision. */
const MICROS_PER_MS = 1000;

export const EMPTY_LATENCY: LatencySummary = { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };

export function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
}

/** The JS histograms' (hdr.build's default) internals this module reads for its one-pass walk. */
interface CountsLayout {
  countsArrayLength: number;
  subBucketHalfCount: number;
  unitMagnitude: number;
  /** TypedArrayHistogram's counts; absent for other implementations (then getCountAtIndex). */
  _counts?: ArrayLike<number>;
  getCountAtIndex(index: number): number;
}

const SUMMARY_PERCENTILES = [50, 90, 95, 99] as const;

/**
 * p50/p90/p95/p99 and the mean in ONE pass over the counts array, with the bucket arithmetic
 * inline: the library's getters walk the counts once each (five walks per histogram), and each
 * visited bucket costs them several method calls (valueFromIndex, sizeOfEquivalentValueRange,
 * log2/pow) — together the bulk of a snapshot's cost. Same values as the library's: a
 * percentile is the highest equivalent value of the first bucket whose running count reaches
 * ceil(p% × total); the mean sums median equivalent values.
 */
export function summarize(histogram: hdr.Histogram): LatencySummary {
  const total = histogram.totalCount;
  if (total === 0) return { ...EMPTY_LATENCY };
  // To the microsecond: rounding micros / 1000 × 1000 instead would round 500.5 µs down (0.50049999… ms).
  const ms = (micros: number) => Math.round(micros) / MICROS_PER_MS;
  const layout = histogram as unknown as CountsLayout;
  // The library's rounding: fp count at the percentile, less one ulp, rounded up.
  const wanted = SUMMARY_PERCENTILES.map((p) => {
    const fp = (p / 100) * total;
    return Math.max(Math.ceil(fp - Math.pow(2, Math.floor(Math.log2(fp)) - 52)), 1);
  });
  const found: number[] = [];
  const counts = layout._counts;
  const length = counts ? Math.min(counts.length, layout.countsArrayLength) : layout.countsArrayLength;
  const halfCount = layout.subBucketHalfCount;
  let running = 0;
  let sum = 0;
  // Index i lies in bucket floor(i / halfCount) − 1 (bucket 0 also takes the first half):
  // its lowest value is subBucket × 2^(bucket + unitMagnitude), and 2^(bucket + unitMagnitude)
  // is the width of its range of equivalent values.
  for (let base = 0, bucket = -1; base < length; base += halfCount, bucket++) {
    const width = Math.pow(2, Math.max(bucket, 0) + layout.unitMagnitude);
    const firstSubBucket = bucket < 0 ? 0 : halfCount;
    const end = Math.min(base + halfCount, length);
    for (let i = base; i < end; i++) {
      const count = counts ? counts[i] : layout.getCountAtIndex(i);
      if (count === 0) continue;
      running += count;
      const lowest = (firstSubBucket + i - base) * width;
      sum += (lowest + Math.floor(width / 2)) * count;
      while (found.length < wanted.length && running >= wanted[found.length]) found.push(lowest + width - 1);
    }
  }
  return {
    count: total,
    min: ms(histogram.minNonZeroValue),
    mean: ms(sum / total),
    p50: ms(found[0] ?? 0),
    p90: ms(found[1] ?? 0),
    p95: ms(found[2] ?? 0),
    p99: ms(found[3] ?? 0),
    max: ms(histogram.maxValue),
  };
}

/** Samples of one interval (microseconds), HDR-encoded (compressed base64), with their exact extremes. */
export interface EncodedInterval {
  histogram: string;
  min: number;
  max: number;
}

/** A latency recorder with a whole-run histogram and an interval histogram (reset each snapshot). */
export class LatencyRecorder {
  private readonly total = newHistogram();
  private readonly interval = newHistogram();
  /** Percentiles walk the histogram's buckets: reuse them until a new value arrives. */
  private cached?: LatencySummary;

  record(ms: number): void {
    const micros = Math.max(1, Math.round(ms * MICROS_PER_MS));
    this.total.recordValue(micros);
    this.interval.recordValue(micros);
    this.cached = undefined;
  }

  count(): number {
    return this.total.totalCount;
  }

  /** The `rank`-th smallest value recorded (1-based), ms, to the histogram's precision; undefined past the samples. */
  atRank(rank: number): number | undefined {
    return valueAtRank(this.total, rank);
  }

  summary(): LatencySummary {
    this.cached ??= summarize(this.total);
    return { ...this.cached };
  }

  /** Summary of the values since the last call, then starts a new interval. */
  takeInterval(): LatencySummary {
    const summary = summarize(this.interval);
    this.interval.reset();
    return summary;
  }

  /**
   * A worker's side: what was recorded since the last call, encoded, with its exact min and max
   * (the encoding keeps only bucket counts); then a new interval starts. Undefined when nothing
   * was recorded. A recorder read this way is read only this way.
   */
  takeEncodedInterval(): EncodedInterval | undefined {
    if (this.interval.totalCount === 0) return undefined;
    const taken = {
      histogram: hdr.encodeIntoCompressedBase64(this.interval),
      min: this.interval.minNonZeroValue,
      max: this.interval.maxValue,
    };
    this.interval.reset();
    return taken;
  }

  /** The coordinator's side: adds a worker's interval to the whole run and to the current interval; exact. */
  addEncoded(interval: EncodedInterval): void {
    const decoded = hdr.decodeFromCompressedBase64(interval.histogram);
    try {
      for (const histogram of [this.total, this.interval] as Array<hdr.Histogram & { minNonZeroValue: number; maxValue: number }>) {
        const empty = histogram.totalCount === 0;
        const { minNonZeroValue: min, maxValue: max } = histogram;
        histogram.add(decoded);
        // The encoding keeps bucket counts only (adding records a bucket's lowest value): the
        // exact extremes travel beside it.
        histogram.minNonZeroValue = empty ? interval.min : Math.min(min, interval.min);
        histogram.maxValue = empty ? interval.max : Math.max(max, interval.max);
      }
    } finally {
      decoded.destroy();
    }
    this.cached = undefined;
  }

  /** Compressed base64 HDR encoding of the whole-run histogram (values in microseconds). */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.total);
  }
}

/** The `rank`-th smallest value of `histogram` (1-based), ms; undefined past its samples. */
export function valueAtRank(histogram: hdr.Histogram, rank: number): number | undefined {
  const total = histogram.totalCount;
  if (rank < 1 || rank > total) return undefined;
  // The percentile half a sample below the rank: the library rounds its count up to exactly `rank`.
  return Math.round(histogram.getValueAtPercentile((100 * (rank - 0.5)) / total)) / MICROS_PER_MS;
}

/** Decodes a histogram written by LatencyRecorder.encode (for report readers and shard merging). */
export function decodeLatency(base64: string): LatencySummary {
  return summarize(hdr.decodeFromCompressedBase64(base64));
}

/** A finished stage's sentence, worded by its definition; a definition that fails to word it says so instead of breaking the run. */
export function stageSentence(
  presentation: StagePresentation,
  stage: StageSnapshot,
  latencyAtRank: (rank: number) => number | undefined,
): string | undefined {
  try {
    return presentation.summary?.({ stage, latencyAtRank });
  } catch (error) {
    return `(the ${stage.title} stage's summary failed: ${(error as Error).message})`;
  }
}

/** Live counters and latency of one stage; `snapshot()` turns them into the shared shape. */
export class StageMetrics {
  state: StageSnapshot['state'] = 'waiting';
  startedAt?: number;
  endedAt?: number;
  activeConnections = 0;
  targetConnections = 0;
  bytesSent = 0;
  bytesReceived = 0;
  sent = 0;
  completed = 0;
  expected = 0;
  mismatches = 0;
  resynced = 0;
  disconnects = 0;
  reconnects = 0;
  readonly errors: Record<string, number> = {};
  progress?: StageProgress;
  verdict: StageSnapshot['verdict'] = 'pending';
  reason?: string;
  /** The stage's own live figures, by the names its definition declares (`figures`). */
  readonly figures: Record<string, number> = {};
  readonly latency = new LatencyRecorder();
  /** Echo stages: how long each connection's handshake took (first connects and reconnects). */
  readonly connectLatency = new LatencyRecorder();
  /** Echo stages: how much later than its planned open each connection was up (first opens). */
  readonly openLag = new LatencyRecorder();
  /** Echo stages: the planned ramp, and how long the lag pacer held it back (the most of any thread). */
  ramp?: StageRamp;
  /** Per workspace: echo stages' connections, prepare's build and agent-ready times. */
  readonly workspaces: StageWorkspaces;
  private lastRecent: LatencySummary = { ...EMPTY_LATENCY };
  private readonly namedLatencies = new Map<string, LatencyRecorder>();

  constructor(
    readonly name: StageName,
    readonly title: string,
    readonly planned?: { startMs: number; endMs: number },
    readonly color?: ChartColor,
    /** What the stage's definition declares about its figures and their charts (./stages/presentation.ts). */
    readonly presentation?: StagePresentation,
  ) {
    this.workspaces = new StageWorkspaces(name);
  }

  /** One of the stage's other latencies, by the name its definition declares (`latencies`). */
  latencyOf(name: string): LatencyRecorder {
    let recorder = this.namedLatencies.get(name);
    if (!recorder) {
      if (!Object.hasOwn(this.presentation?.latencies ?? {}, name))
        throw new Error(`stage "${this.name}" records latency "${name}", which its definition does not declare in \`latencies\``);
      recorder = new LatencyRecorder();
      this.namedLatencies.set(name, recorder);
    }
    return recorder;
  }

  /** The other latencies recorded so far, by name. */
  recordedLatencies(): ReadonlyMap<string, LatencyRecorder> {
    return this.namedLatencies;
  }

  countError(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  errorTotal(): number {
    return Object.values(this.errors).reduce((total, n) => total + n, 0);
  }

  /** Call once per snapshot interval: closes the recent-latency window. */
  rollInterval(): void {
    this.lastRecent = this.latency.takeInterval();
  }

  snapshot(): StageSnapshot {
    const presentation = this.presentation;
    const latencies = declaredLatencies(presentation).flatMap(([name, meaning]) => {
      const recorder = this.namedLatencies.get(name);
      return recorder ? [{ name, meaning, latency: recorder.summary() }] : [];
    });
    const snapshot: StageSnapshot = {
      name: this.name,
      title: this.title,
      color: this.color,
      latencyMeaning: presentation?.latencyMeaning,
      state: this.state,
      plannedStartMs: this.planned?.startMs,
      plannedEndMs: this.planned?.endMs,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      connections: { active: this.activeConnections, target: this.targetConnections },
      latency: this.latency.summary(),
      latencies: latencies.length ? latencies : undefined,
      figures: Object.keys(this.figures).length ? { ...this.figures } : undefined,
      charts: presentation?.charts?.length ? presentation.charts.map((chart) => ({ ...chart })) : undefined,
      connectLatency: this.connectLatency.count() > 0 ? this.connectLatency.summary() : undefined,
      openLag: this.openLag.count() > 0 ? this.openLag.summary() : undefined,
      ramp: this.ramp ? { ...this.ramp } : undefined,
      recentLatency: this.lastRecent,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      sent: this.sent,
      completed: this.completed,
      expected: this.expected || undefined,
      mismatches: this.mismatches,
      resynced: this.resynced || undefined,
      disconnects: this.disconnects,
      reconnects: this.reconnects,
      errors: { ...this.errors },
      progress: this.progress ? { ...this.progress } : undefined,
      verdict: this.verdict,
      reason: this.reason,
    };
    if (this.state === 'done' && presentation?.summary)
      snapshot.summary = stageSentence(presentation, snapshot, (rank) => this.latency.atRank(rank));
    return snapshot;
  }
}
