// The morning rush against the simulated deployment: manual and autostart variants, and the
// fault that must fail it for the right reason (no provisioner takes the jobs).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { JOURNAL_FILE, readRunJournal } from '../../../../../src/engine/run/journal';
import { startRun, type RunResult } from '../../../../../src/engine/run/run';
import type { Plan } from '../../../../../src/engine';
import { rushSentence, timeToShare } from '../../../../../src/engine/stages/morningRush/summary';
import { startSimDeployment, type FaultsConfig, type SimDeployment } from '../../../../../src/sim';
import { leftovers, oneStagePlan, tempDir } from '../../../../support/simRun';
import { LETTER_THEME as THEME } from '../../../../support/chartTheme';
import { chartSpecs } from '../../../../../webview/chartSpecs';

function rushPlan(sim: SimDeployment, users: number, settings: Partial<Plan['traffic']['morning_rush']>): Plan {
  return oneStagePlan(sim, {
    users,
    stage: 'morning_rush',
    settings: { timeoutSeconds: 30, ...settings },
    window: [0, 1],
    thresholds: ['morning_rush.errors == 0', 'morning_rush.latency.p95 < 20s', 'morning_rush.queue_wait.p95 < 20s'],
  });
}

async function rush(sim: SimDeployment, plan: Plan, faults: FaultsConfig = {}): Promise<RunResult> {
  sim.setFaults(faults);
  const out = tempDir();
  return startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir: out }).done;
}

const rushStage = (result: RunResult) => result.snapshot.stages.find((s) => s.name === 'morning_rush')!;

describe('morning rush stage', function () {
  this.timeout(150_000);

  it('says when 50/95/100 % of users were ready and the queue peak, beside the reference provisioners scaled', () => {
    assert.strictEqual(timeToShare([1000, 2000, 3000, 4000], 4, 0.5), 2000);
    assert.strictEqual(timeToShare([1000, 2000, 3000], 4, 1), undefined, 'one user never got ready');
    const sorted = [5_000, 50_000, 70_000, 100_000];
    assert.strictEqual(
      rushSentence({ users: 4, queuePeak: 3, provisioners: 2, readyAtRank: (rank) => sorted[rank - 1] }),
      '50 % of 4 users had a ready workspace after 50s, 95 % after 1m40s, 100 % after 1m40s; the provisioner queue peaked at 3 job(s) ' +
        'with 2 provisioner(s) (the reference deployment runs 50 for 2000 users: 0.1 for 4)',
    );
  });

  describe('manual: start builds at a rate', () => {
    let sim: SimDeployment;
    before(async () => {
      sim = await startSimDeployment({ buildDurationMs: 300, agentConnectDelayMs: 50, provisionerDaemons: 2, directSsh: true });
    });
    after(async () => sim.close());

    it('times scheduled → agent ready for every workspace, queues behind 2 provisioners, and cleans up', async () => {
      const result = await rush(sim, rushPlan(sim, 4, { mode: 'manual', ratePerSecond: 0 }));
      const stage = rushStage(result);
      assert.strictEqual(result.verdict, 'pass', JSON.stringify(result.snapshot.thresholds));
      assert.strictEqual(stage.latency.count, 4);
      assert.strictEqual(stage.progress!.done, 4);
      // Two daemons, four builds at once: the last two waited for a free daemon.
      assert.ok(stage.latency.max >= 2 * 300, `the slowest waited in the queue: ${stage.latency.max} ms`);
      assert.match(stage.summary!, /^50 % of 4 users had a ready workspace after \d+s, 95 % after \d+s, 100 % after \d+s; /);
      assert.match(stage.summary!, /peaked at [1-9]\d* job\(s\) with 2 provisioner\(s\)/);
      // Each step per workspace, thresholdable as morning_rush.<name>.<stat>, in order along the way.
      const named = Object.fromEntries((stage.latencies ?? []).map((entry) => [entry.name, entry.latency]));
      assert.deepStrictEqual(Object.keys(named), ['build_created', 'build_started', 'build_succeeded', 'queue_wait']);
      for (const latency of Object.values(named)) assert.strictEqual(latency.count, 4);
      assert.ok(named.build_started.max <= named.build_succeeded.max && named.build_succeeded.max <= stage.latency.max);
      // Two daemons for four builds of 300 ms: the last two waited about one build in the queue.
      assert.ok(named.queue_wait.max >= 250, `queue wait ${named.queue_wait.max} ms`);
      assert.deepStrictEqual(
        result.snapshot.thresholds.map((t) => [t.expression, t.verdict]),
        [
          ['morning_rush.errors == 0', 'pass'],
          ['morning_rush.latency.p95 < 20s', 'pass'],
          ['morning_rush.queue_wait.p95 < 20s', 'pass'],
        ],
      );
      // The stage's own charts (declared in its descriptor, carried in the snapshot) in the dashboard and report.html.
      const specs = chartSpecs(result.snapshot);
      assert.deepStrictEqual(
        specs.slice(0, 3).map((spec) => [spec.id, spec.title]),
        [
          ['rtt:morning_rush', 'Morning rush: scheduled start → agent ready'],
          ['queue:morning_rush', 'Morning rush: provisioner jobs waiting (solid) and builds running (dashed)'],
          ['progress:morning_rush', 'Morning rush: workspaces with a build started, succeeded (dashed), ready (solid)'],
        ],
      );
      const [waiting] = specs[1]!.datasets(result.snapshot, THEME);
      assert.ok(waiting!.data.length > 0 && waiting!.data.every((point) => point.y >= 0));
      const ready = specs[2]!.datasets(result.snapshot, THEME).find((set) => set.label === 'ready')!;
      assert.strictEqual(ready.data.at(-1)?.y, 4, 'every workspace ready by the last point');
      assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    });

    it('stalledProvisioners: no workspace gets ready, and the stage says the builds wait for a provisioner', async () => {
      const plan = rushPlan(sim, 2, { mode: 'manual', timeoutSeconds: 4 });
      // The daemons stall while they run the stage's stop builds: those finish, the start builds find no daemon.
      const count = async (status: string) =>
        (
          (await fetch(`${sim.url}/api/v2/workspaces?q=status:${status}`, { headers: { 'Coder-Session-Token': sim.ownerToken } }).then(
            (r) => r.json(),
          )) as { count: number }
        ).count;
      sim.setFaults({ buildDurationMs: 1000 });
      const run = startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir: tempDir() });
      let stalled = false;
      const watcher = setInterval(() => {
        void (async () => {
          if (!stalled && (await count('stopping')) === 2) {
            stalled = true;
            sim.setFaults({ buildDurationMs: 1000, stalledProvisioners: 2 });
          } else if (stalled && run.latest().status === 'cleaning') {
            clearInterval(watcher);
            sim.setFaults({});
          }
        })();
      }, 50);
      const result = await run.done;
      clearInterval(watcher);
      sim.setFaults({});
      const stage = rushStage(result);
      assert.strictEqual(result.verdict, 'fail');
      assert.strictEqual(stage.errors.not_ready, 2);
      assert.match(stage.reason!, /2 of 2 workspace\(s\) not ready after 4s; 2 build\(s\) still waiting for a provisioner/);
      assert.match(stage.summary!, /50 % of 2 users had a ready workspace after not reached/);
      assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    });
  });

  it('autostart: one schedule for every workspace, started by the lifecycle executor at the scheduled minute', async () => {
    const sim = await startSimDeployment({ buildDurationMs: 300, agentConnectDelayMs: 50, autobuildPollMs: 1000, directSsh: true });
    try {
      const result = await rush(sim, rushPlan(sim, 2, { mode: 'autostart', delaySeconds: 5, timeoutSeconds: 30 }));
      const stage = rushStage(result);
      assert.strictEqual(result.verdict, 'pass', stage.reason ?? JSON.stringify(result.snapshot.thresholds));
      assert.strictEqual(stage.latency.count, 2);
      assert.strictEqual(sim.stats().autostarts, 2, 'the executor, not the runner, started them');
      assert.ok(stage.latency.max < 5000, `ready within a tick and a build of the minute: ${stage.latency.max} ms`);
      // Each schedule went through the run's resources: in the journal before it was set, and again as it was cleared.
      const changes = fs
        .readFileSync(path.join(result.reportDir, JOURNAL_FILE), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; stage?: string; name?: string; autostart?: string | null })
        .filter((record) => record.type === 'changed');
      const runId = result.snapshot.runId;
      assert.deepStrictEqual(
        changes.map((record) => [record.stage, record.name, record.autostart === null ? 'cleared' : 'set']).sort(),
        [0, 0, 1, 1].map((n, i) => ['morning_rush', `scaletest-${runId}-${n}`, i % 2 ? 'set' : 'cleared']),
      );
      assert.ok(
        readRunJournal(result.reportDir, runId)!.entries.every((entry) => entry.autostart === undefined),
        'no schedule left set',
      );
    } finally {
      await sim.close();
    }
  });
});
