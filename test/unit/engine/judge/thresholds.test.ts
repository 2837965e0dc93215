import * as assert from 'assert';
import { evaluateThreshold, parseThreshold } from '../../../../src/engine/judge/thresholds';
import { StageMetrics } from '../../../../src/engine/metrics/stageMetrics';
import { morningRushStage } from '../../../../src/engine/stages/morningRush/descriptor';
import type { RunSnapshot } from '../../../../src/protocol/snapshot';

function snapshotWith(pty: StageMetrics): RunSnapshot {
  const emptyApi = { requests: 100, errors4xx: 0, errors5xx: 2, networkErrors: 0, latency: pty.latency.summary() };
  return {
    stages: [pty.snapshot()],
    api: { total: emptyApi, byClass: { workspaces: emptyApi } },
    deployment: { url: 'http://x', healthy: true, restarts: 1 },
    runner: { cpuPercent: 50, rssBytes: 0, heapUsedBytes: 0, eventLoopLagP99Ms: 12, overloaded: false },
  } as unknown as RunSnapshot;
}

describe('thresholds', () => {
  it('parses units into base units', () => {
    assert.deepStrictEqual(
      [
        parseThreshold('pty.rtt.p95 < 300ms').limit,
        parseThreshold('pty.rtt.p95<0.3s').limit,
        parseThreshold('ssh.disconnects <= 1%').limit,
      ],
      [300, 300, 0.01],
    );
    assert.strictEqual(parseThreshold('api.latency.workspaces.p99 >= 5').op, '>=');
  });

  it('explains bad syntax, unknown metrics and wrong units', () => {
    assert.throws(() => parseThreshold('pty.rtt.p95 ~ 3'), /write <metric> <op> <value><unit>/);
    assert.throws(() => parseThreshold('pty.rtt.p42 < 3ms'), /unknown metric "pty\.rtt\.p42"/);
    assert.throws(() => parseThreshold('pty.rtt.p95 < 3%'), /is a duration/);
    assert.throws(() => parseThreshold('ssh.throughput >= 90'), /percentage/);
    assert.throws(() => parseThreshold('deployment.restarts < 1%'), /% is not defined/);
    assert.throws(() => parseThreshold('api.errors_5xx < 3ms'), /is a count/);
  });

  it("judges a stage's own latencies by the names its descriptor declares (morning_rush.queue_wait.<stat>)", () => {
    const rush = new StageMetrics('morning_rush', 'Morning rush', undefined, undefined, morningRushStage);
    rush.state = 'done';
    for (const ms of [100, 200, 4000]) rush.latencyOf('queue_wait').record(ms);
    rush.latency.record(5000);
    const snapshot = snapshotWith(rush);
    const judge = (expression: string) => evaluateThreshold(parseThreshold(expression), snapshot, true);
    // Ready in time, yet the builds waited too long for a provisioner: the verdict says which.
    assert.strictEqual(judge('morning_rush.latency.p95 < 10s').verdict, 'pass');
    assert.deepStrictEqual(
      [judge('morning_rush.queue_wait.max < 1s').verdict, judge('morning_rush.queue_wait.max < 1s').observed],
      ['fail', 4000],
    );
    assert.strictEqual(judge('morning_rush.queue_wait.p50 < 1s').verdict, 'pass');
    // Declared but never recorded: no data, which fails at the end.
    assert.strictEqual(judge('morning_rush.build_started.p95 < 1s').verdict, 'fail');
    assert.throws(() => parseThreshold('morning_rush.queue_waits.p95 < 1s'), /unknown metric/);
    assert.throws(() => rush.latencyOf('queue_waits'), /does not declare/);
  });

  it('evaluates counts, percentages and latencies on a snapshot', () => {
    const pty = new StageMetrics('pty', 'Web terminal');
    pty.state = 'running';
    pty.targetConnections = 200;
    pty.disconnects = 1;
    for (let i = 1; i <= 100; i++) pty.latency.record(i * 10);
    const snapshot = snapshotWith(pty);
    const check = (expression: string) => evaluateThreshold(parseThreshold(expression), snapshot, true);
    assert.strictEqual(check('pty.disconnects == 0').verdict, 'fail');
    assert.strictEqual(check('pty.disconnects <= 1%').verdict, 'pass');
    assert.strictEqual(check('pty.disconnects <= 1%').observedText, '0.50%');
    const p95 = check('pty.rtt.p95 < 300ms');
    assert.strictEqual(p95.verdict, 'fail');
    assert.ok(p95.observed! >= 940 && p95.observed! <= 960, `p95 ${p95.observed}`);
    assert.match(p95.reason!, /pty\.rtt\.p95 was 95\dms, required < 300ms/);
    assert.strictEqual(check('pty.rtt.p95 < 1s').verdict, 'pass');
    assert.strictEqual(check('api.errors_5xx == 0').verdict, 'fail');
    assert.strictEqual(check('api.errors_5xx <= 2%').verdict, 'pass');
    assert.strictEqual(check('deployment.restarts == 0').verdict, 'fail');
    assert.strictEqual(check('runner.cpu < 80%').verdict, 'pass');
  });

  it('is pending live without data, fails at the end, and skips stages that did not run', () => {
    const ssh = new StageMetrics('ssh', 'SSH');
    ssh.state = 'running';
    const live = evaluateThreshold(parseThreshold('ssh.rtt.p95 < 300ms'), snapshotWith(ssh), false);
    assert.strictEqual(live.verdict, 'pending');
    const final = evaluateThreshold(parseThreshold('ssh.rtt.p95 < 300ms'), snapshotWith(ssh), true);
    assert.strictEqual(final.verdict, 'fail');
    assert.match(final.reason!, /no data/);
    ssh.state = 'skipped';
    assert.strictEqual(evaluateThreshold(parseThreshold('ssh.rtt.p95 < 300ms'), snapshotWith(ssh), true).verdict, 'skipped');
  });

  it('judges connect time (handshakes) apart from round trips', () => {
    const pty = new StageMetrics('pty', 'Web terminal');
    pty.state = 'running';
    for (let i = 1; i <= 100; i++) pty.latency.record(5);
    const live = evaluateThreshold(parseThreshold('pty.connect.p95 < 5s'), snapshotWith(pty), false);
    assert.strictEqual(live.verdict, 'pending', 'no handshake recorded yet');
    for (let i = 1; i <= 100; i++) pty.connectLatency.record(i * 100);
    const result = evaluateThreshold(parseThreshold('pty.connect.p95 < 5s'), snapshotWith(pty), true);
    assert.strictEqual(result.verdict, 'fail');
    assert.ok(Math.abs((result.observed ?? 0) - 9500) < 50, `observed ${result.observed}`);
    assert.throws(() => parseThreshold('dashboard.connect.p95 < 5s'), /unknown metric/);
  });
});
