// Coder's reference figures beside the measured ones: the scaling math, the "how to enable"
// texts when nothing could be measured, the provisioner/database CPU scrapers, and the table
// filled from the simulated deployment's own Prometheus metrics in a real run.
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { NodeCpuScraper, ProcessCpuScraper } from '../../../../src/engine/monitors/cpuScrapers';
import { ReferenceCollector, SampleSeries, phasesOf, statistic } from '../../../../src/engine/reference/collector';
import { per100, referenceSummaryLine, referenceTable, scaledReference } from '../../../../src/engine/reference/compare';
import { REFERENCE_FIGURES, REFERENCE_SETUP, REFERENCE_USERS } from '../../../../src/engine/reference/coderReference2000';
import { startRun } from '../../../../src/engine/run/run';
import type { ReferenceSnapshot } from '../../../../src/protocol/reference';
import type { RunSnapshot } from '../../../../src/protocol/snapshot';
import { smallPlan, useSimAndOutDir } from '../../../support/simRun';

const row = (table: ReferenceSnapshot, id: string) => {
  const found = table.rows.find((r) => r.id === id);
  assert.ok(found, `no row ${id}`);
  return found;
};

describe('reference figures: the data and the scaling math', () => {
  it('ships every figure of the methodology with its source, linear where it grows with users', () => {
    const byId = Object.fromEntries(REFERENCE_FIGURES.map((f) => [f.id, f]));
    assert.deepStrictEqual(Object.fromEntries(Object.entries(byId).map(([id, f]) => [id, [f.value, f.unit, f.linear]])), {
      'coderd.cpu.median': [3, 'cores', true],
      'coderd.cpu.peak': [3.7, 'cores', true],
      'coderd.api.rps.dashboard': [350, 'req/s', true],
      'coderd.api.rps.terminalApps': [250, 'req/s', true],
      'coderd.agents.latency.p90': [60, 'ms', false],
      'coderd.agents.latency.p95': [220, 'ms', false],
      'coderd.websockets.dashboard': [2400, 'connections', true],
      'provisionerd.cpu.median': [0.35, 'cores', false],
      'database.cpu.median': [80, '%', false],
    });
    assert.deepStrictEqual(
      REFERENCE_SETUP.map((s) => [s.id, s.instances, s.vcpu, s.memoryGb]),
      [
        ['setup.runner', 1, 32, 128],
        ['setup.coderd', 2, 4, 16],
        ['setup.database', 1, 2, 32],
        ['setup.provisioners', 50, 0.5, 0.5],
      ],
    );
    const table = referenceTable(100, {});
    assert.match(table.source.url, /^https:\/\/coder\.com\/docs\/admin\/infrastructure\/scale-testing$/);
    assert.strictEqual(table.referenceUsers, REFERENCE_USERS);
  });

  it("scales linear figures to the run's users and leaves latencies as published", () => {
    assert.strictEqual(scaledReference(3, true, 200), 0.3);
    assert.strictEqual(scaledReference(350, true, 1000), 175);
    assert.strictEqual(scaledReference(220, false, 200), 220);
    assert.strictEqual(per100(3, 2000), 0.15);
    const table = referenceTable(200, {
      'coderd.cpu.median': { value: 0.42, from: 'test' },
      'coderd.agents.latency.p95': { value: 180, from: 'test' },
    });
    const cpu = row(table, 'coderd.cpu.median');
    assert.strictEqual(cpu.sentence, 'coderd CPU (median) per 100 users: yours 0.21 cores, reference 0.15');
    assert.ok(Math.abs(cpu.expected - 0.3) < 1e-12);
    assert.ok(Math.abs(cpu.ratio! - 1.4) < 1e-9);
    const latency = row(table, 'coderd.agents.latency.p95');
    assert.strictEqual(latency.expected, 220);
    assert.strictEqual(latency.sentence, 'Agent connection latency p95: yours 180 ms, reference 220 ms');
    const coderdSetup = row(table, 'setup.coderd');
    assert.strictEqual(coderdSetup.reference, 8);
    assert.strictEqual(coderdSetup.expected, 0.8);
    assert.strictEqual(row(table, 'setup.database').expected, 2, 'the database size is not scaled');
    assert.strictEqual(
      referenceSummaryLine(table),
      "vs Coder's reference (yours / reference, per 100 users where it scales): coderd CPU (median) 0.21 / 0.15 cores, Agent connection latency p95 180 / 220 ms",
    );
    assert.match(referenceSummaryLine(referenceTable(200, {}))!, /nothing measured/);
  });

  it('reads phases from the running stages and medians, peaks and means from samples', () => {
    const stages = (running: string[]) =>
      ({
        stages: ['prepare', 'ssh', 'pty', 'apps', 'dashboard'].map((name) => ({
          name,
          state: running.includes(name) ? 'running' : 'waiting',
        })),
      }) as unknown as RunSnapshot;
    assert.deepStrictEqual([...phasesOf(stages(['prepare']))], ['prepare']);
    assert.deepStrictEqual([...phasesOf(stages(['ssh', 'pty']))].sort(), ['terminalApps', 'traffic']);
    assert.deepStrictEqual([...phasesOf(stages(['apps', 'dashboard']))].sort(), ['dashboard', 'traffic']);
    assert.deepStrictEqual([...phasesOf(stages(['ssh']))], ['traffic']);
    assert.strictEqual(statistic([5, 1, 3], 'median'), 3);
    assert.strictEqual(statistic([4, 1, 3, 2], 'median'), 2.5);
    assert.strictEqual(statistic([4, 1, 3], 'max'), 4);
    assert.strictEqual(statistic([4, 1, 4], 'mean'), 3);
    assert.strictEqual(statistic([], 'median'), undefined);
    // A long run keeps evenly spaced samples in bounded memory, and the true peak.
    const series = new SampleSeries();
    for (let value = 1; value <= 10_000; value++) series.add(value === 7777 ? 1e6 : value);
    assert.ok(series.values.length <= 4000, `${series.values.length} samples kept`);
    assert.ok(Math.abs(statistic(series.values, 'median')! - 5000) < 100, `median ${statistic(series.values, 'median')}`);
    assert.strictEqual(series.max, 1e6);
  });
});

describe('reference figures: what could not be measured says how to enable it', () => {
  it('without any endpoint every measured figure names its setting; the runner machine is measured', () => {
    const collector = new ReferenceCollector({ users: 10, runner: { cores: 4, memoryBytes: 8 * 1024 ** 3 } });
    const table = collector.view();
    for (const id of ['coderd.cpu.median', 'coderd.api.rps.dashboard', 'coderd.websockets.dashboard', 'coderd.agents.latency.p90']) {
      const r = row(table, id);
      assert.strictEqual(r.measured, undefined);
      assert.match(r.note!, /deployment\.prometheusUrl/);
      assert.match(r.note!, /CODER_PROMETHEUS_ENABLE=true/);
      assert.match(r.sentence, /not measured/);
    }
    assert.match(row(table, 'provisionerd.cpu.median').note!, /deployment\.provisionerPrometheusUrl/);
    assert.match(row(table, 'provisionerd.cpu.median').note!, /coder provisioner start/);
    assert.match(row(table, 'database.cpu.median').note!, /deployment\.databaseMetricsUrl/);
    assert.match(row(table, 'database.cpu.median').note!, /node_exporter/);
    const runner = row(table, 'setup.runner');
    assert.strictEqual(runner.measured, 4);
    assert.match(
      runner.sentence,
      /yours 4 vCPU \/ 8 GB, reference 32 vCPU \/ 128 GB for 2000 users \(1\.60 vCPU per 100 users: 0\.16 vCPU for 10\)/,
    );
    assert.match(row(table, 'setup.coderd').note!, /coder\.resources/);
    assert.match(row(table, 'setup.coderd').sentence, /reference 2 × 4 vCPU \/ 16 GB \(8 vCPU \/ 32 GB in all\)/);
  });

  it('a configured endpoint that cannot be scraped gives the scrape error; a missed phase says so', () => {
    const collector = new ReferenceCollector({ users: 2, prometheusUrl: 'http://127.0.0.1:1/metrics' });
    const snapshot = (running: string[], at: number) =>
      ({
        stages: ['ssh', 'pty', 'dashboard'].map((name) => ({ name, state: running.includes(name) ? 'running' : 'waiting' })),
        api: { recent: { requestsPerSecond: 12, p95Ms: 1 } },
        deployment: { prometheus: { scrapeError: 'cannot scrape http://127.0.0.1:1/metrics: ECONNREFUSED', scrapedAt: at } },
      }) as unknown as RunSnapshot;
    collector.record(snapshot(['ssh', 'pty'], 1));
    collector.record(snapshot(['ssh', 'pty'], 2));
    const table = collector.view();
    assert.match(row(table, 'coderd.cpu.median').note!, /Not measured: cannot scrape http:\/\/127\.0\.0\.1:1\/metrics: ECONNREFUSED/);
    const terminal = row(table, 'coderd.api.rps.terminalApps');
    assert.match(terminal.note!, /runner's own API requests alone were 12\.0 req\/s/);
    assert.match(row(table, 'coderd.api.rps.dashboard').note!, /the dashboard stage did not run/);
    // The endpoint recovers, without agent metrics: the gap is the metric now, not the old error.
    collector.record({
      ...snapshot(['ssh', 'pty'], 3),
      deployment: { prometheus: { cpuCores: 0.5, scrapedAt: 3 } },
    } as unknown as RunSnapshot);
    const recovered = collector.view();
    assert.strictEqual(row(recovered, 'coderd.cpu.median').measured, 0.5);
    assert.match(row(recovered, 'coderd.agents.latency.p95').note!, /coderd reported no `coderd_agents_connection_latencies_seconds`/);
  });
});

describe('reference figures in a capacity search', () => {
  it('keeps one table per step at its own users: the current step while it runs, the largest passing one at the end', () => {
    const collector = new ReferenceCollector({ users: 40, prometheusUrl: 'http://127.0.0.1:2112/metrics' });
    const step = (index: number, users: number, state: string, verdict = 'pending') => ({
      index,
      users,
      state,
      verdict,
      phase: 'grow',
      startedAt: 0,
      stages: [],
      failed: [],
    });
    const snapshot = (steps: object[], cpuCores: number, at: number, capacity?: number) =>
      ({
        stages: [{ name: 'ssh', state: steps.some((s) => (s as { state: string }).state === 'running') ? 'running' : 'done' }],
        api: {},
        deployment: { prometheus: { cpuCores, scrapedAt: at } },
        search: { steps, capacity },
      }) as unknown as RunSnapshot;
    collector.record(snapshot([step(1, 10, 'running')], 1, 1));
    assert.deepStrictEqual([collector.view().users, collector.view().step], [10, { index: 1, users: 10 }]);
    collector.record(snapshot([step(1, 10, 'done', 'pass'), step(2, 20, 'running')], 4, 2));
    const during = collector.view();
    assert.deepStrictEqual([during.users, during.step, row(during, 'coderd.cpu.median').measured], [20, { index: 2, users: 20 }, 4]);
    collector.record(snapshot([step(1, 10, 'done', 'pass'), step(2, 20, 'done', 'fail')], 9, 3, 10));
    const end = collector.view();
    assert.deepStrictEqual([end.users, end.step, row(end, 'coderd.cpu.median').measured], [10, { index: 1, users: 10 }, 1]);
    assert.strictEqual(row(end, 'coderd.cpu.median').sentence, 'coderd CPU (median) per 100 users: yours 10 cores, reference 0.15');
  });
});

describe('reference figures: provisioner and database CPU endpoints', () => {
  it('reads a process CPU rate and a node_exporter busy share between two scrapes', async () => {
    let scrape = 0;
    const server = http.createServer((req, res) => {
      scrape++;
      if (req.url === '/process')
        return void res.end(`# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ${scrape * 10}\n`);
      // Two CPUs; each scrape both CPUs get 10 s more, 2 s of them idle per CPU: 80 % busy.
      const n = scrape;
      res.end(
        ['0', '1']
          .flatMap((cpu) => [
            `node_cpu_seconds_total{cpu="${cpu}",mode="idle"} ${n * 2}`,
            `node_cpu_seconds_total{cpu="${cpu}",mode="user"} ${n * 8}`,
          ])
          .join('\n') + '\n',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const node = new NodeCpuScraper(`${base}/node`);
      assert.strictEqual((await node.scrape()).cpuPercent, undefined, 'no rate from one scrape');
      const second = await node.scrape();
      assert.ok(Math.abs(second.cpuPercent! - 80) < 1e-9, `cpuPercent ${second.cpuPercent}`);
      const process = new ProcessCpuScraper(`${base}/process`);
      await process.scrape();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const cores = (await process.scrape()).cpuCores!;
      assert.ok(cores > 0, `cpuCores ${cores}`);
    } finally {
      server.close();
    }
    const broken = await new ProcessCpuScraper('http://127.0.0.1:1/metrics').scrape();
    assert.match(broken.scrapeError!, /cannot scrape http:\/\/127\.0\.0\.1:1\/metrics/);
  });
});

describe('reference figures in a real run against the simulated deployment', function () {
  this.timeout(120_000);
  const env = useSimAndOutDir();

  it("fills the table from the simulated coderd's Prometheus metrics, per phase, in the snapshot and the reports", async () => {
    const plan = smallPlan(env.sim, { users: 2, slotSeconds: 2, dashboard: true });
    plan.deployment.prometheusUrl = env.sim.prometheusUrl;
    const result = await startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out }).done;
    const table = result.snapshot.reference!;
    assert.ok(table, 'the final snapshot has no reference table');
    assert.strictEqual(table.users, 2);
    for (const id of [
      'coderd.cpu.median',
      'coderd.cpu.peak',
      'coderd.api.rps.dashboard',
      'coderd.api.rps.terminalApps',
      'coderd.websockets.dashboard',
    ]) {
      const r = row(table, id);
      assert.ok(r.measured !== undefined && r.measured > 0, `${id} not measured: ${r.note}`);
      assert.ok(r.measuredFrom, `${id} says not where it came from`);
      assert.match(r.sentence, /per 100 users: yours \S+/);
    }
    assert.ok(row(table, 'coderd.cpu.peak').measured! >= row(table, 'coderd.cpu.median').measured!);
    // The simulated agents report a latency (the deployment's delay in reaching each one).
    for (const id of ['coderd.agents.latency.p90', 'coderd.agents.latency.p95']) {
      const r = row(table, id);
      assert.ok(r.measured !== undefined && r.measured >= 0, `${id} not measured: ${r.note}`);
      assert.strictEqual(r.expected, r.reference);
    }
    // The simulator has neither external provisioners nor a database host.
    assert.match(row(table, 'provisionerd.cpu.median').note!, /provisionerPrometheusUrl/);
    assert.match(row(table, 'database.cpu.median').note!, /databaseMetricsUrl/);
    assert.strictEqual(row(table, 'setup.runner').measured, os.cpus().length);

    const dir = path.join(env.out, result.snapshot.runId);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as { reference: ReferenceSnapshot };
    assert.deepStrictEqual(report.reference, table);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.match(html, /<h2 id="reference">Coder's reference figures<\/h2>/);
    assert.match(html, /coderd CPU \(median\) per 100 users: yours [\d.]+ cores, reference 0\.15/);
    assert.match(html, /<code>deployment\.databaseMetricsUrl<\/code>/);
  });
});
