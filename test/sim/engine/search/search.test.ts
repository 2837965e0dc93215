// Capacity search (plan.search) against the simulated deployment with the load-growing latency
// fault: web-terminal echoes are held back 800 ms per live terminal above 5, so with a 400 ms
// limit the deployment holds exactly 5 users (the margins are wide: a busy 2-core machine adds
// its own latency, which must not move the break point).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { readReport } from '../../../../src/engine/outputs/report/report';
import { startRun, type RunEvent } from '../../../../src/engine/run/run';
import type { Plan } from '../../../../src/engine/plan/plan';
import type { RunSnapshot } from '../../../../src/protocol/snapshot';
import { leftovers, smallPlan, useSimAndOutDir, withReportPage } from '../../../support/simRun';

const BREAK_ABOVE = 5;

describe('capacity search against the simulated deployment', function () {
  this.timeout(120_000);
  const env = useSimAndOutDir();

  function searchPlan(search: Plan['search']): Plan {
    const plan = smallPlan(env.sim, { only: ['pty'] });
    plan.timeline.pty = [0, 1.5];
    plan.search = search;
    plan.users = search!.to;
    plan.thresholds = [
      { expression: 'pty.rtt.p95 < 400ms', abortOnFail: false, abortAfterSeconds: 0 },
      { expression: 'pty.disconnects == 0', abortOnFail: false, abortAfterSeconds: 0 },
      { expression: 'prepare.failures == 0', abortOnFail: false, abortAfterSeconds: 0 },
    ];
    env.sim.setFaults({ loadLatency: { pty: { msPerConnection: 800, above: BREAK_ABOVE } } });
    return plan;
  }

  const connection = () => ({ url: env.sim.url, token: env.sim.ownerToken });

  it('finds the break point within its resolution, growing the pool only as far as needed', async () => {
    const snapshots: RunSnapshot[] = [];
    const events: RunEvent[] = [];
    const handle = startRun({
      plan: searchPlan({ from: 1, to: 16, step: 'double', resolution: 1, minimum: 4 }),
      connection: connection(),
      outDir: env.out,
      log: (e) => events.push(e),
    });
    handle.subscribe((snapshot) => snapshots.push(snapshot));
    const result = await handle.done;
    const search = result.snapshot.search!;
    const log = events.map((e) => e.message).join('\n');
    assert.deepStrictEqual(
      search.steps.map((step) => [step.users, step.phase, step.verdict]),
      [
        [1, 'grow', 'pass'],
        [2, 'grow', 'pass'],
        [4, 'grow', 'pass'],
        [8, 'grow', 'fail'],
        [6, 'bisect', 'fail'],
        [5, 'bisect', 'pass'],
      ],
      log,
    );
    assert.strictEqual(search.capacity, BREAK_ABOVE);
    assert.strictEqual(search.phase, 'done');
    assert.strictEqual(search.metMinimum, true);
    assert.match(search.verdict!, /^holds 5 users; at 6 users `pty\.rtt\.p95` was \d+ ms \(limit < 400 ms\)$/);
    assert.strictEqual(result.verdict, 'pass');
    assert.strictEqual(result.exitCode, 0);
    assert.strictEqual(result.snapshot.reason, search.verdict);
    // The run's own stage and threshold figures are those of the capacity found (5 users), all passing.
    assert.strictEqual(result.snapshot.stages.find((stage) => stage.name === 'pty')!.connections.target, 5);
    assert.deepStrictEqual(
      result.snapshot.thresholds.map((t) => t.verdict),
      ['pass', 'pass', 'pass'],
    );
    // Every step keeps its figures: a failing step's p95 carries the injected delay.
    const six = search.steps.find((step) => step.users === 6)!;
    assert.ok(six.stages[0].p95 >= 800, `p95 at 6 users: ${six.stages[0].p95}`);
    assert.deepStrictEqual(
      six.failed.map((f) => f.expression),
      ['pty.rtt.p95 < 400ms'],
    );
    assert.ok(search.steps.every((step) => step.stages.length === 1 && step.stages[0].name === 'pty' && step.stages[0].count > 0));
    // The pool grew to the largest step (8), never to `to` (16); all of it is cleaned up.
    assert.deepStrictEqual(result.cleanup, { deletedWorkspaces: 8, deletedUsers: 8, leftovers: [] });
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
    // The live view saw the steps fill in, one by one.
    const seen = snapshots.map((snapshot) => snapshot.search?.steps.length ?? 0);
    assert.ok(seen.some((count) => count === 3) && seen.some((count) => count === 5), `steps seen live: ${[...new Set(seen)].join(',')}`);
    // Reports: every step in report.json, a table and chart of steps in report.html.
    const report = readReport(result.reportDir);
    assert.deepStrictEqual(
      report.search?.steps.map((step) => step.users),
      [1, 2, 4, 8, 6, 5],
    );
    const html = fs.readFileSync(path.join(result.reportDir, 'report.html'), 'utf8');
    assert.match(html, /<h2>Capacity search<\/h2>/);
    assert.strictEqual((html.match(/<tr class="search-step/g) ?? []).length, 6);
    assert.match(html, /id="search-charts"/);
    // The step chart draws offline from the report's own snapshot: one p95 point per step, plus errors and the capacity line.
    const drawn = await withReportPage(result.reportDir, (page) =>
      page.evaluate(() => {
        const canvas = document.querySelector('#search-charts figure[data-chart="search"] canvas') as HTMLCanvasElement | null;
        const chart =
          canvas &&
          (
            window as unknown as {
              Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { label: string; data: unknown[] }[] } } | undefined };
            }
          ).Chart.getChart(canvas);
        return chart?.data.datasets.map((dataset) => [dataset.label, dataset.data.length]);
      }),
    );
    assert.deepStrictEqual(drawn, [
      ['Web terminal p95', 6],
      ['errors', 6],
      ['holds 5', 2],
    ]);
  });

  it("fails (exit 1) when the capacity found is below the plan's minimum", async () => {
    const plan = searchPlan({ from: 4, to: 7, step: 1, resolution: 1, minimum: 7 });
    const result = await startRun({ plan, connection: connection(), outDir: env.out }).done;
    const search = result.snapshot.search!;
    assert.deepStrictEqual(
      search.steps.map((step) => [step.users, step.verdict]),
      [
        [4, 'pass'],
        [5, 'pass'],
        [6, 'fail'],
      ],
    );
    assert.strictEqual(search.capacity, 5);
    assert.strictEqual(search.metMinimum, false);
    assert.match(search.verdict!, /^holds 5 users; at 6 users .*; the plan asks for at least 7 users$/);
    assert.strictEqual(result.verdict, 'fail');
    assert.strictEqual(result.exitCode, 1);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });

  it('an aborted search reports the last count that passed and leaves nothing behind', async () => {
    const handle = startRun({
      plan: searchPlan({ from: 1, to: 16, step: 'double', resolution: 1 }),
      connection: connection(),
      outDir: env.out,
    });
    handle.subscribe((snapshot) => {
      const steps = snapshot.search?.steps ?? [];
      if (steps.length === 3 && steps[2].state === 'running') handle.abort('stopped by the test');
    });
    const result = await handle.done;
    const search = result.snapshot.search!;
    assert.strictEqual(result.exitCode, 130);
    assert.strictEqual(search.phase, 'aborted');
    assert.deepStrictEqual(
      search.steps.map((step) => [step.users, step.state, step.verdict]),
      [
        [1, 'done', 'pass'],
        [2, 'done', 'pass'],
        [4, 'aborted', 'pending'],
      ],
    );
    assert.strictEqual(search.lastPass, 2);
    assert.strictEqual(
      result.snapshot.stages.find((stage) => stage.name === 'pty')!.connections.target,
      2,
      'the figures of the last step that passed',
    );
    assert.match(
      result.snapshot.reason!,
      /^stopped by the test; search stopped early: holds at least 2 users \(the last step that passed\)$/,
    );
    assert.deepStrictEqual(result.cleanup.leftovers, []);
    assert.strictEqual(result.cleanup.deletedUsers, 4);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
    assert.strictEqual(readReport(result.reportDir).search?.lastPass, 2);
  });
});
