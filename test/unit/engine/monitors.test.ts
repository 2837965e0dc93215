import * as assert from 'assert';
import * as http from 'http';
import { histogramQuantile, parsePrometheusText, PrometheusScraper } from '../../../src/engine/monitors';

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
    const buckets = [{ le: 0.01, count: 50 }, { le: 0.1, count: 100 }, { le: Infinity, count: 100 }];
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
