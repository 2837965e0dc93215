import * as assert from 'assert';
import { runEchoStage } from '../../../../../src/engine/stages/echo/runner';
import type { EchoTransport } from '../../../../../src/engine/stages/echo/session';
import { StageMetrics } from '../../../../../src/engine/metrics/stageMetrics';
import { defaultPlan } from '../../../../../src/engine/plan/plan';
import type { PreparedUser } from '../../../../../src/engine/prepare/prepare';
import { seededRandom } from '../../../../../src/engine/common/random';
import { TickScheduler, tickPhaseMs } from '../../../../../src/engine/stages/echo/tickScheduler';
import { performance } from 'perf_hooks';

/** An in-memory echo that takes `openMs` to open: a slow handshake without a network. */
function slowEcho(openMs: number): () => Promise<EchoTransport> {
  return () =>
    new Promise((resolve) =>
      setTimeout(() => {
        let onData: (data: Buffer) => void = () => {};
        resolve({
          send: (data) => setImmediate(() => onData(data)),
          onData: (listener) => (onData = listener),
          onClose: () => {},
          close: () => {},
        });
      }, openMs),
    );
}

describe('echo stage ramp', () => {
  const users = (count: number) =>
    Array.from({ length: count }, (_, index) => ({ index, workspaceName: `w${index}` })) as unknown as PreparedUser[];

  it('opens each connection at its planned time, however many are still opening', async () => {
    const metrics = new StageMetrics('apps', 'Workspace apps');
    const plan = defaultPlan();
    plan.users = 8;
    await runEchoStage({
      plan,
      // 8 connections 50 ms apart, each taking 400 ms to open: all 8 are opening at once.
      settings: { bytesPerTick: 64, tickIntervalMs: 100, connectionsPerSecond: 20 },
      openers: async () => () => slowEcho(400),
      signal: new AbortController().signal,
      users: users(8),
      metrics,
      endAt: Date.now() + 1500,
      random: seededRandom(1),
      log: () => {},
    });
    assert.strictEqual(metrics.connectLatency.count(), 8);
    assert.strictEqual(metrics.errors.not_opened, undefined);
    // Each was up one handshake after its planned open: that is its open lag.
    const openLag = metrics.openLag.summary();
    assert.strictEqual(openLag.count, 8);
    assert.ok(openLag.min >= 390, `open lag min ${openLag.min} ms`);
    // How late the opens started is the machine's timing: its shape, not its value.
    assert.ok((metrics.ramp?.startedLateMs ?? -1) >= 0);
    assert.deepStrictEqual(metrics.ramp && { ...metrics.ramp, heldBackMs: 0, startedLateMs: 0 }, {
      description: '8 connections at 20/s (0.4 s)',
      connectionsPerSecond: 20,
      heldBackMs: 0,
      startedLateMs: 0,
    });
  });

  it('stops opening connections at the stage end and counts the ones it could not open', async () => {
    const metrics = new StageMetrics('apps', 'Workspace apps');
    const warnings: string[] = [];
    await runEchoStage({
      plan: defaultPlan(),
      // Planned at 0, 250, 500, … 1750 ms; the stage ends at 600 ms.
      settings: { bytesPerTick: 64, tickIntervalMs: 100, connectionsPerSecond: 4 },
      openers: async () => () => slowEcho(10),
      signal: new AbortController().signal,
      users: users(8),
      metrics,
      endAt: Date.now() + 600,
      random: seededRandom(1),
      log: (level, message) => level === 'warn' && warnings.push(message),
    });
    const notOpened = metrics.errors.not_opened ?? 0;
    // The five planned after the end are never opened (a lagging runner may miss more).
    assert.ok(notOpened >= 5, `not opened: ${notOpened}`);
    assert.strictEqual(notOpened + metrics.connectLatency.count(), 8);
    assert.ok(
      warnings.some((w) => w.includes(`${notOpened} of 8 connections were not opened before the stage's end`)),
      warnings.join('\n'),
    );
  });

  it('a runner that reaches the stage after its window opens nothing and says it was late, not lagging', async () => {
    const metrics = new StageMetrics('apps', 'Workspace apps');
    const warnings: string[] = [];
    await runEchoStage({
      plan: defaultPlan(),
      settings: { bytesPerTick: 64, tickIntervalMs: 100, connectionsPerSecond: 50 },
      openers: async () => () => slowEcho(10),
      signal: new AbortController().signal,
      users: users(3),
      metrics,
      // A shard whose prepare ran past the agreed start: its window is already over.
      scheduleStartEpochMs: Date.now() - 2000,
      endAt: Date.now() - 1000,
      random: seededRandom(1),
      log: (level, message) => level === 'warn' && warnings.push(message),
    });
    assert.strictEqual(metrics.errors.not_opened, 3);
    assert.ok(
      warnings.some((w) => /3 of 3 connections were not opened: this runner reached the stage after its window had ended/.test(w)),
      warnings.join('\n'),
    );
    assert.ok(!warnings.some((w) => /event-loop lag/.test(w)), 'the lag is not blamed');
  });
});

describe('echo stage tick phases', () => {
  it('spreads the connections over the tick interval in whole milliseconds, evenly', () => {
    const phases = Array.from({ length: 2000 }, (_, index) => tickPhaseMs(index, 2000, 100));
    const perMs = new Map<number, number>();
    for (const phase of phases) perMs.set(phase, (perMs.get(phase) ?? 0) + 1);
    // 2000 connections over 100 ms: 20 in each millisecond, not 2000 in one.
    assert.deepStrictEqual(
      [...perMs.keys()].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, ms) => ms),
    );
    assert.ok([...perMs.values()].every((count) => count === 20));
    assert.deepStrictEqual(
      [0, 1, 2].map((index) => tickPhaseMs(index, 3, 100)),
      [0, 33, 66],
    );
    assert.strictEqual(tickPhaseMs(0, 1, 100), 0);
  });

  it('schedules each connection at its own phase: at most a share of the stage in any millisecond', async () => {
    // The scheduler's planned times, not the sends' wall-clock times: a busy machine delays the
    // timers (and bunches late ones together) but cannot move what the stage planned.
    const planned: number[] = [];
    const at = TickScheduler.prototype.at;
    const scheduleStartEpochMs = Date.now();
    const t0 = scheduleStartEpochMs - performance.timeOrigin;
    TickScheduler.prototype.at = function (this: TickScheduler, time: number, callback: () => void) {
      planned.push(time - t0);
      return at.call(this, time, callback);
    };
    const metrics = new StageMetrics('apps', 'Workspace apps');
    const users = Array.from({ length: 10 }, (_, index) => ({ index, workspaceName: `w${index}` })) as unknown as PreparedUser[];
    try {
      await runEchoStage({
        plan: defaultPlan(),
        // All opened at once: the phases alone spread the sends.
        settings: { bytesPerTick: 64, tickIntervalMs: 100, rampSeconds: 0 },
        openers: async () => () => slowEcho(0),
        signal: new AbortController().signal,
        users,
        metrics,
        scheduleStartEpochMs,
        endAt: scheduleStartEpochMs + 450,
        random: seededRandom(1),
        log: () => {},
      });
    } finally {
      TickScheduler.prototype.at = at;
    }
    // 10 connections, 100 ms: one every 10 ms; in phase they would all be due in one millisecond.
    const firstTicks = [...new Set(planned.filter((t) => t >= -1 && t < 99).map(Math.round))].sort((a, b) => a - b);
    assert.deepStrictEqual(firstTicks, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90], `planned: ${planned.join(', ')}`);
    assert.ok(metrics.completed > 0 && metrics.mismatches === 0);
  });
});
