// The extension end to end inside a real VS Code: commands in sync with the manifest, the
// simulated deployment, connecting, a small plan run from the side panel's command, the Runs
// tree, the Test Explorer results, the report files and the dashboard's charts (read back
// from the webview), with no session token ever posted to the webview.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ScaleTestExtensionApi } from '../../../src/extension';
import { startSimDeployment, type SimDeployment } from '../../../src/sim';
import { leftovers } from '../../support/simRun';
import { readReport } from '../../../src/engine/outputs/report/reportFile';
import { formatDuration, formatMs } from '../../../src/protocol/format';
import type { RunPlanResult } from '../../../src/vscode/runs/feature';
import { screenshot, testOutputDir, waitFor, webviewText } from './workbench';

const EXTENSION_ID = 'coder-scaletest.coder-scaletest';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('VS Code experience', function () {
  let api: ScaleTestExtensionApi;
  let sim: SimDeployment;
  let planPath: string;
  let workspaceDir: string;
  let run: RunPlanResult | undefined;
  const posted: string[] = [];

  before(async function () {
    this.timeout(60_000);
    const extension = vscode.extensions.getExtension<ScaleTestExtensionApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    api = await extension.activate();
    workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? fs.mkdtempSync(path.join(testOutputDir(), 'ws-'));
    // Results of this suite only, so the Runs view holds exactly what it ran.
    await vscode.workspace
      .getConfiguration('coderScaletest')
      .update('resultsFolder', path.join(testOutputDir(), 'scaletest-results'), vscode.ConfigurationTarget.Global);
    sim = await startSimDeployment({ port: 0, buildDurationMs: 300, agentConnectDelayMs: 100 });
  });

  after(async function () {
    this.timeout(30_000);
    await sim?.close();
  });

  it('registers every command of package.json, and package.json lists every command it registers', async () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string }[] } };
    const contributed = manifest.contributes.commands.map((command) => command.command).sort();
    // VS Code adds `coderScaletest.<view>.focus` and the like for our views: not ours to list.
    const registered = (await vscode.commands.getCommands(true)).filter((id) => /^coderScaletest\.[A-Za-z]+$/.test(id)).sort();
    assert.deepStrictEqual(registered, contributed);
    assert.deepStrictEqual([...api.commandIds].sort(), contributed);
  });

  it('starts and stops the simulated deployment from its commands', async function () {
    this.timeout(60_000);
    const started = (await vscode.commands.executeCommand('coderScaletest.startSimulatedDeployment')) as { url: string } | undefined;
    assert.ok(started, `start failed: ${api.lastError()}`);
    const entry = api.deployments().find((deployment) => deployment.url === started.url);
    assert.ok(entry?.simulated, 'the simulated deployment is not listed');
    const { host, sim: simPid } = api.processes();
    assert.strictEqual(host, process.pid);
    assert.ok(simPid && simPid !== host, `the simulated deployment runs in the extension host (pid ${simPid})`);
    assert.strictEqual(entry.state.state, 'connected');
    assert.ok(entry.state.state === 'connected' && entry.state.info.isOwner, 'not signed in as the owner');
    await vscode.commands.executeCommand('coderScaletest.stopSimulatedDeployment');
    assert.ok(!api.deployments().some((deployment) => deployment.url === started.url), 'the stopped deployment is still listed');
  });

  it('connects to a deployment through the connect command, and rejects a wrong token clearly', async function () {
    this.timeout(30_000);
    const bad = await vscode.commands.executeCommand('coderScaletest.connect', { url: sim.url, token: 'not-a-real-token-123' });
    assert.strictEqual(bad, undefined);
    assert.match(api.lastError() ?? '', /rejected the session token \(401/);
    assert.ok(!(api.lastError() ?? '').includes('not-a-real-token-123'), 'the error message shows the token');

    const info = (await vscode.commands.executeCommand('coderScaletest.connect', { url: `${sim.url}/`, token: sim.ownerToken })) as
      { isOwner: boolean; version: string } | undefined;
    assert.ok(info, `connect failed: ${api.lastError()}`);
    assert.strictEqual(info.isOwner, true);
    const entry = api.deployments().find((deployment) => deployment.url === sim.url);
    assert.strictEqual(entry?.state.state, 'connected');
  });

  it('creates and validates a small plan', async function () {
    this.timeout(30_000);
    planPath = path.join(workspaceDir, `ui-${Date.now()}.scaletest.json`);
    const created = (await vscode.commands.executeCommand('coderScaletest.newPlan', { path: planPath })) as vscode.Uri | undefined;
    assert.ok(created && fs.existsSync(planPath), `newPlan failed: ${api.lastError()}`);
    const plan = JSON.parse(fs.readFileSync(planPath, 'utf8'));
    plan.name = 'ui smoke';
    plan.users = 2;
    plan.timeline.slotSeconds = 1;
    plan.traffic.dashboard.intervalSeconds = 1;
    plan.traffic.dashboard.jitterSeconds = 0;
    plan.cleanup.strategy = 'always';
    fs.writeFileSync(planPath, JSON.stringify(plan, null, 2));
    const result = (await vscode.commands.executeCommand('coderScaletest.validatePlan', { path: planPath })) as {
      valid: boolean;
      problems: string[];
    };
    assert.deepStrictEqual(result, { valid: true, problems: [] });

    const broken = path.join(workspaceDir, 'broken.scaletest.json');
    fs.writeFileSync(broken, JSON.stringify({ users: 0 }));
    try {
      const invalid = (await vscode.commands.executeCommand('coderScaletest.validatePlan', { path: broken })) as {
        valid: boolean;
        problems: string[];
      };
      assert.strictEqual(invalid.valid, false);
      assert.ok(
        invalid.problems.some((problem) => problem.includes('users')),
        invalid.problems.join('\n'),
      );
      assert.ok(vscode.languages.getDiagnostics(vscode.Uri.file(broken)).length > 0, 'no diagnostics for the broken plan');
    } finally {
      fs.rmSync(broken, { force: true });
    }
  });

  it('runs the plan from the side panel command, with a live dashboard that charts every stage', async function () {
    this.timeout(240_000);
    api.dashboard.recordPosts(true);
    const running = vscode.commands.executeCommand('coderScaletest.runPlan', vscode.Uri.file(planPath), {
      deploymentUrl: sim.url,
    }) as Thenable<RunPlanResult | undefined>;
    // Live: wait until traffic has produced history points for a stage, then read the charts.
    const live = await until('live SSH history', 120_000, () => {
      const snapshot = api.currentRun();
      return snapshot && snapshot.history.some((point) => point.stages.ssh) ? snapshot : undefined;
    });
    assert.strictEqual(live.planName, 'ui smoke');
    const { host, runner } = api.processes();
    assert.ok(runner && runner !== host, `the run's engine runs in the extension host (runner pid ${runner}, host ${host})`);
    assert.ok(api.dashboard.isOpen(), 'the dashboard did not open for the run');
    const liveCharts = await until('live chart points', 30_000, async () => {
      const rendered = await api.dashboard.probe();
      return (rendered.charts['rtt:ssh'] ?? 0) > 0 ? rendered : undefined;
    });
    assert.strictEqual(liveCharts.title, 'ui smoke');
    await screenshot('dashboard-live');
    const liveTree = await api.runsTree();
    assert.match(liveTree[0]?.label ?? '', /^● ui smoke/);

    run = await running;
    assert.ok(run, `the run failed: ${api.lastError()}`);
    const lag = api.hostEventLoopLag();
    assert.ok(lag && lag.durationMs > 0, 'the extension host did not sample its event loop during the run');
    assert.ok(
      api.logLines().some((line) => line.includes(`Extension host event-loop delay during run ${run!.runId}: p50`)),
      'the host lag is not in the log',
    );
    posted.push(...api.dashboard.recordPosts(false));
    assert.ok(run.reportDir, 'no report folder');
    for (const file of ['report.html', 'report.json', 'junit.xml']) {
      assert.ok(fs.existsSync(path.join(run.reportDir, file)), `${file} is missing in ${run.reportDir}`);
    }

    // After the run: the finished run, with data points for each stage that carried traffic.
    const finished = await api.dashboard.probe();
    for (const stage of ['ssh', 'pty', 'apps']) {
      assert.ok((finished.charts[`rtt:${stage}`] ?? 0) > 0, `no round-trip points for ${stage}: ${JSON.stringify(finished.charts)}`);
      assert.ok(
        (finished.charts[`connections:${stage}`] ?? 0) > 0,
        `no connection points for ${stage}: ${JSON.stringify(finished.charts)}`,
      );
    }
    assert.ok(
      (finished.charts['connections:dashboard'] ?? 0) > 0,
      `no connection points for the dashboard stage: ${JSON.stringify(finished.charts)}`,
    );
    await webviewText('#dashboard-root[data-rendered="true"] #thresholds table', 30_000);
    const shot = await screenshot('dashboard-after-run');
    assert.ok(fs.statSync(shot).size > 10_000, `screenshot ${shot} looks empty`);
  });

  it('shows the finished run in the Runs view with stages, thresholds and report links', async function () {
    this.timeout(30_000);
    assert.ok(run);
    const tree = await until('the run in the Runs view', 15_000, async () =>
      (await api.runsTree()).find((root) => root.label.includes(run!.runId)),
    );
    assert.match(tree.label, /^ui smoke \(/);
    const labels = tree.children.map((child) => child.label);
    for (const expected of [
      'Prepare',
      'SSH',
      'Web terminal',
      'Workspace apps',
      'Dashboard',
      'Cleanup',
      'report.html',
      'report.json',
      'junit.xml',
    ]) {
      assert.ok(labels.includes(expected), `${expected} missing from ${labels.join(', ')}`);
    }
    const ssh = tree.children.find((child) => child.label === 'SSH')!;
    assert.match(ssh.description, /p95 \d/);
    assert.ok(['pass', 'error'].includes(ssh.icon), `SSH icon ${ssh.icon}`);
    const threshold = tree.children.find((child) => child.label === 'ssh.rtt.p95 < 300ms');
    assert.ok(threshold, 'the ssh.rtt.p95 threshold is missing');
    assert.match(threshold.description, /^observed \d/);
    await vscode.commands.executeCommand('workbench.view.extension.coderScaletest');
    await screenshot('side-panel');
  });

  it('reports the run in the Test Explorer with observed values', () => {
    assert.ok(run);
    const results = api.testResults();
    const planName = path.basename(planPath).replace(/\.scaletest\.json$/, '');
    const planResult = results[planName];
    assert.ok(planResult, `no result for ${planName}: ${Object.keys(results).join(', ')}`);
    assert.strictEqual(planResult.state, run.verdict === 'pass' ? 'passed' : 'failed');
    const ssh = results[`${planName}/SSH`];
    assert.ok(ssh && ['passed', 'failed'].includes(ssh.state), `SSH result ${JSON.stringify(ssh)}`);
    assert.ok((ssh.durationMs ?? 0) > 0, 'SSH has no duration');
    const threshold = results[`${planName}/ssh.rtt.p95 < 300ms`];
    assert.ok(threshold, 'no result for the ssh.rtt.p95 threshold');
    assert.match(threshold.message ?? '', /observed \d|failed: observed/);
  });

  it('runs the plan from the Test Explorer, where stages and thresholds are its children', async function () {
    this.timeout(180_000);
    const planName = path.basename(planPath).replace(/\.scaletest\.json$/, '');
    const before = api.testResults()[planName];
    await vscode.commands.executeCommand('testing.runAll');
    const after = await until('a new Test Explorer result for the plan', 150_000, () => {
      const result = api.testResults()[planName];
      return result && result !== before && !api.currentRun() ? result : undefined;
    });
    assert.ok(['passed', 'failed'].includes(after.state), `plan result ${JSON.stringify(after)}`);
    const item = api.testItems().find((candidate) => candidate.label === planName);
    assert.ok(item, `no Test Explorer item for ${planName}`);
    for (const child of [
      'Prepare',
      'SSH',
      'Web terminal',
      'Workspace apps',
      'Dashboard',
      'Cleanup',
      'ssh.rtt.p95 < 300ms',
      'api.errors_5xx == 0',
    ]) {
      assert.ok(item.children.includes(child), `${child} is not a child of ${planName}: ${item.children.join(', ')}`);
    }
    const tree = await api.runsTree();
    assert.ok(tree.filter((root) => root.label.startsWith('ui smoke')).length >= 2, 'the Test Explorer run is not in the Runs view');
  });

  it('opens, exports and compares past runs, and cleans up leftovers by run id', async function () {
    this.timeout(60_000);
    assert.ok(run?.reportDir);
    await vscode.commands.executeCommand('coderScaletest.openRunInDashboard', { runDir: run.reportDir });
    const fromReport = await api.dashboard.probe();
    assert.strictEqual(fromReport.title, 'ui smoke');
    assert.ok((fromReport.charts['rtt:ssh'] ?? 0) > 0, 'the past run has no SSH points');

    const target = path.join(testOutputDir(), `${run.runId}-export.json`);
    const exported = await vscode.commands.executeCommand('coderScaletest.exportReport', { runDir: run.reportDir, target });
    assert.strictEqual(exported, target);
    assert.strictEqual(JSON.parse(fs.readFileSync(target, 'utf8')).runId, run.runId);

    // Two different runs of the plan: this one and the Test Explorer's, each figure in its column.
    const older = readReport(run.reportDir).snapshot;
    const resultsDir = path.dirname(run.reportDir);
    const newer = fs
      .readdirSync(resultsDir)
      .map((name) => path.join(resultsDir, name))
      .filter((dir) => dir !== run!.reportDir && fs.existsSync(path.join(dir, 'report.json')))
      .map((dir) => ({ dir, snapshot: readReport(dir).snapshot }))
      .filter(({ snapshot }) => snapshot.planName === 'ui smoke' && snapshot.startedAt > older.startedAt)
      .sort((a, b) => b.snapshot.startedAt - a.snapshot.startedAt)[0];
    assert.ok(newer, `no later run of the plan in ${resultsDir} to compare with`);
    await vscode.commands.executeCommand('coderScaletest.compareRuns', { left: newer.dir, right: run.reportDir });
    const compared = await api.dashboard.probe();
    assert.strictEqual(compared.title, `${older.runId} vs ${newer.snapshot.runId}`);
    const sshOf = (snapshot: typeof older) => snapshot.stages.find((stage) => stage.name === 'ssh')!;
    const figures = [
      ...(['p50', 'p95'] as const).map((q) => ({
        label: `${sshOf(older).title} ${q}`,
        of: (snapshot: typeof older) => formatMs(sshOf(snapshot).latency[q]),
      })),
      { label: 'Duration', of: (snapshot: typeof older) => formatDuration(snapshot.now - snapshot.startedAt) },
    ];
    for (const { label, of } of figures) {
      const cell = (column: number) => webviewText(`#compare-view tbody tr:has(th:text-is("${label}")) td:nth-of-type(${column})`, 15_000);
      assert.deepStrictEqual([await cell(1), await cell(2)], [of(older), of(newer.snapshot)], `the compare view's ${label}`);
    }
    await screenshot('dashboard-compare');

    // Runs view action "Mark as Baseline": the run gets the badge; a baseline run has nothing to compare with but itself.
    const marked = (await vscode.commands.executeCommand('coderScaletest.markBaseline', { runDir: run.reportDir })) as string | undefined;
    assert.match(marked ?? `failed: ${api.lastError()}`, new RegExp(`^Run ${run.runId} is now the baseline of "ui smoke"`));
    const badged = (await api.runsTree()).find((root) => root.label.includes(run!.runId));
    assert.match(badged?.description ?? '', /^★ baseline · /);
    assert.ok(fs.existsSync(path.join(api.resultsFolder(), 'baselines', 'ui-smoke.json')));

    const summary = (await vscode.commands.executeCommand('coderScaletest.cleanupRun', { runId: run.runId, deploymentUrl: sim.url })) as
      string | undefined;
    assert.ok(summary, `cleanup failed: ${api.lastError()}`);
    assert.match(summary, /deleted 0 of 0 workspace\(s\) and 0 of 0 user\(s\)/);
  });

  it('stops a running plan from the stop command; the run ends aborted', async function () {
    this.timeout(120_000);
    const running = vscode.commands.executeCommand('coderScaletest.runPlan', vscode.Uri.file(planPath), {
      deploymentUrl: sim.url,
    }) as Thenable<RunPlanResult | undefined>;
    await until('the second run to start traffic', 60_000, () => (api.currentRun()?.status === 'running' ? true : undefined));
    assert.strictEqual(await vscode.commands.executeCommand('coderScaletest.stopRun'), true);
    const stopped = await running;
    assert.ok(stopped, `the stopped run reported nothing: ${api.lastError()}`);
    assert.strictEqual(stopped.status, 'aborted');
    assert.strictEqual(api.currentRun(), undefined, 'the run is still current after it ended');
    assert.strictEqual(await vscode.commands.executeCommand('coderScaletest.stopRun'), false);
    // The runner's abort path cleaned up (strategy "always") before it reported the end.
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
  });

  it('reports a runner that dies with its exit reason, and cleans up its leftovers from the Runs view', async function () {
    this.timeout(120_000);
    const running = vscode.commands.executeCommand('coderScaletest.runPlan', vscode.Uri.file(planPath), {
      deploymentUrl: sim.url,
    }) as Thenable<RunPlanResult | undefined>;
    const live = await until('the third run to start traffic', 60_000, () =>
      api.currentRun()?.status === 'running' ? api.currentRun() : undefined,
    );
    const { runner } = api.processes();
    assert.ok(runner && runner !== process.pid);
    process.kill(runner, 'SIGKILL');
    assert.strictEqual(await running, undefined, 'a run whose runner was killed reported a result');
    assert.match(api.lastError() ?? '', /process was killed by SIGKILL before it finished/);
    assert.ok(!(api.lastError() ?? '').includes(sim.ownerToken), 'the exit reason shows the token');
    assert.ok((await leftovers(sim)).users.length > 0, 'the killed run left nothing behind (nothing to test)');
    const node = await until('the interrupted run in the Runs view', 15_000, async () =>
      (await api.runsTree()).find((root) => root.label.includes(live.runId)),
    );
    assert.match(node.description, /runner died/);
    const summary = (await vscode.commands.executeCommand('coderScaletest.cleanupRun', { runId: live.runId, deploymentUrl: sim.url })) as
      string | undefined;
    assert.ok(summary, `cleanup failed: ${api.lastError()}`);
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    assert.ok(!(await api.runsTree()).some((root) => root.label.includes(live.runId)), 'the cleaned-up run is still listed as interrupted');
  });

  it('never posts the session token to the webview, nor writes it to the log', () => {
    assert.ok(posted.length > 3, `only ${posted.length} messages were recorded`);
    assert.ok(posted.some((message) => message.includes('"type":"snapshot"')));
    for (const message of posted) assert.ok(!message.includes(sim.ownerToken), 'a message to the webview contains the session token');
    const log = api.logLines();
    assert.ok(
      log.some((line) => line.includes(`Run ${run!.runId}`)),
      'the log has no events of the run',
    );
    assert.ok(
      log.some((line) => /\[(ssh|pty|apps|prepare)\]/.test(line)),
      'the log has no stage events',
    );
    for (const line of log) assert.ok(!line.includes(sim.ownerToken), `a log line contains the session token: ${line.slice(0, 80)}`);
  });

  it('keeps the dashboard tab a webview after a theme change', async function () {
    this.timeout(30_000);
    const config = vscode.workspace.getConfiguration('workbench');
    const before = config.get<string>('colorTheme');
    await config.update(
      'colorTheme',
      before === 'Default Light Modern' ? 'Default Dark Modern' : 'Default Light Modern',
      vscode.ConfigurationTarget.Global,
    );
    try {
      await vscode.commands.executeCommand('coderScaletest.showDashboard');
      await waitFor(
        () => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputWebview,
        10_000,
        () => 'the dashboard tab is not active',
      );
      const rendered = await api.dashboard.probe();
      assert.ok(rendered.title.length > 0);
      await screenshot('dashboard-other-theme');
    } finally {
      await config.update('colorTheme', before, vscode.ConfigurationTarget.Global);
    }
  });
});
