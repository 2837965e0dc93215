// The shards' figures as snapshot sources (engine/run/snapshotBuilder.ts): the coordinator builds
// its RunSnapshot with the same SnapshotBuilder a local run uses, from these. A stage's latency
// is the sum of its shards' HDR histograms (exact: the merged percentiles are those of one
// histogram fed every sample), its counters the sum of theirs.
import * as hdr from 'hdr-histogram-js';
import { newHistogram, stageSentence, summarize, valueAtRank } from '../engine/metrics/stageMetrics';
import { combineFigures, declaredLatencies } from '../engine/stages/presentation';
import { findStage } from '../engine/stages/registry';
import type { ApiSource, StageSource } from '../engine/run/snapshotBuilder';
import type { ApiClassSnapshot, ChartColor, LatencySummary, RunSnapshot, StageName, StageSnapshot, Verdict } from '../protocol/snapshot';
import type { ShardApiReport, ShardReport, ShardStageReport } from './message';

/** Decodes and adds encoded histograms; an empty list gives an empty histogram. */
export function mergeEncoded(encoded: Iterable<string | undefined>): hdr.Histogram {
  const merged = newHistogram();
  for (const base64 of encoded) {
    if (!base64) continue;
    const decoded = hdr.decodeFromCompressedBase64(base64);
    merged.add(decoded);
    decoded.destroy();
  }
  return merged;
}

export function summaryOf(encoded: Iterable<string | undefined>): LatencySummary {
  const histogram = mergeEncoded(encoded);
  const summary = summarize(histogram);
  histogram.destroy();
  return summary;
}

/** Several encoded histograms as one, encoded. */
export function encodeMerged(encoded: Iterable<string | undefined>): string {
  const histogram = mergeEncoded(encoded);
  try {
    return hdr.encodeIntoCompressedBase64(histogram);
  } finally {
    histogram.destroy();
  }
}

export function sumBy<T>(items: readonly T[], read: (item: T) => number | undefined): number {
  return items.reduce((total, item) => total + (read(item) ?? 0), 0);
}

function mergeState(states: StageSnapshot['state'][]): StageSnapshot['state'] {
  if (states.every((state) => state === 'skipped')) return 'skipped';
  if (states.every((state) => state === 'waiting')) return 'waiting';
  if (states.every((state) => state === 'done' || state === 'skipped')) return 'done';
  if (states.includes('stopping') && !states.includes('running')) return 'stopping';
  // Running somewhere, or done on some shards and not yet begun on others (they started late).
  return 'running';
}

/** What the sources read from the merger: the latest report of each shard, and the intervals being rolled. */
export interface ShardReports {
  latest(): ShardReport[];
  /** Reports that arrived since the previous roll (each counted once), while a roll is under way. */
  rolling(): ShardReport[];
  /** Bumped on every accepted report: cached figures are stale. */
  generation(): number;
}

/**
 * One stage, merged over the shards that report it. Its figures are the shards'; how they are
 * combined, charted and worded (the stage's presentation) comes from the stage's definition
 * in this build's registry, as on the shards.
 */
export class MergedStageSource implements StageSource {
  verdict: Verdict = 'pending';
  /** Set by the final judgement (it includes the shards' own reasons). */
  reason?: string;
  private recent: LatencySummary = summaryOf([]);
  private cached?: { generation: number; snapshot: StageSnapshot };

  constructor(
    readonly name: StageName,
    private readonly reports: ShardReports,
  ) {}

  private parts(from: ShardReport[]): ShardStageReport[] {
    return from.flatMap((report) => (report.stages[this.name] ? [report.stages[this.name]] : []));
  }

  rollInterval(): void {
    this.recent = summaryOf(this.parts(this.reports.rolling()).map((part) => part.latency.interval));
    this.cached = undefined;
  }

  snapshot(): StageSnapshot {
    const generation = this.reports.generation();
    if (this.cached?.generation !== generation) this.cached = { generation, snapshot: this.merge() };
    return { ...this.cached.snapshot, verdict: this.verdict, reason: this.reason ?? this.cached.snapshot.reason };
  }

  private merge(): StageSnapshot {
    const parts = this.parts(this.reports.latest());
    const first = parts[0];
    const starts = parts.map((p) => p.startedAt).filter((t): t is number => t !== undefined);
    const ends = parts.map((p) => p.endedAt).filter((t): t is number => t !== undefined);
    const state = mergeState(parts.map((p) => p.state));
    const errors: Record<string, number> = {};
    for (const part of parts) for (const [kind, n] of Object.entries(part.errors)) errors[kind] = (errors[kind] ?? 0) + n;
    const progressParts = parts.filter((p) => p.progress);
    const connectParts = parts.filter((p) => p.connect);
    const openLagParts = parts.filter((p) => p.openLag);
    const ramps = parts.flatMap((p) => (p.ramp ? [p.ramp] : []));
    const reasons = [...new Set(parts.map((p) => p.reason).filter((r): r is string => !!r))];
    const expected = sumBy(parts, (p) => p.counters.expected);
    const resynced = sumBy(parts, (p) => p.counters.resynced);
    const presentation = findStage(this.name);
    const latencies = declaredLatencies(presentation).flatMap(([name, meaning]) => {
      const encoded = parts.flatMap((p) => (p.latencies?.[name] ? [p.latencies[name]] : []));
      return encoded.length ? [{ name, meaning, latency: summaryOf(encoded) }] : [];
    });
    const snapshot: StageSnapshot = {
      name: this.name,
      title: first?.title ?? this.name,
      color: first?.color as ChartColor | undefined,
      latencyMeaning: presentation?.latencyMeaning,
      state: parts.length ? state : 'waiting',
      plannedStartMs: first?.plannedStartMs,
      plannedEndMs: first?.plannedEndMs,
      startedAt: starts.length ? Math.min(...starts) : undefined,
      endedAt: state === 'done' && ends.length ? Math.max(...ends) : undefined,
      connections: { active: sumBy(parts, (p) => p.connections.active), target: sumBy(parts, (p) => p.connections.target) },
      latency: summaryOf(parts.map((p) => p.latency.total)),
      latencies: latencies.length ? latencies : undefined,
      figures: combineFigures(
        parts.map((p) => p.figures),
        presentation,
      ),
      charts: presentation?.charts?.length ? [...presentation.charts] : undefined,
      connectLatency: connectParts.length ? summaryOf(connectParts.map((p) => p.connect!.total)) : undefined,
      openLag: openLagParts.length ? summaryOf(openLagParts.map((p) => p.openLag!.total)) : undefined,
      ramp: ramps.length
        ? {
            ...ramps[0],
            heldBackMs: Math.max(...ramps.map((r) => r.heldBackMs)),
            startedLateMs: Math.max(...ramps.map((r) => r.startedLateMs ?? 0)),
          }
        : undefined,
      recentLatency: { ...this.recent },
      bytesSent: sumBy(parts, (p) => p.counters.bytesSent),
      bytesReceived: sumBy(parts, (p) => p.counters.bytesReceived),
      sent: sumBy(parts, (p) => p.counters.sent),
      completed: sumBy(parts, (p) => p.counters.completed),
      expected: expected || undefined,
      mismatches: sumBy(parts, (p) => p.counters.mismatches),
      resynced: resynced || undefined,
      disconnects: sumBy(parts, (p) => p.counters.disconnects),
      reconnects: sumBy(parts, (p) => p.counters.reconnects),
      errors,
      progress: progressParts.length
        ? {
            done: sumBy(progressParts, (p) => p.progress!.done),
            total: sumBy(progressParts, (p) => p.progress!.total),
            failed: sumBy(progressParts, (p) => p.progress!.failed),
            queued: sumBy(progressParts, (p) => p.progress!.queued),
            building: sumBy(progressParts, (p) => p.progress!.building),
          }
        : undefined,
      verdict: 'pending',
      reason: reasons.length ? reasons.join('; ') : undefined,
    };
    if (snapshot.state === 'done' && presentation?.summary) {
      // Worded from the merged histogram: "50 % of users" is of every shard's users together.
      const histogram = mergeEncoded(parts.map((p) => p.latency.total));
      try {
        snapshot.summary = stageSentence(presentation, snapshot, (rank) => valueAtRank(histogram, rank));
      } finally {
        histogram.destroy();
      }
    }
    return snapshot;
  }

  /** The whole-run histograms of this stage over every shard, encoded (for /metrics and the report). */
  encoded(): { latency: string; connect?: string; openLag?: string; latencies?: Record<string, string> } {
    const parts = this.parts(this.reports.latest());
    const connect = parts.filter((p) => p.connect);
    const openLag = parts.filter((p) => p.openLag);
    const names = [...new Set(parts.flatMap((p) => Object.keys(p.latencies ?? {})))];
    return {
      latency: encodeMerged(parts.map((p) => p.latency.total)),
      connect: connect.length ? encodeMerged(connect.map((p) => p.connect!.total)) : undefined,
      openLag: openLag.length ? encodeMerged(openLag.map((p) => p.openLag!.total)) : undefined,
      latencies: names.length
        ? Object.fromEntries(names.map((name) => [name, encodeMerged(parts.map((p) => p.latencies?.[name]))]))
        : undefined,
    };
  }
}

/** The API figures, merged over the shards. */
export class MergedApiSource implements ApiSource {
  private recent = { requestsPerSecond: 0, p95Ms: 0 };
  private requestsAtLastRoll = 0;
  private lastRollAt: number;

  constructor(
    private readonly reports: ShardReports,
    startedAt: number,
  ) {
    this.lastRollAt = startedAt;
  }

  rollInterval(now = Date.now()): void {
    const requests = sumBy(this.reports.latest(), (report) => report.api.total.requests);
    this.recent = {
      requestsPerSecond: (requests - this.requestsAtLastRoll) / Math.max(0.001, (now - this.lastRollAt) / 1000),
      p95Ms: summaryOf(this.reports.rolling().map((report) => report.api.total.latency.interval)).p95,
    };
    this.requestsAtLastRoll = requests;
    this.lastRollAt = now;
  }

  snapshot(): RunSnapshot['api'] {
    const reports = this.reports.latest();
    const mergeClass = (parts: ShardApiReport[]): ApiClassSnapshot => ({
      requests: sumBy(parts, (p) => p.requests),
      errors4xx: sumBy(parts, (p) => p.errors4xx),
      errors5xx: sumBy(parts, (p) => p.errors5xx),
      networkErrors: sumBy(parts, (p) => p.networkErrors),
      latency: summaryOf(parts.map((p) => p.latency.total)),
    });
    const classes = new Set(reports.flatMap((r) => Object.keys(r.api.byClass)));
    return {
      total: mergeClass(reports.map((r) => r.api.total)),
      byClass: Object.fromEntries(
        [...classes].map((name) => [name, mergeClass(reports.flatMap((r) => (r.api.byClass[name] ? [r.api.byClass[name]] : [])))]),
      ),
      recent: { ...this.recent },
    };
  }

  /** Whole-run API histograms over every shard, encoded: `total` and each endpoint class. */
  encoded(): Record<string, string> {
    const reports = this.reports.latest();
    const api: Record<string, string> = { total: encodeMerged(reports.map((r) => r.api.total.latency.total)) };
    for (const name of new Set(reports.flatMap((r) => Object.keys(r.api.byClass))))
      api[name] = encodeMerged(reports.map((r) => r.api.byClass[name]?.latency.total));
    return api;
  }
}
