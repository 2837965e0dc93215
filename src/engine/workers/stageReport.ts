// What an echo worker hands the coordinator once a second, and how the coordinator folds it
// into the stage's one StageMetrics. The figures are those of a shard message's stage
// (docs/shard-message.md): connections, whole-run counters and errors, and the latency and
// handshake histograms of the interval, HDR-encoded. Histograms add exactly, so the merged
// percentiles are those of one histogram fed every sample; counters are sums of the workers'
// whole-run totals, so a report that is late or repeated changes nothing.
import type { StageRamp } from '../../protocol/snapshot';
import type { EncodedInterval, StageMetrics } from '../metrics/stageMetrics';
import { combineFigures } from '../stages/presentation';
import { RANKED_EVERY_TIME, type StageWorkspaceFigures } from '../metrics/workspaceTally';

export const COUNTER_NAMES = [
  'bytesSent',
  'bytesReceived',
  'sent',
  'completed',
  'expected',
  'mismatches',
  'resynced',
  'disconnects',
  'reconnects',
] as const;

type CounterName = (typeof COUNTER_NAMES)[number];

export interface WorkerStageReport {
  activeConnections: number;
  counters: Record<CounterName, number>;
  errors: Record<string, number>;
  /** Round trips recorded since the previous report. */
  latency?: EncodedInterval;
  /** Handshakes recorded since the previous report. */
  connect?: EncodedInterval;
  /** Open lags recorded since the previous report. */
  openLag?: EncodedInterval;
  /** The worker's ramp: its pacer's held-back time. */
  ramp?: StageRamp;
  /** The stage's other latencies recorded since the previous report, by name. */
  latencies?: Record<string, EncodedInterval>;
  /** The stage's own figures on this worker. */
  figures?: Record<string, number>;
  /** Each of the worker's workspaces, cumulative (every few reports, and in the final one). */
  workspaces?: StageWorkspaceFigures[];
}

/**
 * Whether a worker's `reportNumber`th report (1, 2, …) carries its `workspaces` workspaces'
 * figures: every one for a few; for many, every fifth (they only rank workspaces, and the
 * snapshots rank many every 5 s) — plus the final report, always.
 */
export function reportsWorkspaces(reportNumber: number, workspaces: number): boolean {
  return workspaces <= RANKED_EVERY_TIME || reportNumber % 5 === 1;
}

/** The worker's side: its stage metrics as a report (takes the histograms' intervals), with its workspaces' figures when asked. */
export function takeWorkerReport(metrics: StageMetrics, withWorkspaces = false): WorkerStageReport {
  const counters = {} as Record<CounterName, number>;
  for (const name of COUNTER_NAMES) counters[name] = metrics[name];
  return {
    activeConnections: metrics.activeConnections,
    counters,
    errors: { ...metrics.errors },
    latency: metrics.latency.takeEncodedInterval(),
    connect: metrics.connectLatency.takeEncodedInterval(),
    openLag: metrics.openLag.takeEncodedInterval(),
    ramp: metrics.ramp ? { ...metrics.ramp } : undefined,
    latencies: takeNamedIntervals(metrics),
    figures: Object.keys(metrics.figures).length ? { ...metrics.figures } : undefined,
    workspaces: withWorkspaces ? metrics.workspaces.figures() : undefined,
  };
}

function takeNamedIntervals(metrics: StageMetrics): Record<string, EncodedInterval> | undefined {
  const taken: Record<string, EncodedInterval> = {};
  for (const [name, recorder] of metrics.recordedLatencies()) {
    const interval = recorder.takeEncodedInterval();
    if (interval) taken[name] = interval;
  }
  return Object.keys(taken).length ? taken : undefined;
}

/** The coordinator's side: keeps each worker's latest totals and writes their sums into the stage's metrics. */
export class WorkerReportMerger {
  private readonly latest: Array<WorkerStageReport | undefined>;

  constructor(
    private readonly metrics: StageMetrics,
    workers: number,
  ) {
    this.latest = new Array<WorkerStageReport | undefined>(workers).fill(undefined);
  }

  /** Errors the coordinator itself counts (a worker that crashed). */
  private readonly own: Record<string, number> = {};

  apply(worker: number, report: WorkerStageReport): void {
    this.latest[worker] = report;
    if (report.latency) this.metrics.latency.addEncoded(report.latency);
    if (report.connect) this.metrics.connectLatency.addEncoded(report.connect);
    if (report.openLag) this.metrics.openLag.addEncoded(report.openLag);
    for (const [name, interval] of Object.entries(report.latencies ?? {})) this.metrics.latencyOf(name).addEncoded(interval);
    // A workspace lives on one worker: its figures are taken as they are.
    if (report.workspaces) this.metrics.workspaces.report(report.workspaces);
    this.refresh();
  }

  countError(kind: string): void {
    this.own[kind] = (this.own[kind] ?? 0) + 1;
    this.refresh();
  }

  /** A worker that is gone has no connections left open. */
  closed(worker: number): void {
    const report = this.latest[worker];
    if (report) this.latest[worker] = { ...report, activeConnections: 0 };
    this.refresh();
  }

  private refresh(): void {
    const reports = this.latest.filter((r): r is WorkerStageReport => r !== undefined);
    this.metrics.activeConnections = reports.reduce((sum, r) => sum + r.activeConnections, 0);
    for (const name of COUNTER_NAMES) this.metrics[name] = reports.reduce((sum, r) => sum + r.counters[name], 0);
    // Every worker plans the same ramp (plan-wide indexes); each paces its own share.
    const ramps = reports.flatMap((r) => (r.ramp ? [r.ramp] : []));
    if (ramps.length > 0)
      this.metrics.ramp = {
        ...ramps[0],
        heldBackMs: Math.max(...ramps.map((r) => r.heldBackMs)),
        startedLateMs: Math.max(...ramps.map((r) => r.startedLateMs ?? 0)),
      };
    const figures = this.metrics.figures;
    for (const name of Object.keys(figures)) delete figures[name];
    Object.assign(
      figures,
      combineFigures(
        reports.map((r) => r.figures),
        this.metrics.presentation,
      ),
    );
    const errors = this.metrics.errors;
    for (const kind of Object.keys(errors)) delete errors[kind];
    for (const counts of [this.own, ...reports.map((r) => r.errors)])
      for (const [kind, n] of Object.entries(counts)) errors[kind] = (errors[kind] ?? 0) + n;
  }
}
