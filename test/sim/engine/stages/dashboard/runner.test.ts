// The dashboard stage against the simulated dashboard (a single-page app) in a real Chromium:
// like the reference runner it loads the app once, then clicks inside it and times each click
// until the target page's own element is there.
import * as assert from 'assert';
import {
  launchDashboardBrowser,
  runDashboardStage,
  targetsForPages,
  DASHBOARD_TARGETS,
  nextTick,
} from '../../../../../src/engine/stages/dashboard/runner';
import { StageMetrics } from '../../../../../src/engine/metrics/stageMetrics';
import { PlanError, validatePlan } from '../../../../../src/engine/plan/plan';
import type { PreparedUser } from '../../../../../src/engine/prepare/prepare';
import { memberClient, startFixture, uniqueName, type Fixture } from '../../../../support/simFixture';

describe('dashboard stage (issue 12 item 7)', function () {
  this.timeout(60_000);
  let fx: Fixture;
  before(async () => (fx = await startFixture()));
  after(async () => fx.close());

  it('picks the targets for the plan’s pages; a page with nothing to click for a member is refused', () => {
    assert.deepStrictEqual(
      targetsForPages(['/workspaces', '/@{owner}/{workspace}']).map((t) => t.label),
      ['workspace_list', 'workspace_details'],
    );
    assert.strictEqual(targetsForPages(['/workspaces', '/templates', '/@{owner}/{workspace}']).length, DASHBOARD_TARGETS.length);
    assert.deepStrictEqual(targetsForPages(['/users']), []);
    assert.throws(
      () => validatePlan({ users: 1, traffic: { dashboard: { pages: ['/workspaces', '/users'] } } }),
      (error: unknown) =>
        error instanceof PlanError && /pages\[1\]: "\/users" has nothing to click: .*\/deployment\/users/.test(error.message),
    );
    // Today's site: no `active` class on nav links, no builds table, no users link for members.
    for (const target of DASHBOARD_TARGETS) {
      assert.ok(!/\.active\b/.test(target.clickOn), target.label);
      assert.ok(!/build-|user-/.test(target.clickOn + target.waitFor), target.label);
    }
  });

  it('ticks like scaletest/dashboard/run.go: the next action at tick + interval ± jitter, also its deadline', () => {
    const ticks = [0, 0.5, 0.999999].map((r) => nextTick(1000, 10, 5, () => r));
    assert.deepStrictEqual(
      ticks.map((t) => Math.round(t)),
      [6000, 11000, 16000],
    );
    assert.strictEqual(
      nextTick(1000, 10, 0, () => 0.9),
      11000,
    );
  });

  async function preparedUser(): Promise<PreparedUser> {
    const { client, userId, username } = await memberClient(fx);
    const created = await client.createWorkspace(fx.sim.organizationId, 'me', { name: uniqueName('ws'), template_id: fx.sim.templateId });
    const ready = await client.waitForAgents(created.id, { pollMs: 20 });
    const agent = ready.latest_build.resources![0]!.agents![0]!;
    return {
      index: 0,
      userId,
      username,
      token: client.connection.token!,
      client,
      workspaceId: created.id,
      workspaceName: created.name,
      agentId: agent.id,
      agentName: agent.name,
      agentApps: agent.apps ?? [],
    };
  }

  async function browse(user: PreparedUser, dashboard: Record<string, unknown>, seconds: number) {
    const plan = validatePlan({ users: 1, traffic: { dashboard } });
    const logs: string[] = [];
    const log = (_level: string, message: string) => logs.push(message);
    const browser = await launchDashboardBrowser({ baseUrl: fx.sim.url, users: [user], maxBrowsers: 1, log });
    try {
      const page = browser.users[0]!.page;
      let documentLoads = 0;
      page.on('request', (request) => {
        if (request.resourceType() === 'document') documentLoads++;
      });
      const metrics = new StageMetrics('dashboard', 'Dashboard');
      let seed = 1;
      const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
      await runDashboardStage({
        plan,
        browser,
        metrics,
        endAt: Date.now() + seconds * 1000,
        signal: new AbortController().signal,
        random,
        log,
      });
      return { metrics, logs, documentLoads };
    } finally {
      await browser.close();
    }
  }

  it('navigates inside today’s dashboard (one page load per user) and times click-to-element', async () => {
    // 1.5 s between actions: finding the targets and clicking share that deadline, and a busy
    // 2-core machine (Chromium, the simulator and the runner) must still make it.
    const { metrics, logs, documentLoads } = await browse(await preparedUser(), { intervalSeconds: 1.5, jitterSeconds: 0 }, 8);
    assert.ok(metrics.completed >= 4, `${metrics.completed} clicks completed; ${logs.join('; ')}`);
    assert.strictEqual(metrics.errorTotal(), 0, logs.join('; '));
    assert.strictEqual(metrics.completed, metrics.sent);
    assert.strictEqual(documentLoads, 0, 'no page loads after the first: every action navigated inside the app');
    assert.ok(metrics.bytesReceived > 0, 'API responses counted');
  });

  it('an action not done by the next tick is an error, its duration recorded (the reference’s deadline)', async () => {
    const user = await preparedUser();
    // Every workspace read takes 1.5 s: the workspace list and page miss a 0.6-s deadline.
    fx.sim.setFaults({ latency: { workspaces: { ms: 1500 } } });
    try {
      const { metrics, logs } = await browse(
        user,
        { intervalSeconds: 0.6, jitterSeconds: 0, pages: ['/workspaces', '/@{owner}/{workspace}'] },
        5,
      );
      assert.ok((metrics.errors.deadline ?? 0) >= 2, `${JSON.stringify(metrics.errors)}; ${logs.join('; ')}`);
      assert.match(logs.join('\n'), /not done by its deadline \(\d+ ms/);
      const summary = metrics.latency.summary();
      assert.ok(summary.count >= metrics.errors.deadline!, 'failed actions are timed too');
      assert.ok(summary.max < 1500, `no action ran past its deadline: max ${summary.max} ms`);
    } finally {
      fx.sim.setFaults({});
    }
  });
});
