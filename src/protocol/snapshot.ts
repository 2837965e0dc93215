// The complete state of a run, published once a second by the engine to every face (CLI
// table, NDJSON, VS Code webview, Kubernetes shard merger). Always complete, never a delta:
// a listener that missed messages (a hidden webview, a restarted shard reader) is correct
// again after the next one. Plain JSON only (no Maps, no Dates, no functions).
import type { ReferenceSnapshot } from './reference';
import type { SearchSnapshot } from './search';
import type { WorkspacesSnapshot } from './workspaces';

/**
 * A stage id. The engine's stage registry (src/engine/stages) decides which stages exist: the
 * lifecycle stages `prepare` and `cleanup` around every registered traffic stage (`ssh`, `pty`,
 * `apps`, `dashboard` out of the box). Faces draw whatever stages a snapshot lists.
 */
export type StageName = string;

/** Named chart colours; each face maps them to its palette (VS Code theme or the report's). */
export const CHART_COLORS = ['blue', 'orange', 'purple', 'green', 'yellow', 'red'] as const;
export type ChartColor = (typeof CHART_COLORS)[number];

/** pending: not decided yet; pass/fail: decided; skipped: not run (disabled or aborted before). */
export type Verdict = 'pending' | 'pass' | 'fail' | 'skipped';

export type RunStatus = 'starting' | 'preparing' | 'running' | 'cleaning' | 'finished' | 'aborted' | 'error';

/** Latency figures in milliseconds; all zero while count is 0. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface StageProgress {
  done: number;
  total: number;
  failed: number;
  /** Prepare only: builds of this run waiting for a provisioner (job pending): the queue depth. */
  queued?: number;
  /** Prepare only: builds of this run a provisioner is working on (job running). */
  building?: number;
  /** Prepare only: wall-clock time its requests waited for the deployment's rate limits, ms. */
  rateLimitedMs?: number;
  /** Prepare only: workspaces whose startup script timed out (lifecycle start_timeout); they are used, with a warning. */
  startTimeouts?: number;
}

/** An echo stage's planned ramp (src/engine/stages/echo/ramp.ts). */
export interface StageRamp {
  /** e.g. "200 connections at 50/s (4 s)". */
  description: string;
  /** Infinity (all at once) is sent as null in JSON. */
  connectionsPerSecond: number | null;
  /** How long the runner's lag pacer held the ramp back (the most of any of its threads), ms. */
  heldBackMs: number;
  /** p95 of how late the runner itself started opening a connection after its planned time (pacer and event loop), ms. */
  startedLateMs?: number;
}

/** One line of a stage's own chart: a figure of the stage (`StageSnapshot.figures`) over time. */
export interface StageChartLine {
  figure: string;
  label: string;
  dashed?: boolean;
  /** Default: the stage's colour. */
  color?: ChartColor;
}

/**
 * A chart a stage declares in its descriptor, carried in its snapshot so that every face (the
 * VS Code panel, report.html) draws it from the snapshot alone. Its id on the page is `<id>:<stage>`.
 */
export interface StageChart {
  id: string;
  title: string;
  /** How the y axis reads: counts (whole numbers), durations in ms, or a share in % (0..100). */
  unit: 'count' | 'ms' | 'percent';
  lines: StageChartLine[];
}

/** A latency a stage records besides its main one (thresholds: `<stage>.<name>.<stat>`). */
export interface NamedLatency {
  name: string;
  /** What it measures, e.g. "scheduled start → build started". */
  meaning: string;
  latency: LatencySummary;
}

export interface StageSnapshot {
  name: StageName;
  title: string;
  /** Chart colour from the stage's definition (absent in reports written before it existed). */
  color?: ChartColor;
  /** What `latency` measures, from the stage's definition (e.g. "echo round trip"); titles its chart. */
  latencyMeaning?: string;
  state: 'waiting' | 'running' | 'stopping' | 'done' | 'skipped';
  /** Planned window as offsets from the start of the traffic timeline (ms); prepare/cleanup have none. */
  plannedStartMs?: number;
  plannedEndMs?: number;
  /** Wall-clock epoch ms. */
  startedAt?: number;
  endedAt?: number;
  connections: { active: number; target: number };
  /** Round trips (or page loads, or build durations for prepare) since the stage began. */
  latency: LatencySummary;
  /** The stage's other latencies, as its definition declares them (e.g. the morning rush's queue wait). */
  latencies?: NamedLatency[];
  /** The stage's own live figures (e.g. provisioner jobs waiting), by the names its definition declares. */
  figures?: Record<string, number>;
  /** The stage's own charts of its figures over time (from its definition). */
  charts?: StageChart[];
  /** Echo stages: connection handshakes (open → ready), first connects and reconnects alike. */
  connectLatency?: LatencySummary;
  /** Echo stages: open lag, how much later than planned by the ramp each connection was ready (first opens). */
  openLag?: LatencySummary;
  /** Echo stages: the planned ramp. */
  ramp?: StageRamp;
  /** Round trips recorded during the last snapshot interval only. */
  recentLatency: LatencySummary;
  bytesSent: number;
  bytesReceived: number;
  /** Ticks (or actions) sent and echoes (or completions) matched. */
  sent: number;
  completed: number;
  /** Echo stages: ticks the schedule called for so far (target connections × elapsed / interval); throughput = completed / expected. */
  expected?: number;
  /** Echoed content that did not match what was sent. */
  mismatches: number;
  /** Web terminal: lines shown after a (re)attach before the output was fresh again (replay, redraw), not compared. */
  resynced?: number;
  disconnects: number;
  reconnects: number;
  errors: Record<string, number>;
  /** Prepare and cleanup: items done / total / failed. */
  progress?: StageProgress;
  verdict: Verdict;
  reason?: string;
  /**
   * The stage's result in one sentence once it is done, worded by its definition from this
   * snapshot's figures (the morning rush's: how long until 50/95/100 % of users were ready).
   */
  summary?: string;
}

export interface ThresholdSnapshot {
  /** As written in the plan, e.g. `pty.rtt.p95 < 300ms`. */
  expression: string;
  metric: string;
  /** Observed value in the metric's base unit (ms for durations, ratio 0..1 for %), null if no data yet. */
  observed: number | null;
  /** Observed value formatted like the expression (e.g. `212ms`, `0.4%`). */
  observedText: string;
  verdict: Verdict;
  abortOnFail: boolean;
  reason?: string;
  /** A baseline threshold's limit as resolved from the baseline run, e.g. `< 240ms (baseline 200ms × 1.2)`. */
  limit?: string;
  /**
   * Set on a failed latency threshold when the runner's own stalls (or its and its child
   * processes' use of every core) explain most of the seconds in which the limit was broken:
   * the figure is the runner's, not the deployment's.
   */
  runnerSuspect?: string;
  /** On a failed latency threshold the runner does not explain: what its figures show (e.g. stalls too short for the latency). */
  runnerNote?: string;
}

export interface ApiClassSnapshot {
  requests: number;
  errors4xx: number;
  errors5xx: number;
  networkErrors: number;
  latency: LatencySummary;
}

export interface DeploymentSnapshot {
  url: string;
  version?: string;
  healthy: boolean;
  restarts: number;
  healthLatencyMs?: number;
  lastError?: string;
  /** From GET /api/v2/deployment/stats. */
  stats?: {
    workspacesRunning: number;
    workspacesBuilding: number;
    workspacesFailed: number;
    sessionsSsh: number;
    sessionsReconnectingPty: number;
    sessionsVscode: number;
    sessionsJetbrains: number;
  };
  /** From the deployment's Prometheus endpoint, when the plan names one. */
  prometheus?: {
    cpuCores?: number;
    residentMemoryBytes?: number;
    apiRequestsPerSecond?: number;
    apiLatencyP95Ms?: number;
    concurrentRequests?: number;
    concurrentWebsockets?: number;
    startTimeSeconds?: number;
    /** p90 / p95 over the agents of coderd_agents_connection_latencies_seconds (preferred DERP region). */
    agentConnectionLatencyP90Ms?: number;
    agentConnectionLatencyP95Ms?: number;
    /** Epoch ms of the scrape these figures come from. */
    scrapedAt?: number;
    scrapeError?: string;
  };
  /** An external provisioner daemon's Prometheus endpoint, when the plan names one. */
  provisioner?: { cpuCores?: number; scrapedAt?: number; scrapeError?: string };
  /** The database host's node_exporter, when the plan names one. */
  database?: { cpuPercent?: number; scrapedAt?: number; scrapeError?: string };
}

export interface RunnerSnapshot {
  /** This process, every thread: % of one core. Its child processes are in `children`. */
  cpuPercent: number;
  rssBytes: number;
  heapUsedBytes: number;
  eventLoopLagP99Ms: number;
  /** How long in the last interval the event loop could not run anything (its timers' lateness, summed), ms. */
  eventLoopStalledMs?: number;
  /** True when the runner itself is likely the bottleneck (event-loop lag, its CPU, or its and its children's share of the machine). */
  overloaded: boolean;
  warning?: string;
  /** The runner's child processes (coder CLI per SSH connection, Chromium), where they can be counted. */
  children?: RunnerChildren;
  /** Why children are not counted on this platform. */
  childrenUnavailable?: string;
  /** The machine: cores available to the runner and its memory (absent in reports written before). */
  cores?: number;
  memoryBytes?: number;
  /** How busy the whole machine's cores were in the last interval (0..1), whoever used them. */
  machineCpuShare?: number;
}

export interface RunnerChildren {
  count: number;
  /** % of one core, summed over the children. */
  cpuPercent: number;
  rssBytes: number;
  kinds: Array<{ kind: string; count: number; cpuPercent: number; rssBytes: number }>;
}

/** One point of the run's history, kept bounded by the engine (downsampled when long). */
export interface HistoryPoint {
  /** ms since run start */
  t: number;
  stages: Partial<
    Record<
      StageName,
      {
        p50: number;
        p95: number;
        p99: number;
        active: number;
        target: number;
        bytesPerSecond: number;
        errors: number;
        disconnects: number;
        /** The stage's own figures at this point (those its charts draw). */
        figures?: Record<string, number>;
      }
    >
  >;
  apiP95Ms: number;
  apiRequestsPerSecond: number;
  runnerCpuPercent: number;
  /** The runner's child processes' CPU, % of one core (absent where they are not counted). */
  runnerChildrenCpuPercent?: number;
  /** The runner and its children's CPU as a share of the machine's cores (0..1). */
  runnerMachineShare?: number;
  /** How busy the machine's cores were, whoever used them (0..1). */
  machineCpuShare?: number;
  eventLoopLagMs: number;
  /** The runner's event loop: time it could not run anything during this point's interval, ms. */
  eventLoopStalledMs?: number;
  deploymentHealthy: boolean;
  deploymentCpuCores?: number;
  deploymentWebsockets?: number;
}

export interface RunSnapshot {
  schemaVersion: 1;
  runId: string;
  planName: string;
  deploymentUrl: string;
  status: RunStatus;
  /** Epoch ms. */
  startedAt: number;
  now: number;
  /** Epoch ms at which traffic T0 began, once it has. */
  timelineStartedAt?: number;
  /** Length of the traffic timeline (T0..Tn), ms. */
  timelineMs: number;
  slotMs: number;
  currentStage?: StageName;
  stages: StageSnapshot[];
  thresholds: ThresholdSnapshot[];
  api: {
    total: ApiClassSnapshot;
    byClass: Record<string, ApiClassSnapshot>;
    /** The last snapshot interval: requests per second and latency p95 (ms). */
    recent?: { requestsPerSecond: number; p95Ms: number };
  };
  deployment: DeploymentSnapshot;
  runner: RunnerSnapshot;
  history: HistoryPoint[];
  verdict: Verdict;
  /** Why the run failed or was aborted, in one sentence. */
  reason?: string;
  /** Set when failed latency thresholds are better explained by the runner stalling than by the deployment. */
  runnerSuspect?: string;
  /** Where the reports are (or will be) written. */
  reportDir?: string;
  /** Coder's reference figures beside the measured ones (src/engine/reference). */
  reference?: ReferenceSnapshot;
  /** A capacity search (plan.search): its steps so far and, at the end, its verdict. */
  search?: SearchSnapshot;
  /** Which workspace? The worst few per stage (every workspace is in report.json), refreshed every few seconds. */
  workspaces?: WorkspacesSnapshot;
}
