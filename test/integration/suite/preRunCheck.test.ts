// *Check Deployment* and *Push Scale-Test Template* in a real workbench, against simulated
// deployments: the check's Markdown preview with every line's verdict and the advice of the
// failed ones (a plan naming a template without the echo app, with a required parameter the
// plan gives no value); then, on a deployment without any template, the notification that
// offers the push, the push chosen from it and its quick pick (clicked in the browser), the
// template on the deployment afterwards, a second push that changes nothing, and a second
// check that finds the pushed template.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ScaleTestExtensionApi } from '../../../src/extension';
import type { CheckReport } from '../../../src/engine/check/check';
import type { CheckLineId } from '../../../src/engine/check/lines';
import { CoderClient } from '../../../src/coder/client';
import { pushTemplate } from '../../../src/engine/templates/push';
import { startSimDeployment, type SimDeployment } from '../../../src/sim';
import { CHECK_MARKS } from '../../../src/vscode/check/markdown';
import { BROWSER_TAG } from '../workbenchBridge';
import { click, elementText, screenshot, testOutputDir, webviewText, webviewTextMatching } from './workbench';

const EXTENSION_ID = 'coder-scaletest.coder-scaletest';
const SIM_TIMINGS = { buildDurationMs: 300, agentConnectDelayMs: 100, provisionerAcquireDelayMs: 10 };

/**
 * The text of a notification holding `text`, read where the user finds it in any case: in the
 * notification centre (the bell). Whether it also pops up as a toast is VS Code's call (toasts
 * did not show while the check's preview took the focus, in 1.139 for every severity).
 */
async function notificationText(text: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Opening an editor (the check's preview) may close the centre: open it again until found.
    await vscode.commands.executeCommand('notifications.showList');
    try {
      return await elementText({ ...notification(text), timeoutMs: 2_000 });
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
const notification = (text: string) => ({
  target: 'workbench' as const,
  selector: '.notifications-center .notification-list-item',
  hasText: text,
});
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
const lineOf = (report: CheckReport, id: CheckLineId) => report.lines.find((line) => line.id === id)!;

/** A plan file in the workspace for `deployment`; removed by the caller. */
function writePlan(name: string, deployment: Record<string, unknown>): string {
  const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? fs.mkdtempSync(path.join(testOutputDir(), 'ws-'));
  const planPath = path.join(workspaceDir, `${name.replace(/\W+/g, '-')}-${Date.now()}.scaletest.json`);
  fs.writeFileSync(planPath, JSON.stringify({ name, users: 2, deployment }, null, 2));
  return planPath;
}

async function connect(api: ScaleTestExtensionApi, sim: SimDeployment): Promise<void> {
  const info = await vscode.commands.executeCommand('coderScaletest.connect', { url: sim.url, token: sim.ownerToken });
  assert.ok(info, `connect failed: ${api.lastError()}`);
}

/** Undoes what a suite's set-up did: its editors, notifications, connection, plan and simulator. */
async function disconnect(sim: SimDeployment | undefined, planPath: string | undefined): Promise<void> {
  if (planPath) fs.rmSync(planPath, { force: true });
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.commands.executeCommand('notifications.clearAll');
  // Later suites pick "the one connected deployment" when a plan names none.
  if (sim) await vscode.commands.executeCommand('coderScaletest.logout', { url: sim.url });
  await sim?.close();
}

/** Runs *Check Deployment* on the plan; settles once the user has answered any offer it makes. */
const checkDeployment = (planPath: string) =>
  vscode.commands.executeCommand('coderScaletest.checkDeployment', { path: planPath }) as Thenable<CheckReport | undefined>;

describe(`Check Deployment ${BROWSER_TAG}`, function () {
  let api: ScaleTestExtensionApi;
  let sim: SimDeployment;
  let planPath: string;

  before(async function () {
    this.timeout(60_000);
    api = await vscode.extensions.getExtension<ScaleTestExtensionApi>(EXTENSION_ID)!.activate();
    sim = await startSimDeployment({ port: 0, template: false, ...SIM_TIMINGS });
    // A template of the deployment's own that the methodology cannot use: its agent serves
    // another app than the echo app, and a parameter without default needs a value. Pushed
    // through coderd's API as any template is.
    const directory = fs.mkdtempSync(path.join(testOutputDir(), 'no-echo-template-'));
    fs.writeFileSync(
      path.join(directory, 'main.tf'),
      [
        'resource "coder_agent" "main" {',
        '  os   = "linux"',
        '  arch = "amd64"',
        '}',
        'resource "coder_app" "code" {',
        '  agent_id = coder_agent.main.id',
        '  slug     = "code"',
        '  url      = "http://127.0.0.1:13337"',
        '}',
        'data "coder_parameter" "region" {',
        '  name = "region"',
        '  type = "string"',
        '}',
        '',
      ].join('\n'),
    );
    const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
    try {
      await pushTemplate({ owner, kind: 'docker', name: 'no-echo', directory, pollMs: 20, log: () => undefined });
    } finally {
      owner.close();
    }
    await connect(api, sim);
    planPath = writePlan('check lines', { url: sim.url, template: 'no-echo' });
    // Alone in the editor area, so the webview on screen is the check's preview.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async function () {
    this.timeout(30_000);
    await disconnect(sim, planPath);
  });

  it('shows every line with its verdict, and the advice of the echo app and parameter lines that fail', async function () {
    this.timeout(60_000);
    const checking = checkDeployment(planPath);
    // A failed echo app offers the push; the offer waits for an answer, and the user closes it.
    await notificationText(`${sim.url} has no template with what the scale test needs`);
    await vscode.commands.executeCommand('notifications.clearAll');
    const report = await checking;
    assert.ok(report, `the check failed: ${api.lastError()}`);
    assert.strictEqual(report.passed, false);
    const status = (id: CheckLineId) => lineOf(report, id).status;
    assert.deepStrictEqual(
      [status('template'), status('agent'), status('echo-app'), status('parameters'), status('reachable'), status('owner')],
      ['pass', 'pass', 'fail', 'fail', 'pass', 'pass'],
    );
    assert.ok(
      report.lines.some((line) => line.status === 'warn'),
      'no line warns (nothing to show a warning with)',
    );

    // What the user sees: one row per line, in the report's order, with its mark, title and finding.
    assert.strictEqual(await webviewText('h1', 30_000), 'Pre-run check: check lines');
    const rows = squash(await webviewText('table tbody', 10_000));
    assert.strictEqual(rows, squash(report.lines.map((line) => `${CHECK_MARKS[line.status]} ${line.title} ${line.detail}`).join(' ')));
    assert.match(rows, /❌ fail Echo app agent main has no app "wsec" \(apps: code\)/);
    assert.match(rows, /❌ fail Template parameters .*"region"/);
    assert.match(rows, /⚠️ warn /);
    // And what to do about each line that is not a pass.
    const page = squash(await webviewText('body', 10_000));
    for (const id of ['echo-app', 'parameters'] as const) {
      const line = lineOf(report, id);
      assert.ok(line.advice, `the ${id} line has no advice`);
      assert.ok(page.includes(squash(`${line.title} (fail): ${line.advice}`)), `the preview lacks the advice for ${id}: ${page}`);
    }
    assert.match(page, /give every required parameter a value in deployment\.parameters/);
    await screenshot('check-lines');
  });
});

describe(`Push Scale-Test Template ${BROWSER_TAG}`, function () {
  let api: ScaleTestExtensionApi;
  let sim: SimDeployment;
  let planPath: string;

  const templates = async () =>
    (await (
      await fetch(`${sim.url}/api/v2/organizations/${sim.organizationId}/templates`, { headers: { 'Coder-Session-Token': sim.ownerToken } })
    ).json()) as Array<{ id: string; name: string; active_version_id: string }>;

  before(async function () {
    this.timeout(60_000);
    api = await vscode.extensions.getExtension<ScaleTestExtensionApi>(EXTENSION_ID)!.activate();
    sim = await startSimDeployment({ port: 0, template: false, ...SIM_TIMINGS });
    await connect(api, sim);
    planPath = writePlan('pre-run check', { url: sim.url });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async function () {
    this.timeout(30_000);
    await disconnect(sim, planPath);
  });

  it('offers the push where the check finds no template; the docker template is then on the deployment', async function () {
    this.timeout(120_000);
    const checking = checkDeployment(planPath);
    // The offer waits for the user's answer, so the check's command is still running meanwhile.
    await notificationText(`${sim.url} has no template with what the scale test needs`);
    assert.match(await webviewTextMatching('table tbody', /Template/), /❌ fail\s*Template\s*organization coder has no templates/);
    assert.match(await webviewText('body', 10_000), /Push Scale-Test Template/);
    await screenshot('check-offers-push');

    // The user takes the offer and picks the Docker template.
    await click({
      target: 'workbench',
      selector: `.notifications-center .notification-list-item:has-text("${sim.url}") .monaco-button`,
      hasText: 'Push Scale-Test Template',
    });
    await click({ target: 'workbench', selector: '.quick-input-list .monaco-list-row', hasText: 'docker' });
    const report = await checking;
    assert.ok(report, `the check failed: ${api.lastError()}`);
    assert.strictEqual(report.offerTemplatePush, true);
    assert.strictEqual(lineOf(report, 'template').status, 'fail');
    // Read-only: no unsaved document left behind to ask "save?" when it is closed.
    assert.deepStrictEqual(
      vscode.workspace.textDocuments.filter((document) => document.isDirty).map((document) => document.uri.toString()),
      [],
    );

    const pushed = await notificationText('Template scaletest-docker');
    assert.match(pushed, /Template scaletest-docker created on .*Set deployment\.template to "scaletest-docker"/);
    assert.ok(
      api.logLines().some((line) => line.includes('[template]')),
      'the import job has no lines in the log',
    );
    assert.deepStrictEqual(
      (await templates()).map((template) => template.name),
      ['scaletest-docker'],
    );
    await screenshot('template-pushed');
  });

  it('pushes the same template again without a new version', async function () {
    this.timeout(60_000);
    await vscode.commands.executeCommand('notifications.clearAll');
    const [before] = await templates();
    assert.ok(before, 'no template to push again');
    const summary = (await vscode.commands.executeCommand('coderScaletest.pushTemplate', { url: sim.url, kind: 'docker' })) as
      string | undefined;
    assert.ok(summary, `the second push failed: ${api.lastError()}`);
    assert.match(summary, /^Template scaletest-docker already up to date on /);
    assert.ok((await notificationText('already up to date')).includes('scaletest-docker'));
    const after = await templates();
    assert.deepStrictEqual(
      after.map(({ id, active_version_id }) => ({ id, active_version_id })),
      [{ id: before.id, active_version_id: before.active_version_id }],
    );
    // No new version was made: the import log says so, and shows no version created by this push.
    const log = api.logLines();
    const pushLog = log.slice(log.map((line) => line.includes('[template] uploading')).lastIndexOf(true));
    assert.ok(
      pushLog.some((line) => /\[template\] template scaletest-docker is up to date/.test(line)),
      pushLog.join('\n'),
    );
    assert.ok(!pushLog.some((line) => /\[template\] template version .* created/.test(line)), pushLog.join('\n'));
  });

  it('checks again and finds the pushed template, with its agent and echo app', async function () {
    this.timeout(60_000);
    await vscode.commands.executeCommand('notifications.clearAll');
    const report = await checkDeployment(planPath);
    assert.ok(report, `the check failed: ${api.lastError()}`);
    assert.strictEqual(report.offerTemplatePush, false);
    const status = (id: CheckLineId) => lineOf(report, id).status;
    assert.deepStrictEqual([status('template'), status('agent'), status('echo-app')], ['pass', 'pass', 'pass']);
    // The preview re-renders in place a moment after the check.
    await webviewTextMatching('table tbody', /✅ pass\s*Template\s*scaletest-docker/);
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs).map((tab) => tab.label);
    assert.strictEqual(tabs.filter((label) => label.includes('.check.md')).length, 1, tabs.join(', '));
    // The verdict, under the heading and in a notification.
    const verdict = `${sim.url} — ${report.passed ? 'passed' : 'failed'} at`;
    assert.ok(squash(await webviewText('body', 10_000)).includes(verdict), `the preview does not say "${verdict}"`);
    await notificationText(report.passed ? 'The pre-run check passed' : 'The pre-run check failed');
    await screenshot('check-after-push');
  });
});
