// The extension activates in a real VS Code, and its dashboard webview really renders.
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { BROWSER_TAG } from '../workbenchBridge';
import { screenshot, waitFor, webviewText } from './workbench';

const EXTENSION_ID = 'coder-scaletest.coder-scaletest';
const SHOW_DASHBOARD = 'coderScaletest.showDashboard';

describe('foundation', () => {
  it('activates the extension and registers its commands', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed in the extension host`);
    await extension.activate();
    assert.strictEqual(extension.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes(SHOW_DASHBOARD), `${SHOW_DASHBOARD} is not registered`);
  });

  it(`opens the dashboard in a webview that renders ${BROWSER_TAG}`, async function () {
    this.timeout(90_000);
    await vscode.commands.executeCommand(SHOW_DASHBOARD);
    // The tab model reaches the extension host a moment after the panel is created.
    await waitFor(
      () => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputWebview,
      10_000,
      () => {
        return `the active tab is not a webview but ${vscode.window.tabGroups.activeTabGroup.activeTab?.label}`;
      },
    );
    // Read back from the browser that the webview's document rendered.
    await webviewText('#dashboard-root[data-rendered="true"]', 60_000);
    const file = await screenshot('dashboard');
    assert.ok(fs.statSync(file).size > 0, `empty screenshot ${file}`);
  });
});
