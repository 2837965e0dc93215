// coderd's Prometheus metrics for the simulated deployment, on their own registry (several
// simulated deployments may share one process) and their own listener, like coderd's
// --prometheus-address. They count the simulator's own traffic.
import * as http from 'http';
import type { AddressInfo } from 'net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AgentMetricsCollector, type AgentMetricRow } from './agentMetrics';

export class SimMetrics {
  readonly registry = new Registry();
  /** Simulated process start (seconds since epoch); moves on a simulated restart. */
  private startTimeSeconds = Date.now() / 1000;
  private readonly cpuAtStart = process.cpuUsage();
  readonly requestsProcessed = new Counter({
    name: 'coderd_api_requests_processed_total',
    help: 'The total number of processed API requests',
    labelNames: ['code', 'method', 'path'],
    registers: [this.registry],
  });
  readonly concurrentRequests = new Gauge({
    name: 'coderd_api_concurrent_requests',
    help: 'The number of concurrent API requests.',
    labelNames: ['method', 'path'],
    registers: [this.registry],
  });
  readonly concurrentWebsockets = new Gauge({
    name: 'coderd_api_concurrent_websockets',
    help: 'The total number of concurrent API websockets.',
    labelNames: ['path'],
    registers: [this.registry],
  });
  readonly requestLatencies = new Histogram({
    name: 'coderd_api_request_latencies_seconds',
    help: 'Latency distribution of requests in seconds.',
    labelNames: ['method', 'path'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [this.registry],
  });
  readonly websocketDurations = new Histogram({
    name: 'coderd_api_websocket_durations_seconds',
    help: 'Websocket duration distribution of requests in seconds.',
    labelNames: ['path'],
    buckets: [0.001, 1, 60, 3600, 54000, 108000],
    registers: [this.registry],
  });

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the metric as `this`
    const metrics = this;
    new Counter({
      name: 'process_cpu_seconds_total',
      help: 'Total user and system CPU time spent in seconds.',
      registers: [this.registry],
      collect() {
        const usage = process.cpuUsage(metrics.cpuAtStart);
        this.reset();
        this.inc((usage.user + usage.system) / 1e6);
      },
    });
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      registers: [this.registry],
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({
      name: 'process_start_time_seconds',
      help: 'Start time of the process since unix epoch in seconds.',
      registers: [this.registry],
      collect() {
        this.set(metrics.startTimeSeconds);
      },
    });
  }

  private agentMetrics?: AgentMetricsCollector;

  /** Starts coderd's per-agent gauges (agents up, connections, connection latencies). */
  startAgentMetrics(agents: () => AgentMetricRow[], intervalMs?: number): void {
    this.agentMetrics ??= new AgentMetricsCollector(this.registry, agents, intervalMs);
    this.agentMetrics.start();
  }

  stopAgentMetrics(): void {
    this.agentMetrics?.stop();
  }

  markRestarted(): void {
    this.startTimeSeconds = Date.now() / 1000;
  }

  /** Starts the /metrics listener; resolves with its URL. */
  async listen(host: string): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics' && req.url !== '/') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return {
      url: `http://${hostPart}:${port}/metrics`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}
