import * as assert from 'assert';
import * as http from 'http';
import { CoderClient } from '../../../../src/coder/client';
import { DeploymentMonitor, histogramQuantile, parsePrometheusText, PrometheusScraper } from '../../../../src/engine/monitors/monitors';

const exposition = (cpuSeconds: number, requests: number, startTime: number) => `# HELP process_cpu_seconds_total CPU
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total ${cpuSeconds}
process_start_time_seconds ${startTime}
coderd_api_requests_processed_total{code="200",method="GET",path="/api/v2/users/me"} ${requests}
coderd_api_requests_processed_total{code="500",method="GET",path="/api/v2/x"} 0
coderd_api_concurrent_websockets{path="/api/v2/workspaceagents/{id}/pty"} 7
coderd_api_request_latencies_seconds_bucket{method="GET",path="/a",le="0.001"} 0
coderd_api_request_latencies_seconds_bucket{method="GET",path="/a",le="0.01"} ${requests * 0.5}
coderd_api_request_latencies_seconds_bucket{method="GET",path="/a",le="0.1"} ${requests}
coderd_api_request_latencies_seconds_bucket{method="GET",path="/a",le="+Inf"} ${requests}
`;

describe('deployment monitor: Prometheus', () => {
  it('parses the text format with labels', () => {
    const samples = parsePrometheusText('# c\nmetric_a{x="1",y="a\\"b"} 2.5\nmetric_b 3\n\n');
    assert.deepStrictEqual(samples, [
      { name: 'metric_a', labels: { x: '1', y: 'a"b' }, value: 2.5 },
      { name: 'metric_b', labels: {}, value: 3 },
    ]);
  });

  it('computes a quantile from cumulative buckets', () => {
    const buckets = [
      { le: 0.01, count: 50 },
      { le: 0.1, count: 100 },
      { le: Infinity, count: 100 },
    ];
    assert.strictEqual(histogramQuantile(buckets, 0.5), 0.01);
    assert.ok(Math.abs(histogramQuantile(buckets, 0.95)! - 0.091) < 1e-9);
    assert.strictEqual(histogramQuantile([], 0.95), undefined);
  });

  it('scrapes rates, websockets and the start time from a live endpoint', async () => {
    let scrape = 0;
    const server = http.createServer((_req, res) => {
      scrape++;
      res.end(exposition(scrape * 2, scrape * 100, 1000));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
    try {
      const scraper = new PrometheusScraper(url);
      const first = await scraper.scrape();
      assert.strictEqual(first.cpuCores, undefined, 'no rate from a single scrape');
      assert.strictEqual(first.concurrentWebsockets, 7);
      assert.strictEqual(first.startTimeSeconds, 1000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await scraper.scrape();
      assert.ok(second.cpuCores! > 0 && second.apiRequestsPerSecond! > 0);
      assert.ok(second.apiLatencyP95Ms! > 10 && second.apiLatencyP95Ms! <= 100);
    } finally {
      server.close();
    }
    const broken = await new PrometheusScraper('http://127.0.0.1:1/metrics').scrape();
    assert.match(broken.scrapeError!, /cannot scrape http:\/\/127\.0\.0\.1:1\/metrics/);
  });
});

describe('deployment monitor: health', () => {
  /** A /healthz that resets the connection of the requests `reset` picks, and answers OK otherwise. */
  async function healthServer(reset: (n: number) => boolean) {
    let healthChecks = 0;
    const server = http.createServer((req, res) => {
      if (req.url !== '/healthz') {
        res.statusCode = 404;
        return void res.end('{"message":"not found"}');
      }
      if (reset(++healthChecks)) return void req.socket.destroy();
      res.end('OK');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      checks: () => healthChecks,
      close: () => server.close(),
    };
  }

  async function monitorUntil(url: string, checks: () => number, wanted: number) {
    const client = new CoderClient({ url, token: 'x' }, { retry: { retries: 0 }, timeoutMs: 3000 });
    const restarts: string[] = [];
    const monitor = new DeploymentMonitor(client, url, undefined, (why) => restarts.push(why));
    monitor.start();
    const deadline = Date.now() + 15_000;
    while (checks() < wanted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 100));
    monitor.stop();
    client.close();
    return { restarts, snapshot: monitor.snapshot() };
  }

  it('a connection reset once (a kept-alive socket closed as it was reused) is asked again, not counted as a restart', async () => {
    const server = await healthServer((n) => n === 1);
    try {
      const { restarts, snapshot } = await monitorUntil(server.url, server.checks, 3);
      assert.deepStrictEqual(restarts, []);
      assert.strictEqual(snapshot.restarts, 0);
      assert.strictEqual(snapshot.healthy, true);
    } finally {
      server.close();
    }
  });

  it('a 429 on /healthz is a busy deployment, not a restart', async () => {
    let checks = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/healthz' && ++checks <= 2) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
        return void res.end('{"message":"You\'ve been rate limited."}');
      }
      res.statusCode = req.url === '/healthz' ? 200 : 404;
      res.end(req.url === '/healthz' ? 'OK' : '{"message":"not found"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const { restarts, snapshot } = await monitorUntil(url, () => checks, 3);
      assert.deepStrictEqual(restarts, []);
      assert.strictEqual(snapshot.healthy, true);
    } finally {
      server.close();
    }
  });

  it('health checks that time out while the runner is overloaded are not a restart; the same timeouts otherwise are', async () => {
    let checks = 0;
    // Never answers /healthz: every check times out.
    const server = http.createServer((req, res) => {
      if (req.url === '/healthz') return void checks++;
      res.statusCode = 404;
      res.end('{"message":"not found"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const watch = async (runnerOverloaded: boolean) => {
      const client = new CoderClient({ url, token: 'x' }, { retry: { retries: 0 }, timeoutMs: 3000 });
      const restarts: string[] = [];
      const monitor = new DeploymentMonitor(client, url, undefined, (why) => restarts.push(why), {
        runnerOverloadedSince: () => runnerOverloaded,
        healthTimeoutMs: 150,
      });
      const from = checks;
      monitor.start();
      const deadline = Date.now() + 10_000;
      // Three timed-out checks in a row: what would be a restart.
      while (checks - from < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 300));
      monitor.stop();
      client.close();
      return { restarts, snapshot: monitor.snapshot() };
    };
    try {
      const overloaded = await watch(true);
      assert.deepStrictEqual(overloaded.restarts, []);
      assert.strictEqual(overloaded.snapshot.restarts, 0);
      assert.match(overloaded.snapshot.lastError ?? '', /while the runner was overloaded/);
      const idle = await watch(false);
      assert.strictEqual(idle.restarts.length, 1, 'three timed-out checks in a row are coderd down');
      assert.strictEqual(idle.snapshot.healthy, false);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a deployment that keeps resetting connections is down: one restart', async () => {
    const server = await healthServer(() => true);
    try {
      const { restarts, snapshot } = await monitorUntil(server.url, server.checks, 4);
      assert.strictEqual(restarts.length, 1, restarts.join('\n'));
      assert.strictEqual(snapshot.healthy, false);
    } finally {
      server.close();
    }
  });
});
