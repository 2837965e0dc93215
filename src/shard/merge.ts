// The coordinator's half of a sharded run: it takes every shard's messages (src/shard/message.ts)
// and builds the run's snapshot with the same SnapshotBuilder a local run uses, from merged
// sources (./mergedSources.ts); it judges the plan's thresholds on that merged view, live and at
// the end, and decides the outcome with the same decideOutcome (engine/judge/outcome.ts), a
// lost shard counting against it.
import type { BaselineLookup } from '../engine/baseline/store';
import { ThresholdJudge } from '../engine/judge/judge';
import { decideOutcome, type ExitReason } from '../engine/judge/outcome';
import { HistoryRecorder } from '../engine/metrics/historyRecorder';
import type { ThresholdSpec } from '../engine/plan/plan';
import { ReferenceCollector, type ReferenceSettings } from '../engine/reference/collector';
import { SnapshotBuilder, type RunState } from '../engine/run/snapshotBuilder';
import type { EncodedRunHistograms } from '../engine/outputs/prometheus';
import type { DeploymentSnapshot, RunnerChildren, RunnerSnapshot, RunSnapshot, RunStatus, StageName, Verdict } from '../protocol/snapshot';
import { mergeWorkspaceSnapshots, type WorkspaceRow, type WorkspacesSnapshot } from '../protocol/workspaces';
import type { ShardMessage, ShardReport, ShardResult } from './message';
import { MergedApiSource, MergedStageSource, sumBy, type ShardReports } from './mergedSources';

export { mergeEncoded } from './mergedSources';

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

export interface CleanupTotal {
  deletedUsers: number;
  deletedWorkspaces: number;
  leftovers: string[];
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
  cleanup: CleanupTotal;
}

interface ShardState {
  report?: ShardReport;
  result?: ShardResult;
  lost?: string;
  /** Interval histograms received since the coordinator's previous snapshot, not yet merged. */
  pendingIntervals: ShardReport[];
}

const EVENTS_KEPT = 200;
const STATUS_ORDER: RunStatus[] = ['running', 'preparing', 'cleaning', 'starting', 'error', 'aborted', 'finished'];
const ACCESS_EXIT = 3;
const PLAN_EXIT = 2;
const SIGNAL_EXIT = 130;

export class ShardMerger {
  private readonly shards: ShardState[];
  private readonly judge: ThresholdJudge;
  private readonly history: HistoryRecorder;
  private readonly reference?: ReferenceCollector;
  private readonly builder: SnapshotBuilder;
  private readonly stages: MergedStageSource[] = [];
  private readonly api: MergedApiSource;
  private rolling: ShardReport[] = [];
  private generation = 0;
  private abort?: string;
  /** Set by finish(): the outcome's verdict and reason, shown by every later snapshot. */
  private final?: RunState;
  private readonly startedAt: number;
  /** Warnings and errors the shards reported, prefixed with the shard, for the report. */
  readonly events: Array<{ level: string; time: number; stage?: string; message: string }> = [];
  /** The first message a shard sent that did not belong to this run, for the coordinator to report. */
  rejected?: string;

  constructor(private readonly options: MergeOptions) {
    this.startedAt = options.startedAt ?? Date.now();
    this.shards = Array.from({ length: options.shardCount }, () => ({ pendingIntervals: [] }));
    this.judge = new ThresholdJudge(options.thresholds, options.baseline);
    this.history = new HistoryRecorder(undefined, this.startedAt);
    if (options.reference) this.reference = new ReferenceCollector(options.reference);
    this.api = new MergedApiSource(this.sourceReports(), this.startedAt);
    this.builder = new SnapshotBuilder(
      {
        runId: options.runId,
        planName: options.planName,
        deploymentUrl: options.deploymentUrl,
        startedAt: this.startedAt,
        timelineMs: options.timelineMs,
        slotMs: options.slotMs,
        reportDir: options.reportDir,
      },
      {
        stages: this.stages,
        api: this.api,
        deployment: () => this.deployment(),
        runner: () => this.mergeRunner(),
        thresholds: () => this.judge.states(),
        history: () => this.history.points(),
        ...(this.reference ? { reference: () => this.reference!.view() } : {}),
        workspaces: () => this.workspaces(),
        state: () => this.final ?? this.state(),
      },
    );
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
    this.generation++;
    for (const name of Object.keys(message.stages))
      if (!this.stages.some((stage) => stage.name === name)) this.stages.push(new MergedStageSource(name, this.sourceReports()));
    for (const event of message.events ?? []) {
      this.events.push({ ...event, message: `shard ${message.shard.index}: ${event.message}` });
      if (this.events.length > EVENTS_KEPT) this.events.shift();
    }
    return true;
  }

  private sourceReports(): ShardReports {
    return { latest: () => this.reports(), rolling: () => this.rolling, generation: () => this.generation };
  }

  /** A shard that died or vanished: it counts against the verdict and is named in the report. */
  lose(index: number, why: string): void {
    const shard = this.shards[index];
    if (shard && !shard.result && !shard.lost) {
      shard.lost = why;
      this.generation++;
    }
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
    // Each interval histogram that arrived since the previous snapshot is merged once.
    this.rolling = this.shards.flatMap((shard) => shard.pendingIntervals.splice(0));
    this.builder.rollInterval();
    this.rolling = [];
    const snapshot = this.builder.build(now);
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

  /** The latest merged view without rolling an interval (e.g. for /metrics between snapshots). */
  latest(now = Date.now()): RunSnapshot {
    return this.builder.build(now);
  }

  /** Whole-run histograms of the merged run, encoded: stage latency (and handshakes), API by class. */
  encodedHistograms(): { stages: Record<string, string>; api: Record<string, string> } {
    return { stages: Object.fromEntries(this.stages.map((stage) => [stage.name, stage.encoded().latency])), api: this.api.encoded() };
  }

  /** The same, with each stage's handshake histogram, as /metrics reads them. */
  metricHistograms(): EncodedRunHistograms {
    return { stages: Object.fromEntries(this.stages.map((stage) => [stage.name, stage.encoded()])), api: this.api.encoded() };
  }

  /**
   * The final judgement once every shard has a result or was lost: `aborted` when the user stopped
   * the run, `thresholdAbort` when the coordinator stopped it for a breached threshold, `extraCleanup`
   * what the coordinator's own cleanup (of lost shards, or a sweep) deleted and left.
   */
  finish(options: { aborted?: boolean; thresholdAbort?: string; extraCleanup?: CleanupTotal; now?: number } = {}): MergedOutcome {
    const now = options.now ?? Date.now();
    for (const { expression, explanation } of this.judge.finalJudgement(this.builder.build(now), this.history.points(), this.stages))
      this.events.push({ level: 'warn', time: now, message: `${expression}: ${explanation}` });
    const lost = this.lostShards();
    const results = this.shards.map((shard) => shard.result).filter((result): result is ShardResult => !!result);
    const of = (index: number) => `shard ${index}/${this.options.shardCount}`;
    const access = results.find((result) => result.exitCode === ACCESS_EXIT);
    const planMismatch = results.length > 0 && results.every((result) => result.exitCode === PLAN_EXIT) ? results[0] : undefined;
    const extra = options.extraCleanup ?? { deletedUsers: 0, deletedWorkspaces: 0, leftovers: [] };
    const shardLeftovers = results.flatMap((r) => r.cleanup.leftovers);
    const cleanup: CleanupTotal = {
      deletedUsers: sumBy(results, (r) => r.cleanup.deletedUsers) + extra.deletedUsers,
      deletedWorkspaces: sumBy(results, (r) => r.cleanup.deletedWorkspaces) + extra.deletedWorkspaces,
      leftovers: [...shardLeftovers, ...extra.leftovers.filter((leftover) => !shardLeftovers.includes(leftover))],
    };
    const stopped = options.aborted || options.thresholdAbort !== undefined;
    const outcome = decideOutcome({
      // The deployment's answer, the same to every shard: worded as a local run's.
      access: access ? (access.reason ?? 'the deployment refused access') : undefined,
      planMismatch: planMismatch ? (planMismatch.reason ?? 'the plan does not fit the deployment') : undefined,
      abort: options.aborted
        ? { by: 'user', reason: 'aborted by the user' }
        : options.thresholdAbort
          ? { by: 'threshold', reason: options.thresholdAbort }
          : undefined,
      errors: results
        .filter((result) => result.status === 'error' && result.exitCode !== ACCESS_EXIT && result.exitCode !== PLAN_EXIT)
        .map((result) => `${of(result.shard.index)} stopped on an error: ${result.reason ?? 'no reason given'}`),
      runnerProblems: [
        ...lost.map(({ index, why }) => `${of(index)} was lost (${why}); its share of the traffic is missing`),
        // Stopped by something other than this coordinator (e.g. its pod was deleted).
        ...results
          .filter((result) => !stopped && result.status === 'aborted' && result.exitCode === SIGNAL_EXIT)
          .map((result) => `${of(result.shard.index)} was stopped (${result.reason ?? 'by a signal'})`),
      ],
      failedThresholds: this.judge.failed(),
      cleanup: {
        ran: this.stages.find((stage) => stage.name === 'cleanup')?.snapshot().state !== 'skipped',
        leftovers: cleanup.leftovers.length,
      },
      runId: this.options.runId,
    });
    this.final = { ...this.state(), status: outcome.status, verdict: outcome.verdict, reason: outcome.reason, currentStage: undefined };
    const snapshot = this.builder.build(now);
    snapshot.thresholds = this.judge.states();
    snapshot.history = this.history.points();
    snapshot.reference = this.reference?.view();
    return {
      snapshot,
      verdict: outcome.verdict,
      exit: outcome.exit,
      exitCode: outcome.exitCode,
      reason: outcome.reason,
      lostShards: lost,
      cleanup,
    };
  }

  /** The worst workspaces per stage over every shard (each sends its own worst few: their union holds the overall worst). */
  private workspaces(): WorkspacesSnapshot | undefined {
    const parts = this.reports().flatMap((report) => (report.workspaces ? [report.workspaces] : []));
    return parts.length > 0 ? mergeWorkspaceSnapshots(parts) : undefined;
  }

  /**
   * Every workspace of the run, in user order: each shard's last report has all of its own; a
   * shard that was lost before it sent one contributes the rows its worst lists named.
   */
  workspaceRows(): WorkspaceRow[] {
    const rows = new Map<number, WorkspaceRow>();
    for (const report of this.reports()) {
      const own = report.workspaces;
      if (!own) continue;
      for (const row of own.rows ?? Object.values(own.worst).flat()) {
        const known = rows.get(row.index);
        rows.set(row.index, known ? { ...known, ...row, stages: { ...known.stages, ...row.stages } } : row);
      }
    }
    return [...rows.values()].sort((a, b) => a.index - b.index);
  }

  private reports(): ShardReport[] {
    return this.shards.map((shard) => shard.report).filter((report): report is ShardReport => !!report);
  }

  /** Where the merged run is, live. */
  private state(): RunState {
    const status = this.status();
    const stages = this.stages.map((stage) => stage.snapshot());
    const running = stages.find((stage) => stage.state === 'running' && stage.name !== 'prepare' && stage.name !== 'cleanup');
    const timelineStarts = this.reports()
      .map((r) => r.timelineStartedAt)
      .filter((t): t is number => t !== undefined);
    const lost = this.lostShards();
    return {
      status,
      verdict: 'pending',
      reason: lost.length ? lost.map(({ index, why }) => `shard ${index}/${this.options.shardCount} lost: ${why}`).join('; ') : undefined,
      timelineStartedAt: timelineStarts.length ? Math.min(...timelineStarts) : undefined,
      currentStage: (status === 'preparing' ? 'prepare' : status === 'cleaning' ? 'cleanup' : running?.name) as StageName | undefined,
    };
  }

  private status(): RunStatus {
    const statuses = this.shards.map(
      (shard) => shard.result?.status ?? shard.report?.status ?? (shard.lost ? 'error' : 'starting'),
    ) as RunStatus[];
    if (this.reports().length === 0) return 'starting';
    if (this.ended()) return statuses.includes('error') ? 'error' : statuses.includes('aborted') ? 'aborted' : 'finished';
    return STATUS_ORDER.find((status) => statuses.includes(status)) ?? 'running';
  }

  /** The busiest shard's CPU and lag (the runner that limits the run), the shards' memory added up. */
  private mergeRunner(): RunnerSnapshot {
    const reports = this.reports();
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
