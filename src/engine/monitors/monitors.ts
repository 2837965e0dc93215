// Watching both sides of a run: the deployment (/healthz each second, build version,
// deployment/stats, optional Prometheus scrape) and the runner itself (CPU, memory,
// event-loop lag), so a slow runner is not mistaken for a slow deployment.
import { monitorEventLoopDelay, type IntervalHistogram } from 'perf_hooks';
import type { CoderClient } from '../../coder/client';
import { CoderApiError } from '../../coder/errors';
import type { DeploymentSnapshot, RunnerSnapshot } from '../../protocol/snapshot';
import * as os from 'os';
import { NodeCpuScraper, ProcessCpuScraper } from './cpuScrapers';
import { ProcessTreeSampler, type ChildProcessFigures } from './processTree';
import { agentConnectionLatenciesMs, fetchText, histogramQuantile, nearestRank, parsePrometheusText, sumOf } from './promText';

export { agentConnectionLatenciesMs, histogramQuantile, nearestRank, parsePrometheusText, type PromSample } from './promText';

/** Health failures or restart signals closer together than this are one restart. */
const RESTART_DEBOUNCE_MS = 15_000;
const SLOW_POLL_EVERY = 5;
const HEALTH_TIMEOUT_MS = 3000;
/** Consecutive timed-out health checks that count as coderd being down. */
const SLOW_HEALTH_CHECKS_FOR_RESTART = 3;
/** A health check's abort firing this much later than its timeout means the runner's own loop stalled. */
const RUNNER_STALL_MS = 1000;

export class DeploymentMonitor {
  private readonly state: DeploymentSnapshot;
  private timer?: NodeJS.Timeout;
  private polls = 0;
  private lastRestartAt = -Infinity;
  private inFlight = false;
  private slowHealthChecks = 0;
  /** When the first of the current run of timed-out checks was sent. */
  private slowSince = 0;
  private readonly runnerOverloadedSince: (since: number) => boolean;
  private readonly healthTimeoutMs: number;
  private readonly prometheus?: PrometheusScraper;
  private readonly provisioner?: ProcessCpuScraper;
  private readonly database?: NodeCpuScraper;

  constructor(
    private readonly client: CoderClient,
    url: string,
    prometheusUrl: string | undefined,
    private readonly onRestart: (why: string) => void,
    around: {
      provisionerPrometheusUrl?: string;
      databaseMetricsUrl?: string;
      /** Whether the runner (with its children) was overloaded at any time since `since` (epoch ms): its timed-out checks then prove nothing of coderd. */
      runnerOverloadedSince?: (since: number) => boolean;
      healthTimeoutMs?: number;
    } = {},
  ) {
    this.runnerOverloadedSince = around.runnerOverloadedSince ?? (() => false);
    this.healthTimeoutMs = around.healthTimeoutMs ?? HEALTH_TIMEOUT_MS;
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
      await this.client.healthz(AbortSignal.timeout(this.healthTimeoutMs)).catch((error: Error) => {
        // A kept-alive socket that the server closed just as it was reused fails at once with
        // a reset: that is no restart. Ask once more on a fresh connection before judging.
        if (!/ECONNRESET|socket hang up|EPIPE/i.test(error.message)) throw error;
        started = Date.now();
        return this.client.healthz(AbortSignal.timeout(this.healthTimeoutMs));
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
      // A check that timed out while the runner could not run (its loop stalled: the abort fired
      // late) or while it and its children held the machine's cores says nothing of coderd: the
      // answer may have waited unread. Such checks neither count towards a restart nor clear it.
      // The runner's load is sampled once a second, so the run of slow checks is weighed whole
      // when it would become a restart, by then every second of it sampled.
      const stalled = Date.now() - started - this.healthTimeoutMs > RUNNER_STALL_MS;
      if (timedOut && !busy && stalled) return this.notCounted(message);
      if (timedOut && this.slowHealthChecks === 0) this.slowSince = started;
      this.slowHealthChecks = timedOut ? this.slowHealthChecks + 1 : 0;
      if (timedOut && this.slowHealthChecks < SLOW_HEALTH_CHECKS_FOR_RESTART) return;
      if (timedOut && !busy && this.runnerOverloadedSince(this.slowSince)) {
        this.slowHealthChecks = 0;
        return this.notCounted(message);
      }
      if (this.state.healthy) this.countRestart(`health check failed: ${message}`);
      this.state.healthy = false;
    }
  }

  private notCounted(message: string): void {
    this.state.lastError = `${message} (while the runner was overloaded: not counted against the deployment)`;
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

/** Share of a resource (one core for the runner's thread, every core and the memory for it and its children) that counts as overloaded. */
const OVERLOADED_SHARE = 0.9;
export const OVERLOADED_LAG_MS = 50;
const LAG_RESOLUTION_MS = 10;

export interface RunnerLoad {
  /** This process (every thread), % of one core. */
  cpuPercent: number;
  eventLoopLagP99Ms: number;
  rssBytes: number;
  children?: ChildProcessFigures;
  cores: number;
  memoryBytes: number;
}

/** Why the runner is overloaded (the warning), or undefined: its loop lags, its thread or its machine is full. */
export function runnerOverload(load: RunnerLoad): string | undefined {
  const reasons: string[] = [];
  if (load.eventLoopLagP99Ms >= OVERLOADED_LAG_MS) reasons.push(`event-loop lag p99 ${Math.round(load.eventLoopLagP99Ms)} ms`);
  if (load.cpuPercent >= OVERLOADED_SHARE * 100) reasons.push(`CPU ${Math.round(load.cpuPercent)}%`);
  const children = load.children;
  if (children && children.count > 0) {
    const totalCores = (load.cpuPercent + children.cpuPercent) / 100;
    if (totalCores >= OVERLOADED_SHARE * load.cores)
      reasons.push(`with its ${describeChildren(children)} it used ${totalCores.toFixed(1)} of ${load.cores} cores`);
    const memory = load.rssBytes + children.rssBytes;
    if (memory >= OVERLOADED_SHARE * load.memoryBytes)
      reasons.push(`with its ${children.count} child processes it holds ${gib(memory)} of ${gib(load.memoryBytes)} GiB of memory`);
  }
  if (reasons.length === 0) return undefined;
  const cli = children?.kinds.some((k) => k.kind === 'coder CLI' && k.count > 0);
  return (
    `runner overloaded (${reasons.join(', ')}): latencies include the runner's own delay; run fewer users per runner` +
    (cli ? ' (each SSH connection of the coder-cli transport is a process of its own)' : '')
  );
}

/** "192 child processes (coder CLI 175%, Chromium 20%)". */
export function describeChildren(children: ChildProcessFigures): string {
  const kinds = children.kinds.filter((k) => k.count > 0).map((k) => `${k.count} ${k.kind} ${Math.round(k.cpuPercent)}%`);
  return `${children.count} child process${children.count === 1 ? '' : 'es'}${kinds.length ? ` (${kinds.join(', ')})` : ''}`;
}

const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1);

/** Every core's CPU times, summed (ms): busy is total − idle. */
function machineCpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    idle += cpu.times.idle;
    total += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.idle + cpu.times.irq;
  }
  return { idle, total };
}

export class RunnerMonitor {
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private readonly children: ProcessTreeSampler;
  private lastMachine = machineCpuTimes();
  private lastOverloadedAt = -Infinity;
  private current: RunnerSnapshot = {
    cpuPercent: 0,
    rssBytes: 0,
    heapUsedBytes: 0,
    eventLoopLagP99Ms: 0,
    overloaded: false,
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
  };

  /** `foreignPids`: child processes that are not the runner's (the demo's simulated deployment). */
  constructor(options: { foreignPids?: () => readonly number[] } = {}) {
    this.children = new ProcessTreeSampler({ foreignPids: options.foreignPids });
  }

  start(): void {
    this.lag.enable();
    // The first look at /proc opens everything cold: before traffic, not in its first second.
    this.children.sample();
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
    // Each sample is one timer's period plus how late it fired: the lateness, summed, is the
    // time the loop could not run anything (a round trip can have waited that long in all).
    const stalledMs = this.lag.count > 0 ? Math.max(0, (this.lag.mean / 1e6 - LAG_RESOLUTION_MS) * this.lag.count) : elapsedMs;
    this.lag.reset();
    const memory = process.memoryUsage();
    const machine = machineCpuTimes();
    const machineBusy =
      machine.total > this.lastMachine.total ? 1 - (machine.idle - this.lastMachine.idle) / (machine.total - this.lastMachine.total) : 0;
    this.lastMachine = machine;
    const children = this.children.sample();
    const counted = 'unavailable' in children ? undefined : children;
    const load: RunnerLoad = {
      cpuPercent,
      eventLoopLagP99Ms: lagP99Ms,
      rssBytes: memory.rss,
      children: counted,
      cores: this.current.cores ?? os.availableParallelism(),
      memoryBytes: this.current.memoryBytes ?? os.totalmem(),
    };
    const warning = runnerOverload(load);
    if (warning) this.lastOverloadedAt = Date.now();
    this.current = {
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopLagP99Ms: Math.round(lagP99Ms * 10) / 10,
      eventLoopStalledMs: Math.round(stalledMs),
      overloaded: warning !== undefined,
      warning,
      children: counted,
      childrenUnavailable: 'unavailable' in children ? children.unavailable : undefined,
      cores: load.cores,
      memoryBytes: load.memoryBytes,
      machineCpuShare: Math.round(Math.max(0, Math.min(1, machineBusy)) * 1000) / 1000,
    };
    return this.current;
  }

  latest(): RunnerSnapshot {
    return this.current;
  }

  /** Whether a sample found the runner overloaded in an interval that reached past `since` (epoch ms). */
  overloadedSince(since: number): boolean {
    return this.lastOverloadedAt >= since;
  }
}
