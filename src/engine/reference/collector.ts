// Collects, snapshot by snapshot, what the reference figures need: each fresh scrape of coderd's
// Prometheus endpoint (and of the optional provisioner and database endpoints) is filed under
// the phases of the run it happened in (traffic, dashboards, web terminal + apps, prepare),
// so the figures are read per phase: "median API request rate during dashboards".
import * as os from 'os';
import type { ReferenceSnapshot } from '../../protocol/reference';
import type { Plan } from '../plan/plan';
import type { SearchStep } from '../../protocol/search';
import type { RunSnapshot } from '../../protocol/snapshot';
import { findTrafficStage } from '../stages/registry';
import {
  REFERENCE_FIGURES,
  type ReferenceFigure,
  type ReferencePhase,
  type ReferenceSeries,
  type ReferenceStatistic,
} from './coderReference2000';
import { referenceTable, type FigureMeasurement, type RunnerMachine } from './compare';

/**
 * Samples kept per phase and series (over an hour of one-second scrapes); the table is
 * recomputed once a second on the runner's event loop, so sorting them must stay cheap.
 */
const MAX_SAMPLES = 4000;

export interface ReferenceSettings {
  /** The run's users: the base of the linear scaling. */
  users: number;
  prometheusUrl?: string;
  provisionerPrometheusUrl?: string;
  databaseMetricsUrl?: string;
  /** The runner machine (default: this one; null: not one machine, e.g. the shards of a sharded run). */
  runner?: RunnerMachine | null;
}

/** A plan's reference settings: its users and metric endpoints; `runner` as ReferenceSettings says. */
export function referenceSettingsOf(plan: Plan, runner?: RunnerMachine | null): ReferenceSettings {
  const { prometheusUrl, provisionerPrometheusUrl, databaseMetricsUrl } = plan.deployment;
  return { users: plan.users, prometheusUrl, provisionerPrometheusUrl, databaseMetricsUrl, runner };
}

type Source = 'coderd' | 'provisioner' | 'database';

const SOURCE_OF: Record<ReferenceSeries, Source> = {
  coderdCpuCores: 'coderd',
  apiRequestsPerSecond: 'coderd',
  websockets: 'coderd',
  agentLatencyP90Ms: 'coderd',
  agentLatencyP95Ms: 'coderd',
  provisionerCpuCores: 'provisioner',
  databaseCpuPercent: 'database',
};

/** Where each series comes from, as the report names it. */
const METRIC_OF: Record<ReferenceSeries, string> = {
  coderdCpuCores: 'rate(process_cpu_seconds_total) of coderd',
  apiRequestsPerSecond: 'rate(coderd_api_requests_processed_total)',
  websockets: 'sum(coderd_api_concurrent_websockets)',
  agentLatencyP90Ms: 'p90 over the agents of coderd_agents_connection_latencies_seconds{preferred="true"}',
  agentLatencyP95Ms: 'p95 over the agents of coderd_agents_connection_latencies_seconds{preferred="true"}',
  provisionerCpuCores: 'rate(process_cpu_seconds_total) of the provisioner daemon',
  databaseCpuPercent: 'CPU busy share from node_cpu_seconds_total of the database host',
};

/** Which setting measures a source, for figures the run could not measure. */
export const HOW_TO_ENABLE: Record<Source, string> = {
  coderd:
    "Not measured: set `deployment.prometheusUrl` in the plan to coderd's Prometheus endpoint; coderd serves it when started with `CODER_PROMETHEUS_ENABLE=true` (on `CODER_PROMETHEUS_ADDRESS`, default 127.0.0.1:2112, path /metrics).",
  provisioner:
    "Not measured: built-in provisioners run inside coderd, so their CPU is part of coderd's. Run external provisioner daemons (`coder provisioner start` with `CODER_PROMETHEUS_ENABLE=true`) and set `deployment.provisionerPrometheusUrl` to one daemon's /metrics endpoint.",
  database:
    "Not measured: set `deployment.databaseMetricsUrl` to a Prometheus node_exporter on the database host (its `node_cpu_seconds_total` gives the CPU utilisation). coderd's `CODER_PROMETHEUS_COLLECT_DB_METRICS=true` reports query latencies, not CPU; for a managed database (Cloud SQL, RDS) read its CPU utilisation in the provider's monitoring.",
};

const PHASE_MISSING: Record<ReferencePhase, string> = {
  traffic: 'no traffic stage ran while the endpoint was scraped',
  dashboard: 'the dashboard stage did not run while the endpoint was scraped',
  terminalApps: 'the web terminal and apps stages did not run without the dashboard stage while the endpoint was scraped',
  prepare: 'no workspace was built while the endpoint was scraped',
};

const METRIC_MISSING: Record<ReferenceSeries, string> = {
  coderdCpuCores: 'the endpoint exposed no `process_cpu_seconds_total` (or only one scrape, too few for a rate)',
  apiRequestsPerSecond: 'the endpoint exposed no `coderd_api_requests_processed_total`',
  websockets: 'the endpoint exposed no `coderd_api_concurrent_websockets`',
  agentLatencyP90Ms:
    'coderd reported no `coderd_agents_connection_latencies_seconds`: it collects agent metrics once a minute, and only for agents with a tailnet node (a shorter run may have none)',
  agentLatencyP95Ms:
    'coderd reported no `coderd_agents_connection_latencies_seconds`: it collects agent metrics once a minute, and only for agents with a tailnet node (a shorter run may have none)',
  provisionerCpuCores: 'the provisioner endpoint exposed no `process_cpu_seconds_total`',
  databaseCpuPercent: 'the database endpoint exposed no `node_cpu_seconds_total`',
};

/** The phases a snapshot is in, from which stages run. */
export function phasesOf(snapshot: RunSnapshot): Set<ReferencePhase> {
  const running = new Set(snapshot.stages.filter((stage) => stage.state === 'running').map((stage) => stage.name));
  const phases = new Set<ReferencePhase>();
  if (running.has('prepare')) phases.add('prepare');
  if ([...running].some((name) => name !== 'prepare' && name !== 'cleanup')) phases.add('traffic');
  // Each stage names its reference phase in its descriptor; the dashboard phase wins.
  const stagePhases = new Set([...running].map((name) => findTrafficStage(name)?.referencePhase));
  if (stagePhases.has('dashboard')) phases.add('dashboard');
  else if (stagePhases.has('terminalApps')) phases.add('terminalApps');
  return phases;
}

export function statistic(values: readonly number[], which: ReferenceStatistic): number | undefined {
  if (values.length === 0) return undefined;
  if (which === 'max') return Math.max(...values);
  if (which === 'mean') return values.reduce((sum, value) => sum + value, 0) / values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function sourceValues(
  snapshot: RunSnapshot,
): Record<Source, { at?: number; error?: string; values: Partial<Record<ReferenceSeries, number>> }> {
  const { prometheus, provisioner, database } = snapshot.deployment;
  return {
    coderd: {
      at: prometheus?.scrapedAt,
      error: prometheus?.scrapeError,
      values: {
        coderdCpuCores: prometheus?.cpuCores,
        apiRequestsPerSecond: prometheus?.apiRequestsPerSecond,
        websockets: prometheus?.concurrentWebsockets,
        agentLatencyP90Ms: prometheus?.agentConnectionLatencyP90Ms,
        agentLatencyP95Ms: prometheus?.agentConnectionLatencyP95Ms,
      },
    },
    provisioner: { at: provisioner?.scrapedAt, error: provisioner?.scrapeError, values: { provisionerCpuCores: provisioner?.cpuCores } },
    database: { at: database?.scrapedAt, error: database?.scrapeError, values: { databaseCpuPercent: database?.cpuPercent } },
  };
}

/** The samples of one stretch of the run (the whole run, or one capacity-search step). */
class PhaseCollector {
  private readonly samples = new Map<string, SampleSeries>();
  /** Scrapes (of any outcome) per source and phase: tells "no phase" from "no metric". */
  private readonly scrapes = new Map<string, number>();
  private readonly lastScrapeAt: Partial<Record<Source, number>> = {};
  private readonly lastError: Partial<Record<Source, string>> = {};
  private readonly runnerApi = new Map<ReferencePhase, SampleSeries>();
  private cached?: ReferenceSnapshot;

  constructor(
    private readonly settings: ReferenceSettings,
    private readonly users: number,
    private readonly runner: RunnerMachine | undefined,
  ) {}

  /** Files a snapshot's fresh scrapes under the phases it is in. */
  record(snapshot: RunSnapshot, phases: Set<ReferencePhase>): void {
    const recentRps = snapshot.api.recent?.requestsPerSecond;
    for (const phase of phases) if (recentRps !== undefined) push(this.runnerApi, phase, recentRps);
    for (const [source, scrape] of Object.entries(sourceValues(snapshot)) as [Source, ReturnType<typeof sourceValues>[Source]][]) {
      if (scrape.at === undefined || scrape.at === this.lastScrapeAt[source]) continue;
      this.lastScrapeAt[source] = scrape.at;
      // The latest outcome: an endpoint that recovered is no longer the reason for a gap.
      this.lastError[source] = scrape.error;
      for (const phase of phases) {
        this.scrapes.set(`${source}|${phase}`, (this.scrapes.get(`${source}|${phase}`) ?? 0) + 1);
        for (const [series, value] of Object.entries(scrape.values) as [ReferenceSeries, number | undefined][]) {
          if (value !== undefined && Number.isFinite(value)) push(this.samples, `${phase}|${series}`, value);
        }
      }
    }
    this.cached = undefined;
  }

  private configured(source: Source): boolean {
    const { prometheusUrl, provisionerPrometheusUrl, databaseMetricsUrl } = this.settings;
    return Boolean({ coderd: prometheusUrl, provisioner: provisionerPrometheusUrl, database: databaseMetricsUrl }[source]);
  }

  private measure(figure: ReferenceFigure): FigureMeasurement {
    const source = SOURCE_OF[figure.series];
    const series = this.samples.get(`${figure.phase}|${figure.series}`);
    const value = figure.statistic === 'max' && series ? series.max : statistic(series?.values ?? [], figure.statistic);
    if (value !== undefined) return { value, from: `${figure.statistic} of ${METRIC_OF[figure.series]}` };
    let reason: string;
    if (!this.configured(source)) reason = HOW_TO_ENABLE[source];
    else if (!this.scrapes.get(`${source}|${figure.phase}`)) reason = `Not measured: ${PHASE_MISSING[figure.phase]}.`;
    else if (this.lastError[source]) reason = `Not measured: ${this.lastError[source]}.`;
    else reason = `Not measured: ${METRIC_MISSING[figure.series]}.`;
    const runnerRps =
      figure.series === 'apiRequestsPerSecond' ? statistic(this.runnerApi.get(figure.phase)?.values ?? [], 'median') : undefined;
    if (runnerRps !== undefined) {
      reason += ` The runner's own API requests alone were ${runnerRps.toFixed(1)} req/s (median), a lower bound: coderd also serves browsers and agents.`;
    }
    return { reason };
  }

  /** The reference table of this stretch. */
  view(): ReferenceSnapshot {
    this.cached ??= referenceTable(
      this.users,
      Object.fromEntries(REFERENCE_FIGURES.map((figure) => [figure.id, this.measure(figure)])),
      this.runner,
    );
    return this.cached;
  }
}

/** The capacity-search step a snapshot is in (preparing or running), if any. */
function activeStep(snapshot: RunSnapshot): SearchStep | undefined {
  return [...(snapshot.search?.steps ?? [])].reverse().find((step) => step.state === 'preparing' || step.state === 'running');
}

/**
 * The reference table of a run. A capacity search gets one table per step (each at its own
 * user count): the current step's while it runs, the largest passing step's once it is over.
 */
export class ReferenceCollector {
  private readonly stretches = new Map<number, { collector: PhaseCollector; step?: SearchStep }>();
  private shown = 0;
  private readonly runner: RunnerMachine | undefined;

  constructor(private readonly settings: ReferenceSettings) {
    this.runner = settings.runner === null ? undefined : (settings.runner ?? { cores: os.cpus().length, memoryBytes: os.totalmem() });
  }

  /** Offers a snapshot (once a second); only fresh scrapes are filed. */
  record(snapshot: RunSnapshot): void {
    const step = activeStep(snapshot);
    const key = step?.index ?? 0;
    const phases = phasesOf(snapshot);
    if (phases.size > 0) {
      let stretch = this.stretches.get(key);
      if (!stretch)
        this.stretches.set(
          key,
          (stretch = { collector: new PhaseCollector(this.settings, step?.users ?? this.settings.users, this.runner), step }),
        );
      stretch.collector.record(snapshot, phases);
      if (step) stretch.step = step;
    }
    const search = snapshot.search;
    if (!search) this.shown = key;
    else if (step) this.shown = step.index;
    else if (search.capacity)
      this.shown = [...search.steps].reverse().find((s) => s.verdict === 'pass' && s.users === search.capacity)?.index ?? this.shown;
  }

  /** The reference table so far. */
  view(): ReferenceSnapshot {
    const stretch = this.stretches.get(this.shown);
    if (!stretch) return new PhaseCollector(this.settings, this.settings.users, this.runner).view();
    const table = stretch.collector.view();
    return stretch.step ? { ...table, step: { index: stretch.step.index, users: stretch.step.users } } : table;
  }
}

/** Evenly spaced samples of one series: past the limit, every other one goes and later ones are taken half as often. */
export class SampleSeries {
  readonly values: number[] = [];
  /** The peak of every value offered, kept ones or not. */
  max = -Infinity;
  private stride = 1;
  private offered = 0;

  add(value: number): void {
    this.max = Math.max(this.max, value);
    if (this.offered++ % this.stride !== 0) return;
    this.values.push(value);
    if (this.values.length > MAX_SAMPLES) {
      const kept = this.values.filter((_, index) => index % 2 === 0);
      this.values.splice(0, this.values.length, ...kept);
      this.stride *= 2;
    }
  }
}

function push<K>(map: Map<K, SampleSeries>, key: K, value: number): void {
  let series = map.get(key);
  if (!series) map.set(key, (series = new SampleSeries()));
  series.add(value);
}
