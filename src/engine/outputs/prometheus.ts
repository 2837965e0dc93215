// The run on Prometheus: `--metrics-address HOST:PORT` serves `/metrics` (prom-client, one
// registry per run) from before the run starts until a few seconds after it ends, so the last
// scrape lands (Coder's runner waits 15 s: coder/coder cli/exp_scaletest.go,
// --scaletest-prometheus-wait). Every figure is read at scrape time from the run's own snapshot
// and whole-run HDR histograms, so /metrics can never disagree with the report.
//
// Names: where Coder's workspace-traffic runner has a metric for the same thing
// (coder/coder scaletest/workspacetraffic/metrics.go: coderd_scaletest_bytes_{read,written}_total,
// coderd_scaletest_{read,write}_errors_total, labels username/workspace_name/agent_name) its name
// is used; our own figures are `coder_scaletest_*`. Coder's `…_read/write_latency_seconds` time
// single Read()/Write() calls (countreadwriter.go), not a round trip: they are not reused.
//
// Latency histograms project the HDR histograms onto fixed buckets (a superset of coderd's
// coderd_api_request_latencies_seconds buckets, coderd/httpmw/prometheus.go, plus 0.3 s, the
// reference limit). Counts are cumulative and the buckets the same on every runner, so
// `sum by (le)` over shards is exact and equals the coordinator's merged view.
import * as hdr from 'hdr-histogram-js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunSnapshot, StageSnapshot } from '../../protocol/snapshot';
import type { WorkspaceRow } from '../../protocol/workspaces';

// Up to 30 s for round trips and requests; minutes for builds (prepare, the morning rush's scheduled → ready).
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
] as const;

/** Whole-run HDR histograms, encoded (microseconds, hdr-histogram-js compressed base64). */
export interface EncodedRunHistograms {
  stages: Record<string, { latency?: string; connect?: string; openLag?: string; latencies?: Record<string, string> }>;
  /** Keyed by endpoint class, plus `total`. */
  api: Record<string, string>;
}

/** What /metrics is read from, at scrape time. */
export interface MetricsSource {
  snapshot(): RunSnapshot;
  histograms(): EncodedRunHistograms;
  /** Per-workspace rows of this runner (absent on the coordinator: a workspace lives on one shard). */
  workspaces?(): readonly WorkspaceRow[];
  /** The exit code, once the run has ended. */
  exitCode?(): number | undefined;
}

const STAGE_STATES: StageSnapshot['state'][] = ['waiting', 'running', 'stopping', 'done', 'skipped'];
const RUN_STATUSES: RunSnapshot['status'][] = ['starting', 'preparing', 'running', 'cleaning', 'finished', 'aborted', 'error'];
const VERDICTS = ['pending', 'pass', 'fail', 'skipped'] as const;
/** Collects within this long of each other belong to one scrape: they share the per-workspace rows. */
const SCRAPE_SHARING_MS = 250;

/** Cumulative counts of `histogram` at each bound (microseconds): a value counts as its HDR bucket's highest equivalent value. */
export function cumulativeCounts(histogram: hdr.Histogram, boundsMicros: readonly number[]): number[] {
  const counts = new Array<number>(boundsMicros.length).fill(0);
  forEachRecorded(histogram, (highest, count) => {
    for (let i = boundsMicros.length - 1; i >= 0 && highest <= boundsMicros[i]; i--) counts[i] += count;
  });
  return counts;
}

/** hdr-histogram-js keeps no public iterator: walks its counts array (the layout metrics.ts's summarize reads). */
function forEachRecorded(histogram: hdr.Histogram, visit: (highestEquivalent: number, count: number) => void): void {
  const layout = histogram as unknown as {
    countsArrayLength: number;
    subBucketHalfCount: number;
    unitMagnitude: number;
    getCountAtIndex(index: number): number;
  };
  const half = layout.subBucketHalfCount;
  for (let base = 0, bucket = -1; base < layout.countsArrayLength; base += half, bucket++) {
    const width = Math.pow(2, Math.max(bucket, 0) + layout.unitMagnitude);
    const firstSubBucket = bucket < 0 ? 0 : half;
    for (let i = base; i < Math.min(base + half, layout.countsArrayLength); i++) {
      const count = layout.getCountAtIndex(i);
      if (count > 0) visit((firstSubBucket + i - base) * width + width - 1, count);
    }
  }
}

type HistogramFigures = { labels: Record<string, string>; cumulative: number[]; sum: number; count: number };

/** A prom-client histogram whose buckets are read from HDR histograms at scrape time. */
class HdrBackedHistogram extends Histogram<string> {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    labelNames: string[],
    registry: Registry,
    private readonly read: () => HistogramFigures[],
  ) {
    super({ name: metricName, help: metricHelp, labelNames, buckets: [...LATENCY_BUCKETS_SECONDS], registers: [registry] });
  }

  override get(): ReturnType<Histogram<string>['get']> {
    return this.getForPromString() as unknown as ReturnType<Histogram<string>['get']>;
  }

  /** What the registry writes (prom-client prefers it to get()). */
  async getForPromString() {
    const name = this.metricName;
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const figures of this.read()) {
      LATENCY_BUCKETS_SECONDS.forEach((le, i) =>
        values.push({ metricName: `${name}_bucket`, labels: { ...figures.labels, le }, value: figures.cumulative[i] }),
      );
      values.push({ metricName: `${name}_bucket`, labels: { ...figures.labels, le: '+Inf' }, value: figures.count });
      values.push({ metricName: `${name}_sum`, labels: figures.labels, value: figures.sum });
      values.push({ metricName: `${name}_count`, labels: figures.labels, value: figures.count });
    }
    return { name, help: this.metricHelp, type: 'histogram', values, aggregator: 'sum' };
  }
}

const BOUNDS_MICROS = LATENCY_BUCKETS_SECONDS.map((seconds) => Math.round(seconds * 1e6));

function figuresOf(encoded: string | undefined, labels: Record<string, string>): HistogramFigures | undefined {
  if (!encoded) return undefined;
  const histogram = hdr.decodeFromCompressedBase64(encoded);
  try {
    if (histogram.totalCount === 0) return { labels, cumulative: BOUNDS_MICROS.map(() => 0), sum: 0, count: 0 };
    return {
      labels,
      cumulative: cumulativeCounts(histogram, BOUNDS_MICROS),
      sum: (histogram.mean * histogram.totalCount) / 1e6,
      count: histogram.totalCount,
    };
  } finally {
    histogram.destroy();
  }
}

/** One registry with every metric of a run, read from `source` on each scrape. */
export function runRegistry(source: MetricsSource, identity: { runId: string; shard: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ run_id: identity.runId, shard: identity.shard });
  let cached: { at: number; snapshot: RunSnapshot } | undefined;
  // One snapshot per scrape, however many metrics read it.
  const latest = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 250) cached = { at: now, snapshot: source.snapshot() };
    return cached.snapshot;
  };
  const registers = [registry];
  const stageCounter = (name: string, help: string, read: (stage: StageSnapshot) => number | undefined) =>
    new Counter({
      name,
      help,
      labelNames: ['stage'],
      registers,
      collect() {
        this.reset();
        for (const stage of latest().stages) this.inc({ stage: stage.name }, read(stage) ?? 0);
      },
    });
  const stageGauge = (name: string, help: string, read: (stage: StageSnapshot) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['stage'],
      registers,
      collect() {
        this.reset();
        for (const stage of latest().stages) {
          const value = read(stage);
          if (value !== undefined) this.set({ stage: stage.name }, value);
        }
      },
    });
  /** One gauge per stage and value of a second label (`label`), the pairs read from each stage. */
  const stageGaugeBy = (name: string, help: string, label: string, read: (stage: StageSnapshot) => Iterable<[string, number]>) =>
    new Gauge({
      name,
      help,
      labelNames: ['stage', label],
      registers,
      collect() {
        this.reset();
        for (const stage of latest().stages) for (const [key, value] of read(stage)) this.set({ stage: stage.name, [label]: key }, value);
      },
    });
  const runGauge = (name: string, help: string, read: (snapshot: RunSnapshot) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const value = read(latest());
        if (value !== undefined) this.set(value);
      },
    });

  new Gauge({
    name: 'coder_scaletest_run_info',
    help: 'The run: its plan and deployment (always 1).',
    labelNames: ['plan', 'deployment'],
    registers,
    collect() {
      const snapshot = latest();
      this.reset();
      this.set({ plan: snapshot.planName, deployment: snapshot.deploymentUrl }, 1);
    },
  });
  new Gauge({
    name: 'coder_scaletest_run_status',
    help: "The run's status (state set: 1 for the current one).",
    labelNames: ['status'],
    registers,
    collect() {
      const status = latest().status;
      for (const candidate of RUN_STATUSES) this.set({ status: candidate }, candidate === status ? 1 : 0);
    },
  });
  new Gauge({
    name: 'coder_scaletest_run_verdict',
    help: "The run's verdict so far (state set).",
    labelNames: ['verdict'],
    registers,
    collect() {
      const verdict = latest().verdict;
      for (const candidate of VERDICTS) this.set({ verdict: candidate }, candidate === verdict ? 1 : 0);
    },
  });
  runGauge(
    'coder_scaletest_exit_code',
    "The run's exit code once it has ended (README: Exit codes); -1 before.",
    () => source.exitCode?.() ?? -1,
  );
  stageGaugeBy(
    'coder_scaletest_stage_state',
    'Where each stage is (state set: waiting, running, stopping, done, skipped).',
    'state',
    (stage) => STAGE_STATES.map((state) => [state, stage.state === state ? 1 : 0]),
  );
  stageGauge('coder_scaletest_stage_start_timestamp_seconds', 'When the stage began (epoch seconds).', (s) =>
    s.startedAt === undefined ? undefined : s.startedAt / 1000,
  );
  stageGauge('coder_scaletest_stage_end_timestamp_seconds', 'When the stage ended (epoch seconds).', (s) =>
    s.endedAt === undefined ? undefined : s.endedAt / 1000,
  );
  stageGauge('coder_scaletest_connections_active', 'Connections open now.', (s) => s.connections.active);
  stageGauge('coder_scaletest_connections_target', 'Connections the stage holds at full strength.', (s) => s.connections.target);
  stageCounter('coder_scaletest_ticks_sent_total', 'Ticks (or actions) sent.', (s) => s.sent);
  stageCounter('coder_scaletest_echoes_completed_total', 'Echoes (or actions) completed and verified.', (s) => s.completed);
  stageCounter('coder_scaletest_ticks_expected_total', 'Ticks the schedule called for so far (echo stages).', (s) => s.expected);
  stageCounter('coder_scaletest_mismatches_total', 'Echoes whose content did not match what was sent.', (s) => s.mismatches);
  stageCounter('coder_scaletest_disconnects_total', 'Connections that closed unexpectedly.', (s) => s.disconnects);
  stageCounter('coder_scaletest_reconnects_total', 'Connections opened again after a disconnect.', (s) => s.reconnects);
  stageCounter('coder_scaletest_bytes_sent_total', 'Bytes sent.', (s) => s.bytesSent);
  stageCounter('coder_scaletest_bytes_received_total', 'Bytes received.', (s) => s.bytesReceived);
  new Counter({
    name: 'coder_scaletest_errors_total',
    help: 'Errors by stage and kind (echo_timeout, not_sent, reconnect, …).',
    labelNames: ['stage', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const stage of latest().stages) for (const [kind, n] of Object.entries(stage.errors)) this.inc({ stage: stage.name, kind }, n);
    },
  });
  for (const field of ['done', 'total', 'failed', 'queued', 'building'] as const) {
    stageGauge(`coder_scaletest_progress_${field}`, `Prepare and cleanup: items ${field}.`, (s) => s.progress?.[field]);
  }
  new HdrBackedHistogram(
    'coder_scaletest_latency_seconds',
    'Per stage: echo round trip from the scheduled send (ssh, pty, apps), page load (dashboard), build (prepare). From the HDR histograms.',
    ['stage'],
    registry,
    () => {
      const stages = source.histograms().stages;
      return Object.entries(stages).flatMap(([stage, encoded]) => figuresOf(encoded.latency, { stage }) ?? []);
    },
  );
  new HdrBackedHistogram('coder_scaletest_connect_seconds', 'Echo stages: connection handshakes (open → ready).', ['stage'], registry, () =>
    Object.entries(source.histograms().stages).flatMap(([stage, encoded]) => figuresOf(encoded.connect, { stage }) ?? []),
  );
  new HdrBackedHistogram(
    'coder_scaletest_open_lag_seconds',
    'Echo stages: how much later than planned each connection opened (actual − planned open time).',
    ['stage'],
    registry,
    () => Object.entries(source.histograms().stages).flatMap(([stage, encoded]) => figuresOf(encoded.openLag, { stage }) ?? []),
  );
  new HdrBackedHistogram(
    'coder_scaletest_stage_latency_seconds',
    "A stage's other latencies, by the name its definition declares (the morning rush's build_started, queue_wait, …).",
    ['stage', 'latency'],
    registry,
    () =>
      Object.entries(source.histograms().stages).flatMap(([stage, encoded]) =>
        Object.entries(encoded.latencies ?? {}).flatMap(([latency, histogram]) => figuresOf(histogram, { stage, latency }) ?? []),
      ),
  );
  stageGaugeBy(
    'coder_scaletest_stage_figure',
    "A stage's own live figures, by the names its definition declares (e.g. the morning rush's provisioner jobs waiting).",
    'figure',
    (stage) => Object.entries(stage.figures ?? {}),
  );
  new HdrBackedHistogram(
    'coder_scaletest_api_latency_seconds',
    'Coder API requests the runner made, by endpoint class (client side; buckets include coderd_api_request_latencies_seconds).',
    ['endpoint_class'],
    registry,
    () =>
      Object.entries(source.histograms().api)
        .filter(([name]) => name !== 'total')
        .flatMap(([endpointClass, encoded]) => figuresOf(encoded, { endpoint_class: endpointClass }) ?? []),
  );
  new Counter({
    name: 'coder_scaletest_api_requests_total',
    help: 'Coder API requests the runner made, by endpoint class.',
    labelNames: ['endpoint_class'],
    registers,
    collect() {
      this.reset();
      for (const [name, figures] of Object.entries(latest().api.byClass)) this.inc({ endpoint_class: name }, figures.requests);
    },
  });
  new Counter({
    name: 'coder_scaletest_api_errors_total',
    help: 'Failed Coder API requests by endpoint class and kind (4xx, 5xx, network).',
    labelNames: ['endpoint_class', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const [name, figures] of Object.entries(latest().api.byClass)) {
        this.inc({ endpoint_class: name, kind: '4xx' }, figures.errors4xx);
        this.inc({ endpoint_class: name, kind: '5xx' }, figures.errors5xx);
        this.inc({ endpoint_class: name, kind: 'network' }, figures.networkErrors);
      }
    },
  });
  new Gauge({
    name: 'coder_scaletest_threshold_verdict',
    help: "Each threshold's verdict (state set: pending, pass, fail, skipped).",
    labelNames: ['expression', 'verdict'],
    registers,
    collect() {
      this.reset();
      for (const threshold of latest().thresholds)
        for (const verdict of VERDICTS) this.set({ expression: threshold.expression, verdict }, threshold.verdict === verdict ? 1 : 0);
    },
  });
  new Gauge({
    name: 'coder_scaletest_threshold_observed',
    help: "Each threshold's observed value, in its metric's unit (ms for durations, a ratio for %).",
    labelNames: ['expression'],
    registers,
    collect() {
      this.reset();
      for (const threshold of latest().thresholds)
        if (threshold.observed !== null) this.set({ expression: threshold.expression }, threshold.observed);
    },
  });
  runGauge('coder_scaletest_runner_cpu_ratio', "The runner's CPU, as a fraction of one core.", (s) => s.runner.cpuPercent / 100);
  runGauge(
    'coder_scaletest_runner_event_loop_lag_p99_seconds',
    "The runner's event-loop lag p99 (seconds).",
    (s) => s.runner.eventLoopLagP99Ms / 1000,
  );
  runGauge('coder_scaletest_runner_resident_memory_bytes', "The runner's resident memory.", (s) => s.runner.rssBytes);
  runGauge('coder_scaletest_runner_overloaded', '1 while the runner itself is likely the bottleneck.', (s) =>
    s.runner.overloaded ? 1 : 0,
  );
  runGauge('coder_scaletest_deployment_healthy', '1 while the deployment answers /healthz.', (s) => (s.deployment.healthy ? 1 : 0));
  runGauge('coder_scaletest_deployment_restarts', 'coderd restarts seen during the run.', (s) => s.deployment.restarts);

  // Coder's workspace-traffic runner names, per workspace (only the runner that owns it serves them).
  const workspaceLabels = ['username', 'workspace_name', 'agent_name', 'stage'];
  // One scrape collects the four counters within milliseconds: they share the rows (thousands).
  let scraped: { at: number; rows: readonly WorkspaceRow[] } | undefined;
  const workspaceRows = (now = Date.now()) =>
    (scraped = scraped && now - scraped.at < SCRAPE_SHARING_MS ? scraped : { at: now, rows: source.workspaces?.() ?? [] }).rows;
  const workspaceCounter = (name: string, help: string, read: (row: WorkspaceRow, stage: string) => number) =>
    new Counter({
      name,
      help,
      labelNames: workspaceLabels,
      registers,
      collect() {
        this.reset();
        for (const row of workspaceRows())
          for (const stage of Object.keys(row.stages))
            this.inc({ username: row.user, workspace_name: row.workspace, agent_name: row.agent, stage }, read(row, stage));
      },
    });
  workspaceCounter(
    'coderd_scaletest_bytes_written_total',
    'Bytes written to the workspace (Coder runner name).',
    (r, s) => r.stages[s].bytesSent,
  );
  workspaceCounter(
    'coderd_scaletest_bytes_read_total',
    'Bytes read from the workspace (Coder runner name).',
    (r, s) => r.stages[s].bytesReceived,
  );
  workspaceCounter(
    'coderd_scaletest_read_errors_total',
    'Connections to the workspace that closed unexpectedly (Coder runner name: a read error).',
    (r, s) => r.stages[s].disconnects,
  );
  workspaceCounter(
    'coderd_scaletest_write_errors_total',
    'Ticks that could not be written to the workspace (Coder runner name: a write error).',
    (r, s) => r.stages[s].errors.not_sent ?? 0,
  );
  return registry;
}

export { parseMetricsAddress, serveMetrics, type MetricsServer } from './metricsServer';
