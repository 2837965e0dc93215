// A capacity search run from VS Code against a simulated deployment with a known break point
// (the loadLatency fault: web-terminal echoes 800 ms late per live terminal beyond 2, so under
// `pty.rtt.p95 < 400ms` it holds 2 users): the dashboard's step chart gains points while the
// search goes, and ends with the verdict; screenshots of both.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ScaleTestExtensionApi } from '../../../src/extension';
import { startSimDeployment, type SimDeployment } from '../../../src/sim';
import type { RunPlanResult } from '../../../src/vscode/runs/feature';
import { leftovers } from '../../support/simRun';
import { BROWSER_TAG } from '../workbenchBridge';
import { screenshot, testOutputDir, waitFor, webviewText } from './workbench';

const EXTENSION_ID = 'coder-scaletest.coder-scaletest';

describe(`capacity search in VS Code ${BROWSER_TAG}`, function () {
  let api: ScaleTestExtensionApi;
  let sim: SimDeployment;
  let planPath: string;

  before(async function () {
    this.timeout(60_000);
    api = await vscode.extensions.getExtension<ScaleTestExtensionApi>(EXTENSION_ID)!.activate();
    sim = await startSimDeployment({
      port: 0,
      buildDurationMs: 300,
      agentConnectDelayMs: 100,
      faults: { loadLatency: { pty: { msPerConnection: 800, above: 2 } } },
    });
    const info = await vscode.commands.executeCommand('coderScaletest.connect', { url: sim.url, token: sim.ownerToken });
    assert.ok(info, `connect failed: ${api.lastError()}`);
    const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? fs.mkdtempSync(path.join(testOutputDir(), 'ws-'));
    planPath = path.join(workspaceDir, `search-${Date.now()}.scaletest.json`);
    const plan = {
      name: 'capacity search',
      search: { from: 1, to: 4, step: 'double', resolution: 1 },
      timeline: { slotSeconds: 1, pty: [0, 2] },
      traffic: { ssh: { enabled: false }, apps: { enabled: false }, dashboard: { enabled: false } },
      thresholds: [{ expression: 'pty.rtt.p95 < 400ms' }, { expression: 'pty.disconnects == 0' }],
    };
    fs.writeFileSync(planPath, JSON.stringify(plan, null, 2));
  });

  after(async function () {
    this.timeout(30_000);
    fs.rmSync(planPath, { force: true });
    await sim?.close();
  });

  it('fills the step chart in as the search goes, then shows the capacity found', async function () {
    this.timeout(180_000);
    const running = vscode.commands.executeCommand('coderScaletest.runPlan', vscode.Uri.file(planPath), {
      deploymentUrl: sim.url,
    }) as Thenable<RunPlanResult | undefined>;
    // Live: two steps decided (1 and 2 users passed) while the search goes on.
    let live: Awaited<ReturnType<typeof api.dashboard.probe>> | undefined;
    await waitFor(
      () => api.currentRun()?.search !== undefined,
      60_000,
      () => `the search did not start: ${api.lastError()}`,
    );
    await waitFor(
      () => {
        const steps = api.currentRun()?.search?.steps ?? [];
        return steps.filter((step) => step.verdict !== 'pending').length >= 2 || api.currentRun() === undefined;
      },
      120_000,
      () =>
        `the search did not decide two steps: ${JSON.stringify(api.currentRun()?.search?.steps.map((step) => [step.users, step.verdict]))}`,
    );
    if (api.currentRun()) {
      live = await api.dashboard.probe();
      await screenshot('search-live');
    }
    const result = await running;
    assert.ok(result, `the search failed to run: ${api.lastError()}`);
    assert.ok(live, 'the search ended before the dashboard could be read during it');
    // p95 and errors of each decided step; the finished chart adds the capacity line.
    assert.ok((live.charts.search ?? 0) >= 4, `live step chart: ${JSON.stringify(live.charts)}`);

    const finished = await api.dashboard.probe();
    // Steps 1 ✓, 2 ✓, 4 ✗, 3 ✗: 4 steps × (p95 + errors) + the 2 points of the capacity line.
    assert.strictEqual(finished.charts.search, 10, JSON.stringify(finished.charts));
    const status = await webviewText('#dashboard-root[data-rendered="true"] #search-status', 30_000);
    assert.match(status, /^holds 2 users; at 3 users `pty\.rtt\.p95` was \d+ ms \(limit < 400 ms\)/);
    const rows = await webviewText('#search-steps tbody', 10_000);
    assert.match(rows, /1\s*1\s*grow\s*pass.*2\s*2\s*grow\s*pass.*3\s*4\s*grow\s*fail.*4\s*3\s*bisect\s*fail/s);
    const shot = await screenshot('search-finished');
    assert.ok(fs.statSync(shot).size > 10_000, `screenshot ${shot} looks empty`);
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
  });
});
