// Watching both sides of a run: the deployment (/healthz each second, build version,
// deployment/stats, optional Prometheus scrape) and the runner itself (CPU, memory,
// event-loop lag), so a slow runner is not mistaken for a slow deployment.
import { monitorEventLoopDelay, type IntervalHistogram } from 'perf_hooks';
import type { CoderClient } from '../../coder/client';
import { CoderApiError } from '../../coder/errors';
import type { DeploymentSnapshot, RunnerSnapshot } from '../../protocol/snapshot';
import { NodeCpuScraper, ProcessCpuScraper } from './cpuScrapers';
import { agentConnectionLatenciesMs, fetchText, histogramQuantile, nearestRank, parsePrometheusText, sumOf } from './promText';

export { agentConnectionLatenciesMs, histogramQuantile, nearestRank, parsePrometheusText, type PromSample } from './promText';

/** Health failures or restart signals closer together than this are one restart. */
const RESTART_DEBOUNCE_MS = 15_000;
const SLOW_POLL_EVERY = 5;
const HEALTH_TIMEOUT_MS = 3000;
/** Consecutive timed-out health checks that count as coderd being down. */
const SLOW_HEALTH_CHECKS_FOR_RESTART = 3;

export class DeploymentMonitor {
  private readonly state: DeploymentSnapshot;
  private timer?: NodeJS.Timeout;
  private polls = 0;
  private lastRestartAt = -Infinity;
  private inFlight = false;
  private slowHealthChecks = 0;
  private readonly prometheus?: PrometheusScraper;
  private readonly provisioner?: ProcessCpuScraper;
  private readonly database?: NodeCpuScraper;

  constructor(
    private readonly client: CoderClient,
    url: string,
    prometheusUrl: string | undefined,
    private readonly onRestart: (why: string) => void,
    around: { provisionerPrometheusUrl?: string; databaseMetricsUrl?: string } = {},
  ) {
    this.state = { url, healthy: true, restarts: 0 };
    if (prometheusUrl) this.prometheus = new PrometheusScraper(prometheusUrl);
    if (around.provisionerPrometheusUrl) this.provisioner = new ProcessCpuScraper(around.provisionerPrometheusUrl);
    if (around.databaseMetricsUrl) this.database = new NodeCpuScraper(around.databaseMetricsUrl);
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), 1000);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  snapshot(): DeploymentSnapshot {
    const { stats, prometheus, provisioner, database } = this.state;
    return {
      ...this.state,
      stats: stats && { ...stats },
      prometheus: prometheus && { ...prometheus },
      provisioner: provisioner && { ...provisioner },
      database: database && { ...database },
    };
  }

  private countRestart(why: string): void {
    const now = Date.now();
    if (now - this.lastRestartAt > RESTART_DEBOUNCE_MS) {
      this.state.restarts++;
      this.onRestart(why);
    }
    this.lastRestartAt = now;
  }

  private async poll(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    const slow = this.polls++ % SLOW_POLL_EVERY === 0;
    try {
      await Promise.all([this.checkHealth(), slow ? this.checkVersionAndStats() : undefined, this.scrape(), this.scrapeAround()]);
    } finally {
      this.inFlight = false;
    }
  }

  private async checkHealth(): Promise<void> {
    let started = Date.now();
    try {
      await this.client.healthz(AbortSignal.timeout(HEALTH_TIMEOUT_MS)).catch((error: Error) => {
        // A kept-alive socket that the server closed just as it was reused fails at once with
        // a reset: that is no restart. Ask once more on a fresh connection before judging.
        if (!/ECONNRESET|socket hang up|EPIPE/i.test(error.message)) throw error;
        started = Date.now();
        return this.client.healthz(AbortSignal.timeout(HEALTH_TIMEOUT_MS));
      });
      this.state.healthLatencyMs = Date.now() - started;
      this.state.healthy = true;
      this.slowHealthChecks = 0;
    } catch (error) {
      const message = (error as Error).message;
      this.state.lastError = message;
      // A refusal or an error status is coderd down; a slow answer may be a busy runner, so
      // only a run of them counts.
      // A 429 is a busy coderd (or a proxy's limiter), not a down one: judged like a slow answer.
      const busy = error instanceof CoderApiError && error.status === 429;
      const timedOut = busy || (error as Error).name === 'TimeoutError' || /timeout|timed out|within/i.test(message);
      this.slowHealthChecks = timedOut ? this.slowHealthChecks + 1 : 0;
      if (timedOut && this.slowHealthChecks < SLOW_HEALTH_CHECKS_FOR_RESTART) return;
      if (this.state.healthy) this.countRestart(`health check failed: ${message}`);
      this.state.healthy = false;
    }
  }

  private async checkVersionAndStats(): Promise<void> {
    try {
      const info = await this.client.buildInfo();
      if (this.state.version && info.version !== this.state.version) {
        this.countRestart(`deployment version changed from ${this.state.version} to ${info.version}`);
      }
      this.state.version = info.version;
      const stats = await this.client.deploymentStats();
      // Undefined until coderd's first stats collection after it started.
      if (stats)
        this.state.stats = {
          workspacesRunning: stats.workspaces.running,
          workspacesBuilding: stats.workspaces.building,
          workspacesFailed: stats.workspaces.failed,
          sessionsSsh: stats.session_count.ssh,
          sessionsReconnectingPty: stats.session_count.reconnecting_pty,
          sessionsVscode: stats.session_count.vscode,
          sessionsJetbrains: stats.session_count.jetbrains,
        };
    } catch (error) {
      this.state.lastError = (error as Error).message;
    }
  }

  /** The provisioner daemon's and the database host's CPU, for the reference figures. */
  private async scrapeAround(): Promise<void> {
    const [provisioner, database] = await Promise.all([this.provisioner?.scrape(), this.database?.scrape()]);
    if (provisioner) this.state.provisioner = provisioner;
    if (database) this.state.database = database;
  }

  private async scrape(): Promise<void> {
    if (!this.prometheus) return;
    const figures = await this.prometheus.scrape();
    const previousStart = this.state.prometheus?.startTimeSeconds;
    this.state.prometheus = figures;
    if (previousStart !== undefined && figures.startTimeSeconds !== undefined && figures.startTimeSeconds !== previousStart) {
      this.countRestart('coderd process start time changed (Prometheus)');
    }
  }
}

type PrometheusFigures = NonNullable<DeploymentSnapshot['prometheus']>;

export class PrometheusScraper {
  private previous?: { at: number; cpu?: number; requests?: number; buckets: Map<number, number> };

  constructor(private readonly url: string) {}

  async scrape(): Promise<PrometheusFigures> {
    let text: string;
    try {
      text = await fetchText(this.url, 3000);
    } catch (error) {
      return { scrapeError: `cannot scrape ${this.url}: ${(error as Error).message}`, scrapedAt: Date.now() };
    }
    const samples = parsePrometheusText(text);
    const at = Date.now();
    const agentLatencies = agentConnectionLatenciesMs(samples);
    const cpu = sumOf(samples, 'process_cpu_seconds_total');
    const requests = sumOf(samples, 'coderd_api_requests_processed_total');
    const buckets = new Map<number, number>();
    for (const sample of samples) {
      if (sample.name !== 'coderd_api_request_latencies_seconds_bucket') continue;
      const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
    }
    const previous = this.previous;
    this.previous = { at, cpu, requests, buckets };
    const seconds = previous ? (at - previous.at) / 1000 : 0;
    const rate = (now?: number, before?: number) =>
      seconds > 0 && now !== undefined && before !== undefined && now >= before ? (now - before) / seconds : undefined;
    // Latency of the requests since the last scrape; the whole process lifetime on the first one.
    const window = [...buckets].map(([le, count]) => ({ le, count: count - (previous?.buckets.get(le) ?? 0) }));
    const p95Seconds =
      histogramQuantile(window, 0.95) ??
      histogramQuantile(
        [...buckets].map(([le, count]) => ({ le, count })),
        0.95,
      );
    return {
      cpuCores: rate(cpu, previous?.cpu),
      residentMemoryBytes: sumOf(samples, 'process_resident_memory_bytes'),
      apiRequestsPerSecond: rate(requests, previous?.requests),
      apiLatencyP95Ms: p95Seconds === undefined ? undefined : Math.round(p95Seconds * 1000 * 10) / 10,
      concurrentRequests: sumOf(samples, 'coderd_api_concurrent_requests'),
      concurrentWebsockets: sumOf(samples, 'coderd_api_concurrent_websockets'),
      startTimeSeconds: sumOf(samples, 'process_start_time_seconds'),
      agentConnectionLatencyP90Ms: nearestRank(agentLatencies, 0.9),
      agentConnectionLatencyP95Ms: nearestRank(agentLatencies, 0.95),
      scrapedAt: at,
    };
  }
}

// ---- the runner itself ----

const OVERLOADED_CPU_PERCENT = 90;
export const OVERLOADED_LAG_MS = 50;

export class RunnerMonitor {
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private current: RunnerSnapshot = { cpuPercent: 0, rssBytes: 0, heapUsedBytes: 0, eventLoopLagP99Ms: 0, overloaded: false };

  start(): void {
    this.lag.enable();
  }

  stop(): void {
    this.lag.disable();
  }

  /** Call once per snapshot interval. */
  sample(): RunnerSnapshot {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMs = Math.max(1, now - this.lastAt);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100;
    // No sample at all means no timer could fire in the whole interval: the loop was stuck
    // for all of it, the worst lag there is, not none.
    const lagP99Ms = this.lag.count > 0 ? this.lag.percentile(99) / 1e6 : elapsedMs;
    this.lag.reset();
    const memory = process.memoryUsage();
    const overloaded = cpuPercent >= OVERLOADED_CPU_PERCENT || lagP99Ms >= OVERLOADED_LAG_MS;
    this.current = {
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopLagP99Ms: Math.round(lagP99Ms * 10) / 10,
      overloaded,
      warning: overloaded
        ? `runner overloaded (CPU ${Math.round(cpuPercent)}%, event-loop lag p99 ${Math.round(lagP99Ms)} ms): latencies include the runner's own delay; run fewer users per runner`
        : undefined,
    };
    return this.current;
  }

  latest(): RunnerSnapshot {
    return this.current;
  }
}
