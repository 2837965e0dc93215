// The parts startRun wires, each alone: the threshold judge, the history recorder, the snapshot
// builder and the sinks. Fed hand-made snapshots; no deployment, no timers.
import * as assert from 'assert';
import { HistoryRecorder } from '../../../../src/engine/metrics/historyRecorder';
import { ThresholdJudge } from '../../../../src/engine/judge/judge';
import { decideOutcome } from '../../../../src/engine/judge/outcome';
import { StageMetrics } from '../../../../src/engine/metrics/stageMetrics';
import { SinkSet, EventLog } from '../../../../src/engine/outputs/sinks';
import { SnapshotBuilder } from '../../../../src/engine/run/snapshotBuilder';
import type { RunSnapshot } from '../../../../src/protocol/snapshot';
import { cliEvent } from '../../../../src/cli/outcomeText';
import { morningRushStage } from '../../../../src/engine/stages/morningRush/descriptor';
import { LETTER_THEME as THEME } from '../../../support/chartTheme';
import { chartSpecs } from '../../../../webview/chartSpecs';

function builderWith(stages: StageMetrics[], thresholds: () => RunSnapshot['thresholds'] = () => []) {
  const api = {
    rollInterval: () => undefined,
    snapshot: () => ({
      total: { requests: 10, errors4xx: 0, errors5xx: 0, networkErrors: 0, latency: stages[0].latency.summary() },
      byClass: {},
      recent: { requestsPerSecond: 5, p95Ms: 7 },
    }),
  };
  return new SnapshotBuilder(
    { runId: 'st1abc', planName: 'parts', deploymentUrl: 'http://127.0.0.1:1', startedAt: 1_000, timelineMs: 2000, slotMs: 1000 },
    {
      stages,
      api,
      deployment: () => ({ url: 'http://127.0.0.1:1', healthy: true, restarts: 0 }),
      runner: () => ({ cpuPercent: 10, rssBytes: 1, heapUsedBytes: 1, eventLoopLagP99Ms: 2, overloaded: false }),
      thresholds,
      history: () => [],
      state: () => ({ status: 'running', verdict: 'pending' }),
    },
  );
}

describe('run parts, each alone', () => {
  it('snapshot builder: one complete snapshot from its sources, stages in source order', () => {
    const ssh = new StageMetrics('ssh', 'SSH', { startMs: 0, endMs: 2000 }, 'blue');
    ssh.latency.record(12);
    ssh.sent = 3;
    const snapshot = builderWith([new StageMetrics('prepare', 'Prepare'), ssh]).build(4_000);
    assert.deepStrictEqual(
      snapshot.stages.map((s) => [s.name, s.color, s.plannedEndMs]),
      [
        ['prepare', undefined, undefined],
        ['ssh', 'blue', 2000],
      ],
    );
    assert.strictEqual(snapshot.stages[1].latency.count, 1);
    assert.deepStrictEqual([snapshot.runId, snapshot.now, snapshot.status, snapshot.api.recent?.p95Ms], ['st1abc', 4_000, 'running', 7]);
  });

  it('threshold judge: live pending, breach asks for an abort once it lasted, final verdicts per stage and run', () => {
    const ssh = new StageMetrics('ssh', 'SSH', { startMs: 0, endMs: 2000 });
    const builder = builderWith([ssh]);
    const judge = new ThresholdJudge([
      { expression: 'ssh.rtt.p95 < 10ms', abortOnFail: true, abortAfterSeconds: 1 },
      { expression: 'ssh.errors == 0', abortOnFail: false, abortAfterSeconds: 0 },
    ]);
    assert.deepStrictEqual(judge.evaluate(builder.build(), { final: false, trafficPhase: true, now: 0 }), { abort: undefined });
    assert.deepStrictEqual(
      judge.states().map((t) => t.verdict),
      ['pending', 'pass'],
    );
    ssh.latency.record(50);
    assert.strictEqual(
      judge.evaluate(builder.build(), { final: false, trafficPhase: true, now: 100 }).abort,
      undefined,
      'not yet lasted 1 s',
    );
    assert.match(
      judge.evaluate(builder.build(), { final: false, trafficPhase: true, now: 1_200 }).abort ?? '',
      /threshold "ssh\.rtt\.p95 < 10ms" breached/,
    );
    judge.evaluate(builder.build(), { final: true, trafficPhase: false });
    ssh.state = 'done';
    assert.deepStrictEqual(judge.judgeStage(ssh.snapshot()), { verdict: 'fail', reason: 'ssh.rtt.p95 was 50ms, required < 10ms' });
    assert.deepStrictEqual(
      decideOutcome({ errors: [], runnerProblems: [], failedThresholds: judge.failed(), cleanup: { ran: true, leftovers: 0 }, runId: 'r' }),
      {
        verdict: 'fail',
        exit: 'failed',
        exitCode: 1,
        status: 'finished',
        reason: '1 threshold(s) failed: ssh.rtt.p95 was 50ms, required < 10ms',
      },
    );
    assert.deepStrictEqual(judge.judgeStage({ ...ssh.snapshot(), state: 'skipped' }), { verdict: 'skipped' });
  });

  it('history recorder: stays bounded and evenly spaced, with rates from byte deltas', () => {
    const ssh = new StageMetrics('ssh', 'SSH', { startMs: 0, endMs: 2000 });
    ssh.state = 'running';
    const builder = builderWith([ssh]);
    const history = new HistoryRecorder(10, 1_000);
    for (let i = 1; i <= 100; i++) {
      ssh.bytesSent += 1000;
      history.record(builder.build(1_000 + i * 1000));
    }
    const points = history.points();
    assert.ok(points.length <= 10 && points.length >= 5, `${points.length} points`);
    const gaps = points.slice(1).map((point, i) => point.t - points[i].t);
    assert.strictEqual(new Set(gaps).size, 1, `evenly spaced: ${gaps.join(',')}`);
    assert.strictEqual(points[0].stages.ssh!.bytesPerSecond, 1000);
  });

  it("history and charts: a stage's declared figures over time, in the charts its descriptor declares, titled by what it measures", () => {
    const rush = new StageMetrics('morning_rush', 'Morning rush', { startMs: 0, endMs: 2000 }, 'yellow', morningRushStage);
    const ssh = new StageMetrics('ssh', 'SSH', { startMs: 0, endMs: 2000 });
    rush.state = ssh.state = 'running';
    const builder = builderWith([rush, ssh]);
    const history = new HistoryRecorder(10, 1_000);
    for (const [i, queued] of [3, 5, 1].entries()) {
      Object.assign(rush.figures, { queued, building: i, ready: i * 2 });
      history.record(builder.build(2_000 + i * 1000));
    }
    const snapshot = { ...builder.build(5_000), history: history.points() };
    assert.deepStrictEqual(history.points()[1]!.stages.morning_rush!.figures, { queued: 5, building: 1, ready: 2 });
    assert.strictEqual(history.points()[1]!.stages.ssh!.figures, undefined, 'a stage without charts keeps no figures');
    const specs = chartSpecs(snapshot);
    assert.deepStrictEqual(
      specs.slice(0, 4).map((spec) => [spec.id, spec.title]),
      [
        ['rtt:morning_rush', 'Morning rush: scheduled start → agent ready'],
        ['queue:morning_rush', 'Morning rush: provisioner jobs waiting (solid) and builds running (dashed)'],
        ['progress:morning_rush', 'Morning rush: workspaces with a build started, succeeded (dashed), ready (solid)'],
        // A stage without a latencyMeaning keeps the old title.
        ['rtt:ssh', 'SSH round trip'],
      ],
    );
    const [waiting, running] = specs[1]!.datasets(snapshot, THEME);
    assert.deepStrictEqual(
      [waiting!.label, waiting!.data.map((point) => point.y), waiting!.borderColor, waiting!.borderDash],
      ['jobs waiting', [3, 5, 1], 'y', []],
    );
    assert.deepStrictEqual([running!.data.map((point) => point.y), running!.borderDash.length > 0], [[0, 1, 2], true]);
    const ready = specs[2]!.datasets(snapshot, THEME).find((set) => set.label === 'ready')!;
    assert.deepStrictEqual([ready.data.map((point) => point.y), ready.borderColor], [[0, 2, 4], 'g']);
  });

  it('sinks: every sink gets snapshots, events and the finish; a failing sink is reported, not fatal', async () => {
    const problems: string[] = [];
    const sinks = new SinkSet((error) => problems.push(error.message));
    const log = new EventLog(2);
    const seen: string[] = [];
    sinks.add(log);
    sinks.add({
      snapshot: () => {
        throw new Error('broken view');
      },
      finish: async () => {
        seen.push('finished');
      },
    });
    const remove = sinks.add({ event: (event) => seen.push(event.message) });
    for (const message of ['a', 'b', 'c']) sinks.event({ level: 'info', time: 0, message });
    remove();
    sinks.event({ level: 'info', time: 0, message: 'd' });
    sinks.snapshot(builderWith([new StageMetrics('ssh', 'SSH')]).build());
    await sinks.finish({} as never, {} as never);
    assert.deepStrictEqual(
      log.events.map((event) => event.message),
      ['c', 'd'],
      'the event log keeps the last ones',
    );
    assert.deepStrictEqual(seen, ['a', 'b', 'c', 'finished']);
    assert.deepStrictEqual(problems, ['broken view']);
  });

  it('outcomes: the engine says what happened, the CLI adds its command', () => {
    const event = { level: 'warn' as const, time: 0, message: '2 resources of run st1abc left behind', code: 'resources-left' as const };
    assert.strictEqual(
      cliEvent(event, 'st1abc').message,
      '2 resources of run st1abc left behind; retry with: coder-scaletest cleanup --run-id st1abc',
    );
    assert.strictEqual(cliEvent({ ...event, code: undefined }, 'st1abc').message, event.message);
  });
});
