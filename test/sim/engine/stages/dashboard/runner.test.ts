// The dashboard stage against the simulated dashboard (a single-page app) in a real Chromium:
// like the reference runner it loads the app once, then clicks inside it and times each click
// until the target page's own element is there.
import * as assert from 'assert';
import {
  launchDashboardBrowser,
  runDashboardStage,
  targetsForPages,
  DASHBOARD_TARGETS,
} from '../../../../../src/engine/stages/dashboard/runner';
import { StageMetrics } from '../../../../../src/engine/metrics/stageMetrics';
import { validatePlan } from '../../../../../src/engine/plan/plan';
import type { PreparedUser } from '../../../../../src/engine/prepare/prepare';
import { memberClient, startFixture, uniqueName, type Fixture } from '../../../../support/simFixture';

describe('dashboard stage (issue 12 item 7)', function () {
  this.timeout(60_000);
  let fx: Fixture;
  before(async () => (fx = await startFixture()));
  after(async () => fx.close());

  it('picks the reference runner’s targets for the plan’s pages', () => {
    assert.deepStrictEqual(
      targetsForPages(['/users']).map((t) => t.label),
      ['user_list'],
    );
    assert.deepStrictEqual(
      targetsForPages(['/workspaces', '/@{owner}/{workspace}']).map((t) => t.label),
      ['workspace_list', 'workspace_details', 'workspace_build_details'],
    );
    assert.strictEqual(targetsForPages(['/workspaces', '/templates', '/users', '/@{owner}/{workspace}']).length, DASHBOARD_TARGETS.length);
  });

  it('navigates inside the app (one page load per user) and times click-to-element', async () => {
    const { client, userId, username } = await memberClient(fx);
    const created = await client.createWorkspace(fx.sim.organizationId, 'me', { name: uniqueName('ws'), template_id: fx.sim.templateId });
    const ready = await client.waitForAgents(created.id, { pollMs: 20 });
    const agent = ready.latest_build.resources![0]!.agents![0]!;
    const user: PreparedUser = {
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
    const plan = validatePlan({ users: 1, traffic: { dashboard: { intervalSeconds: 0.2, jitterSeconds: 0 } } });
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
      await runDashboardStage({ plan, browser, metrics, endAt: Date.now() + 4000, signal: new AbortController().signal, random, log });
      assert.ok(metrics.completed >= 5, `${metrics.completed} clicks completed; ${logs.join('; ')}`);
      assert.strictEqual(metrics.errorTotal(), 0, logs.join('; '));
      assert.strictEqual(metrics.completed, metrics.sent);
      assert.strictEqual(documentLoads, 0, 'no page loads after the first: every action navigated inside the app');
      assert.ok(metrics.bytesReceived > 0, 'API responses counted');
    } finally {
      await browser.close();
    }
  });
});
