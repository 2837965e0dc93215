import * as assert from 'assert';
import * as fc from 'fast-check';
import { runEchoStage } from '../../../../src/engine/stages/echo/runner';
import { StageMetrics } from '../../../../src/engine/metrics/stageMetrics';
import type { PreparedUser } from '../../../../src/engine/prepare/prepare';
import { seededRandom } from '../../../../src/engine/common/random';
import { startRun, type RunEvent } from '../../../../src/engine/run/run';
import { EchoWorkerSet } from '../../../../src/engine/workers/coordinator';
import { takeWorkerReport, WorkerReportMerger } from '../../../../src/engine/workers/stageReport';
import type { StageName } from '../../../../src/protocol/snapshot';
import { smallPlan, useSimAndOutDir } from '../../../support/simRun';

/** What a connection does to its stage's metrics, replayable on any StageMetrics. */
type Event =
  | { kind: 'rtt'; ms: number }
  | { kind: 'connect'; ms: number }
  | { kind: 'count'; counter: 'sent' | 'completed' | 'expected' | 'mismatches' | 'disconnects' }
  | { kind: 'error'; error: string };

function apply(metrics: StageMetrics, event: Event): void {
  if (event.kind === 'rtt') metrics.latency.record(event.ms);
  else if (event.kind === 'connect') metrics.connectLatency.record(event.ms);
  else if (event.kind === 'count') metrics[event.counter]++;
  else metrics.countError(event.error);
}

const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant('rtt' as const), ms: fc.double({ min: 0.001, max: 600_000, noNaN: true }) }),
  fc.record({ kind: fc.constant('connect' as const), ms: fc.double({ min: 0.001, max: 60_000, noNaN: true }) }),
  fc.record({
    kind: fc.constant('count' as const),
    counter: fc.constantFrom('sent' as const, 'completed' as const, 'expected' as const, 'mismatches' as const, 'disconnects' as const),
  }),
  fc.record({ kind: fc.constant('error' as const), error: fc.constantFrom('echo_timeout', 'connect') }),
);

describe('echo stages on worker threads', () => {
  it('merged worker reports give exactly the in-thread snapshot: counts, errors, percentiles, min, max, live window', () => {
    fc.assert(
      fc.property(
        // Seconds of events; each event lands on the worker of its connection.
        fc.array(fc.array(fc.tuple(fc.nat(99), eventArbitrary), { maxLength: 120 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 2, max: 4 }),
        (seconds, workerCount) => {
          const inThread = new StageMetrics('pty', 'Web terminal');
          const coordinator = new StageMetrics('pty', 'Web terminal');
          const workers = Array.from({ length: workerCount }, () => new StageMetrics('pty', 'Web terminal'));
          const merger = new WorkerReportMerger(coordinator, workerCount);
          for (const events of seconds) {
            for (const [connection, event] of events) {
              apply(inThread, event);
              apply(workers[connection % workerCount], event);
            }
            workers.forEach((worker, index) => merger.apply(index, takeWorkerReport(worker)));
            inThread.rollInterval();
            coordinator.rollInterval();
            assert.deepStrictEqual(coordinator.snapshot(), inThread.snapshot());
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a worker that crashes ends the stage with an error naming it, and nothing waits for it', async function () {
    this.timeout(30_000);
    const metrics = new StageMetrics('dashboard', 'Dashboard');
    const plan = smallPlan({ directSsh: { host: '127.0.0.1', port: 1 } } as never, { users: 2 });
    const users = [0, 1].map((index) => ({
      index,
      userId: `u${index}`,
      username: `u${index}`,
      token: 't',
      workspaceId: 'w',
      workspaceName: 'w',
      agentId: 'a',
      agentName: 'main',
      agentApps: [],
    })) as unknown as PreparedUser[];
    const logs: string[] = [];
    const log = (_level: string, message: string) => logs.push(message);
    // The dashboard is no echo stage: its workers fail as they boot, as a crashing worker would.
    const workers = await EchoWorkerSet.boot(
      {
        stageId: 'dashboard',
        resources: { runId: 'stworkers1' },
        plan,
        users,
        connection: { url: 'http://127.0.0.1:1' },
        random: seededRandom(1),
        log,
      },
      2,
    );
    const started = Date.now();
    await assert.rejects(
      runEchoStage({
        plan,
        settings: { bytesPerTick: 1024, tickIntervalMs: 100 },
        openers: () => Promise.reject(new Error('not used')),
        signal: new AbortController().signal,
        users,
        metrics,
        endAt: Date.now() + 60_000,
        random: seededRandom(1),
        log,
        workers,
      }),
      (error: Error) =>
        /worker 1\/2 \(1 connections\) crashed: stage "dashboard" does not run on worker threads/.test(error.message) &&
        /worker 2\/2/.test(error.message),
    );
    assert.ok(Date.now() - started < 20_000, 'the stage did not wait for its end');
    assert.strictEqual(metrics.errors.worker_crash, 2);
    assert.strictEqual(metrics.activeConnections, 0);
    await workers.close();
  });

  describe('a run against the simulated deployment', function () {
    this.timeout(120_000);
    const env = useSimAndOutDir();

    for (const workers of [2, 0]) {
      it(`passes with ${workers ? `${workers} worker threads` : 'every connection on the main thread'}, every scheduled echo back`, async () => {
        const plan = smallPlan(env.sim, { users: 4, only: ['ssh', 'pty', 'apps'] });
        plan.workers = workers;
        const events: RunEvent[] = [];
        const result = await startRun({
          plan,
          connection: { url: env.sim.url, token: env.sim.ownerToken },
          outDir: env.out,
          log: (event) => events.push(event),
        }).done;
        const log = events.map((e) => `${e.stage ?? ''} ${e.message}`).join('\n');
        assert.strictEqual(result.verdict, 'pass', `${result.snapshot.reason}\n${log}`);
        for (const name of ['ssh', 'pty', 'apps'] as StageName[]) {
          const stage = result.snapshot.stages.find((s) => s.name === name)!;
          assert.strictEqual(stage.connections.target, 4, name);
          assert.strictEqual(stage.connections.active, 0, `${name}: every connection closed`);
          assert.ok(stage.completed >= 40, `${name} completed ${stage.completed}`);
          assert.strictEqual(stage.completed, stage.expected, `${name}: every scheduled tick echoed`);
          assert.strictEqual(stage.sent, stage.expected, name);
          assert.strictEqual(stage.latency.count, stage.completed, `${name}: one round trip per echo in the merged histogram`);
          assert.strictEqual(stage.connectLatency?.count, 4, `${name}: one handshake per connection`);
          assert.deepStrictEqual(stage.errors, {}, name);
          assert.strictEqual(
            events.some((e) => e.stage === name && e.message.includes(`4 connections over ${workers} worker threads`)),
            workers > 1,
            log,
          );
        }
      });
    }
  });
});
