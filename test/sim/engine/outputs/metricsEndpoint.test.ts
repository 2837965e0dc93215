// `run --metrics-address`: /metrics scraped while a simulator run goes and in the seconds after
// it, checked against the run's own snapshot and report (the same figures, from the same HDR
// histograms).
import * as assert from 'assert';
import * as fs from 'fs';
import * as hdr from 'hdr-histogram-js';
import * as path from 'path';
import { main } from '../../../../src/cli/main';
import { cumulativeCounts, LATENCY_BUCKETS_SECONDS } from '../../../../src/engine/outputs/prometheus';
import type { RunReport } from '../../../../src/engine/outputs/report/report';
import type { RunSnapshot } from '../../../../src/protocol/snapshot';
import { capture } from '../../../support/capture';
import { smallPlan, startTestSim, tempDir } from '../../../support/simRun';

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `name{labels} value` → value, for the sample whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('run --metrics-address: /metrics during and after a simulator run', function () {
  this.timeout(120_000);

  it("serves the run's figures, equal to its snapshot and report, and keeps serving for the last scrape", async () => {
    const sim = await startTestSim();
    const dir = tempDir();
    try {
      const plan = smallPlan(sim, { users: 2, only: ['ssh', 'pty'] });
      plan.timeline.ssh = [0, 3];
      plan.timeline.pty = [0, 3];
      plan.observe.metricsLingerSeconds = 3;
      const planFile = path.join(dir, 'metrics.scaletest.json');
      fs.writeFileSync(planFile, JSON.stringify(plan));
      const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
      const out = path.join(dir, 'out');
      const done = main(['run', planFile, '--url', sim.url, '--out', out, '--ndjson', '--metrics-address', '127.0.0.1:0'], io);
      await until(() => /serving Prometheus metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/.test(io.err()), 'the metrics server');
      const url = /serving Prometheus metrics at (\S+)/.exec(io.err())![1];

      // During traffic: the state the snapshots show.
      await until(() => io.out().includes('"status":"running"'), 'traffic');
      const live = await (await fetch(url)).text();
      assert.strictEqual(sample(live, 'coder_scaletest_run_status', { status: 'running' }), 1);
      assert.strictEqual(sample(live, 'coder_scaletest_stage_state', { stage: 'prepare', state: 'done' }), 1);
      assert.strictEqual(sample(live, 'coder_scaletest_exit_code'), -1, 'no exit code before the end');
      const runId = /"runId":"(\w+)"/.exec(io.out())![1];
      assert.ok(live.includes(`run_id="${runId}"`) && live.includes('shard="0/1"'));

      // After the run, while /metrics lingers: exactly the report's figures.
      await until(() => /serving \/metrics 3 s more/.test(io.err()), 'the end of the run');
      const last = await (await fetch(url)).text();
      const report = JSON.parse(fs.readFileSync(path.join(out, runId, 'report.json'), 'utf8')) as RunReport;
      const final = report.snapshot as RunSnapshot;
      assert.strictEqual(sample(last, 'coder_scaletest_exit_code'), report.exitCode);
      assert.strictEqual(sample(last, 'coder_scaletest_run_verdict', { verdict: report.verdict }), 1);
      for (const stage of final.stages.filter((s) => s.name === 'ssh' || s.name === 'pty')) {
        const labels = { stage: stage.name };
        assert.ok(stage.latency.count > 0, `${stage.name} measured round trips`);
        assert.strictEqual(sample(last, 'coder_scaletest_latency_seconds_count', labels), stage.latency.count);
        assert.strictEqual(sample(last, 'coder_scaletest_echoes_completed_total', labels), stage.completed);
        assert.strictEqual(sample(last, 'coder_scaletest_ticks_sent_total', labels), stage.sent);
        assert.strictEqual(sample(last, 'coder_scaletest_bytes_received_total', labels), stage.bytesReceived);
        assert.strictEqual(sample(last, 'coder_scaletest_disconnects_total', labels), stage.disconnects);
        // The buckets are the report's HDR histogram, projected.
        const histogram = hdr.decodeFromCompressedBase64(report.histograms.stages[stage.name]);
        const expected = cumulativeCounts(
          histogram,
          LATENCY_BUCKETS_SECONDS.map((s) => Math.round(s * 1e6)),
        );
        LATENCY_BUCKETS_SECONDS.forEach((le, i) =>
          assert.strictEqual(
            sample(last, 'coder_scaletest_latency_seconds_bucket', { ...labels, le: String(le) }),
            expected[i],
            `le ${le}`,
          ),
        );
        assert.ok(
          Math.abs(sample(last, 'coder_scaletest_latency_seconds_sum', labels)! - (stage.latency.mean * stage.latency.count) / 1000) <
            0.01 * stage.latency.count,
        );
      }
      // Coder's runner names, per workspace: report.json's rows.
      assert.strictEqual(report.workspaces?.length, 2);
      for (const row of report.workspaces)
        for (const stage of ['ssh', 'pty']) {
          const labels = { username: row.user, workspace_name: row.workspace, agent_name: row.agent, stage };
          assert.ok(row.stages[stage].bytesSent > 0, `${row.workspace} sent in ${stage}`);
          assert.strictEqual(sample(last, 'coderd_scaletest_bytes_written_total', labels), row.stages[stage].bytesSent);
          assert.strictEqual(sample(last, 'coderd_scaletest_bytes_read_total', labels), row.stages[stage].bytesReceived);
          assert.strictEqual(sample(last, 'coderd_scaletest_read_errors_total', labels), row.stages[stage].disconnects);
        }
      for (const threshold of final.thresholds)
        assert.strictEqual(
          sample(last, 'coder_scaletest_threshold_verdict', { expression: threshold.expression, verdict: threshold.verdict }),
          1,
        );
      assert.strictEqual(await done, report.exitCode);
      // Gone once the command has returned.
      await assert.rejects(fetch(url));
    } finally {
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a taken port before anything is created (exit 2)', async () => {
    const sim = await startTestSim();
    const dir = tempDir();
    const blocker = await import('net').then(
      (net) =>
        new Promise<import('net').Server>((resolve) => {
          const server = net.createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    );
    try {
      const planFile = path.join(dir, 'p.scaletest.json');
      fs.writeFileSync(planFile, JSON.stringify(smallPlan(sim, { users: 1, only: ['ssh'] })));
      const port = (blocker.address() as import('net').AddressInfo).port;
      const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
      const code = await main(
        ['run', planFile, '--url', sim.url, '--out', path.join(dir, 'out'), '--metrics-address', `127.0.0.1:${port}`],
        io,
      );
      assert.strictEqual(code, 2, io.err());
      assert.match(
        io.err(),
        new RegExp(`--metrics-address: metrics address 127\\.0\\.0\\.1:${port}: cannot listen \\(EADDRINUSE\\); the port is taken`),
      );
      assert.ok(!fs.existsSync(path.join(dir, 'out')) || fs.readdirSync(path.join(dir, 'out')).length === 0, 'no run was started');
    } finally {
      blocker.close();
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
