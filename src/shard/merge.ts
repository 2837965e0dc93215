// The coordinator's half of a sharded run: it takes every shard's messages (src/shard/message.ts),
// adds their HDR histograms (exact: the merged percentiles are those of one histogram fed every
// sample) and sums their counters into one RunSnapshot, judges the plan's thresholds on that
// merged view, live and at the end, and counts a shard that died against the verdict.
import * as hdr from 'hdr-histogram-js';
import { newHistogram, summarize } from '../engine/metrics/stageMetrics';
import { HistoryRecorder } from '../engine/metrics/historyRecorder';
import type { BaselineLookup } from '../engine/baseline/store';
import { ThresholdJudge } from '../engine/judge/judge';
import { EXIT_CODES, type ExitReason } from '../engine/run/outcome';
import { ReferenceCollector, type ReferenceSettings } from '../engine/reference/collector';
import type { ThresholdSpec } from '../engine/plan/plan';
import type {
  ApiClassSnapshot,
  ChartColor,
  DeploymentSnapshot,
  LatencySummary,
  RunnerChildren,
  RunnerSnapshot,
  RunSnapshot,
  RunStatus,
  StageName,
  StageSnapshot,
  Verdict,
} from '../protocol/snapshot';
import type { ShardApiReport, ShardMessage, ShardReport, ShardResult, ShardStageReport } from './message';

export interface MergeOptions {
  runId: string;
  planName: string;
  deploymentUrl: string;
  shardCount: number;
  thresholds: ThresholdSpec[];
  timelineMs: number;
  slotMs: number;
  reportDir?: string;
  startedAt?: number;
  /** The plan's baseline run, for `… < baseline * 1.2` thresholds and the report (docs/baselines.md). */
  baseline?: BaselineLookup;
  /** Coder's reference figures beside the merged run's (the plan's users and metric endpoints). */
  reference?: ReferenceSettings;
}

/** What the coordinator decides once every shard has ended (or was declared lost). */
export interface MergedOutcome {
  snapshot: RunSnapshot;
  verdict: Verdict;
  exit: ExitReason;
  /** As a local run: EXIT_CODES[exit]. */
  exitCode: number;
  reason?: string;
  lostShards: Array<{ index: number; why: string }>;
  cleanup: { deletedUsers: number; deletedWorkspaces: number; leftovers: string[] };
}

interface ShardState {
  report?: ShardReport;
  result?: ShardResult;
  lost?: string;
  /** Interval histograms received since the coordinator's previous snapshot, not yet merged. */
  pendingIntervals: ShardReport[];
}

const EVENTS_KEPT = 200;

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

function summaryOf(encoded: Iterable<string | undefined>): LatencySummary {
  const histogram = mergeEncoded(encoded);
  const summary = summarize(histogram);
  histogram.destroy();
  return summary;
}

function sumBy<T>(items: readonly T[], read: (item: T) => number | undefined): number {
  return items.reduce((total, item) => total + (read(item) ?? 0), 0);
}

function mergeState(states: StageSnapshot['state'][]): StageSnapshot['state'] {
  if (states.every((state) => state === 'skipped')) return 'skipped';
  if (states.every((state) => state === 'waiting')) return 'waiting';
  if (states.every((state) => state === 'done' || state === 'skipped')) return 'done';
  if (states.includes('running')) return 'running';
  if (states.includes('stopping')) return 'stopping';
  // Some shards have finished the stage, others not yet begun it (they started late).
  return 'running';
}

const STATUS_ORDER: RunStatus[] = ['running', 'preparing', 'cleaning', 'starting', 'error', 'aborted', 'finished'];

export class ShardMerger {
  private readonly shards: ShardState[];
  private readonly judge: ThresholdJudge;
  private readonly history: HistoryRecorder;
  private readonly reference?: ReferenceCollector;
  private abort?: string;
  private readonly recent = new Map<string, LatencySummary>();
  private apiRecent = { requestsPerSecond: 0, p95Ms: 0 };
  private apiRequestsAtLastRoll = 0;
  private lastRollAt: number;
  private readonly startedAt: number;
  /** Warnings and errors the shards reported, prefixed with the shard, for the report. */
  readonly events: Array<{ level: string; time: number; stage?: string; message: string }> = [];
  /** The first message a shard sent that did not belong to this run, for the coordinator to report. */
  rejected?: string;

  constructor(private readonly options: MergeOptions) {
    this.startedAt = options.startedAt ?? Date.now();
    this.lastRollAt = this.startedAt;
    this.shards = Array.from({ length: options.shardCount }, () => ({ pendingIntervals: [] }));
    this.judge = new ThresholdJudge(options.thresholds, options.baseline);
    this.history = new HistoryRecorder(undefined, this.startedAt);
    if (options.reference) this.reference = new ReferenceCollector(options.reference);
  }

  get baseline(): BaselineLookup | undefined {
    return this.options.baseline;
  }

  /** Takes one message; returns false (and sets `rejected`) for a message of another run or shard layout. */
  accept(message: ShardMessage): boolean {
    if (
      message.runId !== this.options.runId ||
      message.shard.count !== this.options.shardCount ||
      message.shard.index >= this.options.shardCount
    ) {
      this.rejected ??= `a message from shard ${message.shard.index}/${message.shard.count} of run ${message.runId} does not belong to run ${this.options.runId} with ${this.options.shardCount} shards`;
      return false;
    }
    const shard = this.shards[message.shard.index];
    if (message.type === 'shard-result') {
      shard.result = message;
      return true;
    }
    if (shard.report && message.seq <= shard.report.seq) return true;
    shard.report = message;
    shard.pendingIntervals.push(message);
    for (const event of message.events ?? []) {
      this.events.push({ ...event, message: `shard ${message.shard.index}: ${event.message}` });
      if (this.events.length > EVENTS_KEPT) this.events.shift();
    }
    return true;
  }

  /** A shard that died or vanished: it counts against the verdict and is named in the report. */
  lose(index: number, why: string): void {
    const shard = this.shards[index];
    if (shard && !shard.result && !shard.lost) shard.lost = why;
  }

  /** Whether this shard has ended (its result, or lost). */
  shardEnded(index: number): boolean {
    const shard = this.shards[index];
    return !!shard && (!!shard.result || !!shard.lost);
  }

  /** Shards that ended (result or lost). */
  ended(): boolean {
    return this.shards.every((shard) => shard.result || shard.lost);
  }

  lostShards(): Array<{ index: number; why: string }> {
    return this.shards.flatMap((shard, index) => (shard.lost ? [{ index, why: shard.lost }] : []));
  }

  /** Once per snapshot period: the merged view, its live threshold judgement and a history point. */
  snapshot(now = Date.now()): RunSnapshot {
    this.rollRecent(now);
    const snapshot = this.build(now);
    const { abort } = this.judge.evaluate(snapshot, {
      final: false,
      trafficPhase: snapshot.status === 'preparing' || snapshot.status === 'running',
      now,
    });
    this.abort ??= abort;
    snapshot.thresholds = this.judge.states();
    this.history.record(snapshot);
    snapshot.history = this.history.points();
    // Every shard scrapes the same endpoints; the merged snapshot carries one shard's scrapes.
    this.reference?.record(snapshot);
    snapshot.reference = this.reference?.view();
    return snapshot;
  }

  /** Whole-run histograms of the merged run, encoded (for the report). */
  encodedHistograms(): { stages: Record<string, string>; api: Record<string, string> } {
    const reports = this.reports();
    const encode = (encoded: Array<string | undefined>) => {
      const histogram = mergeEncoded(encoded);
      const text = hdr.encodeIntoCompressedBase64(histogram);
      histogram.destroy();
      return text;
    };
    const stages: Record<string, string> = {};
    for (const name of this.stageNames(reports)) stages[name] = encode(reports.map((r) => r.stages[name]?.latency.total));
    const api: Record<string, string> = { total: encode(reports.map((r) => r.api.total.latency.total)) };
    for (const name of new Set(reports.flatMap((r) => Object.keys(r.api.byClass))))
      api[name] = encode(reports.map((r) => r.api.byClass[name]?.latency.total));
    return { stages, api };
  }

  /** Final judgement once every shard has a result or was lost; `aborted` when the user stopped the run. */
  finish(options: { aborted?: boolean; now?: number } = {}): MergedOutcome {
    const snapshot = this.build(options.now ?? Date.now());
    this.judge.evaluate(snapshot, { final: true, trafficPhase: false });
    snapshot.thresholds = this.judge.states();
    snapshot.history = this.history.points();
    snapshot.reference = this.reference?.view();
    const failed = this.judge.failed();
    const lost = this.lostShards();
    const results = this.shards.map((shard) => shard.result).filter((result): result is ShardResult => !!result);
    const problems: string[] = [];
    for (const { index, why } of lost)
      problems.push(`shard ${index}/${this.options.shardCount} was lost (${why}); its share of the traffic is missing`);
    for (const result of results) {
      if (result.status === 'error')
        problems.push(`shard ${result.shard.index}/${this.options.shardCount} stopped on an error: ${result.reason ?? 'no reason given'}`);
    }
    if (failed.length > 0) problems.push(`${failed.length} threshold(s) failed: ${failed.map((t) => t.reason).join('; ')}`);
    const cleanup = {
      deletedUsers: sumBy(results, (r) => r.cleanup.deletedUsers),
      deletedWorkspaces: sumBy(results, (r) => r.cleanup.deletedWorkspaces),
      leftovers: results.flatMap((r) => r.cleanup.leftovers),
    };
    const cleanupStage = snapshot.stages.find((stage) => stage.name === 'cleanup');
    if (cleanup.leftovers.length > 0 && cleanupStage?.state !== 'skipped') {
      problems.push(
        `cleanup left ${cleanup.leftovers.length} resource(s) behind; remove them with: coder-scaletest cleanup --run-id ${this.options.runId}`,
      );
    }
    for (const stage of snapshot.stages) Object.assign(stage, this.judge.judgeStage(stage));
    const aborted = options.aborted || results.some((r) => r.status === 'aborted' && r.exitCode === 130);
    const verdict: Verdict = problems.length > 0 || aborted ? 'fail' : 'pass';
    const reason = options.aborted ? ['aborted by the user', ...problems].join('; ') : problems.join('; ') || undefined;
    const exitCodes = results.map((r) => r.exitCode);
    const exit: ExitReason = options.aborted
      ? 'aborted'
      : exitCodes.includes(EXIT_CODES.access)
        ? 'access'
        : exitCodes.length > 0 && exitCodes.every((code) => code === EXIT_CODES.plan)
          ? 'plan'
          : verdict === 'pass'
            ? 'passed'
            : 'failed';
    Object.assign(snapshot, {
      verdict,
      reason,
      status: options.aborted ? 'aborted' : lost.length > 0 || results.some((r) => r.status === 'error') ? 'error' : 'finished',
    });
    snapshot.currentStage = undefined;
    return { snapshot, verdict, exit, exitCode: EXIT_CODES[exit], reason, lostShards: lost, cleanup };
  }

  private reports(): ShardReport[] {
    return this.shards.map((shard) => shard.report).filter((report): report is ShardReport => !!report);
  }

  private stageNames(reports: ShardReport[]): StageName[] {
    const names: StageName[] = [];
    for (const report of reports) for (const name of Object.keys(report.stages) as StageName[]) if (!names.includes(name)) names.push(name);
    return names;
  }

  /** Merges the interval histograms that arrived since the previous snapshot: each counted once. */
  private rollRecent(now: number): void {
    const pending = this.shards.flatMap((shard) => shard.pendingIntervals.splice(0));
    this.recent.clear();
    for (const name of new Set(pending.flatMap((report) => Object.keys(report.stages)))) {
      this.recent.set(name, summaryOf(pending.map((report) => report.stages[name]?.latency.interval)));
    }
    const requests = sumBy(this.reports(), (report) => report.api.total.requests);
    this.apiRecent = {
      requestsPerSecond: (requests - this.apiRequestsAtLastRoll) / Math.max(0.001, (now - this.lastRollAt) / 1000),
      p95Ms: summaryOf(pending.map((report) => report.api.total.latency.interval)).p95,
    };
    this.apiRequestsAtLastRoll = requests;
    this.lastRollAt = now;
  }

  private build(now: number): RunSnapshot {
    const reports = this.reports();
    const stages = this.stageNames(reports).map((name) =>
      this.mergeStage(
        name,
        reports.flatMap((report) => (report.stages[name] ? [report.stages[name]] : [])),
      ),
    );
    const status = this.status(reports);
    const running = stages.find((stage) => stage.state === 'running' && stage.name !== 'prepare' && stage.name !== 'cleanup');
    const timelineStarts = reports.map((r) => r.timelineStartedAt).filter((t): t is number => t !== undefined);
    const lost = this.lostShards();
    return {
      schemaVersion: 1,
      runId: this.options.runId,
      planName: this.options.planName,
      deploymentUrl: this.options.deploymentUrl,
      status,
      startedAt: this.startedAt,
      now,
      timelineStartedAt: timelineStarts.length ? Math.min(...timelineStarts) : undefined,
      timelineMs: this.options.timelineMs,
      slotMs: this.options.slotMs,
      currentStage: status === 'preparing' ? 'prepare' : status === 'cleaning' ? 'cleanup' : running?.name,
      stages,
      thresholds: this.judge.states(),
      api: { ...this.mergeApi(reports), recent: { ...this.apiRecent } },
      deployment: this.deployment(),
      runner: this.mergeRunner(reports),
      history: [],
      verdict: 'pending',
      reason: lost.length ? lost.map(({ index, why }) => `shard ${index}/${this.options.shardCount} lost: ${why}`).join('; ') : undefined,
      reportDir: this.options.reportDir,
    };
  }

  private status(reports: ShardReport[]): RunStatus {
    const statuses = this.shards.map(
      (shard) => shard.result?.status ?? shard.report?.status ?? (shard.lost ? 'error' : 'starting'),
    ) as RunStatus[];
    if (reports.length === 0) return 'starting';
    if (this.ended()) return statuses.includes('error') ? 'error' : statuses.includes('aborted') ? 'aborted' : 'finished';
    return STATUS_ORDER.find((status) => statuses.includes(status)) ?? 'running';
  }

  private mergeStage(name: StageName, parts: ShardStageReport[]): StageSnapshot {
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
    return {
      name,
      title: first.title,
      color: first.color as ChartColor | undefined,
      state,
      plannedStartMs: first.plannedStartMs,
      plannedEndMs: first.plannedEndMs,
      startedAt: starts.length ? Math.min(...starts) : undefined,
      endedAt: state === 'done' && ends.length ? Math.max(...ends) : undefined,
      connections: { active: sumBy(parts, (p) => p.connections.active), target: sumBy(parts, (p) => p.connections.target) },
      latency: summaryOf(parts.map((p) => p.latency.total)),
      connectLatency: connectParts.length ? summaryOf(connectParts.map((p) => p.connect!.total)) : undefined,
      openLag: openLagParts.length ? summaryOf(openLagParts.map((p) => p.openLag!.total)) : undefined,
      ramp: ramps.length ? { ...ramps[0], heldBackMs: Math.max(...ramps.map((r) => r.heldBackMs)) } : undefined,
      recentLatency: this.recent.get(name) ?? summaryOf([]),
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
  }

  private mergeApi(reports: ShardReport[]): RunSnapshot['api'] {
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
    };
  }

  /** The busiest shard's CPU and lag (the runner that limits the run), the shards' memory added up. */
  private mergeRunner(reports: ShardReport[]): RunnerSnapshot {
    const runners = reports.map((r) => r.runner);
    const overloaded = reports.filter((r) => r.runner.overloaded);
    return {
      cpuPercent: Math.max(0, ...runners.map((r) => r.cpuPercent)),
      rssBytes: sumBy(runners, (r) => r.rssBytes),
      heapUsedBytes: sumBy(runners, (r) => r.heapUsedBytes),
      eventLoopLagP99Ms: Math.max(0, ...runners.map((r) => r.eventLoopLagP99Ms)),
      eventLoopStalledMs: Math.max(0, ...runners.map((r) => r.eventLoopStalledMs ?? 0)),
      overloaded: overloaded.length > 0,
      warning: overloaded.length
        ? overloaded.map((r) => `shard ${r.shard.index}: ${r.runner.warning ?? 'overloaded'}`).join('; ')
        : undefined,
      children: mergeChildren(runners.flatMap((r) => (r.children ? [r.children] : []))),
    };
  }

  private deployment(): DeploymentSnapshot {
    const seen = this.shards.find((shard) => shard.report?.deployment)?.report?.deployment as DeploymentSnapshot | undefined;
    return seen ?? { url: this.options.deploymentUrl, healthy: false, restarts: 0 };
  }

  /**
   * Why every shard must stop, once an abortOnFail threshold has failed on the merged view for
   * its abortAfterSeconds during traffic (shards never abort on their own judgement).
   */
  abortReason(): string | undefined {
    return this.abort;
  }
}

/** The shards' child processes added up, kind by kind (on their own machines: a sum, not one machine's load). */
function mergeChildren(parts: RunnerChildren[]): RunnerChildren | undefined {
  if (parts.length === 0) return undefined;
  const kinds = new Map<string, RunnerChildren['kinds'][number]>();
  for (const part of parts)
    for (const kind of part.kinds) {
      const sum = kinds.get(kind.kind) ?? { kind: kind.kind, count: 0, cpuPercent: 0, rssBytes: 0 };
      kinds.set(kind.kind, {
        ...sum,
        count: sum.count + kind.count,
        cpuPercent: sum.cpuPercent + kind.cpuPercent,
        rssBytes: sum.rssBytes + kind.rssBytes,
      });
    }
  return {
    count: sumBy(parts, (p) => p.count),
    cpuPercent: sumBy(parts, (p) => p.cpuPercent),
    rssBytes: sumBy(parts, (p) => p.rssBytes),
    kinds: [...kinds.values()],
  };
}
