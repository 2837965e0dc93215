// The "Get started" walkthrough as VS Code renders it: every step of package.json in the
// workbench's Getting Started page, each step's Markdown page in its webview, and a step's
// button running our command and checking the step off — read from, and clicked in, the browser.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ScaleTestExtensionApi } from '../../../src/extension';
import { BROWSER_TAG } from '../workbenchBridge';
import { click, elementAttribute, elementText, screenshot, waitFor, webviewText, webviewTextMatching } from './workbench';

const EXTENSION_ID = 'coder-scaletest.coder-scaletest';

interface WalkthroughStep {
  id: string;
  title: string;
  description: string;
  media: { markdown: string };
  completionEvents: string[];
}
interface Walkthrough {
  id: string;
  title: string;
  steps: WalkthroughStep[];
}

describe(`the Get Started walkthrough ${BROWSER_TAG}`, function () {
  let api: ScaleTestExtensionApi;
  let walkthrough: Walkthrough;
  let extensionPath: string;
  /** VS Code's id of the walkthrough: `<extension id>#<walkthrough id>`; a step's adds `#<step id>`. */
  let category: string;

  before(async function () {
    this.timeout(60_000);
    const extension = vscode.extensions.getExtension<ScaleTestExtensionApi>(EXTENSION_ID)!;
    api = await extension.activate();
    extensionPath = extension.extensionPath;
    const manifest = extension.packageJSON as { contributes: { walkthroughs: Walkthrough[] } };
    assert.strictEqual(manifest.contributes.walkthroughs.length, 1, 'this test knows one walkthrough');
    walkthrough = manifest.contributes.walkthroughs[0]!;
    category = `${EXTENSION_ID}#${walkthrough.id}`;
    // Alone in the editor area, so the webview on screen is the walkthrough's.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const step = (id: string) => `.getting-started-step[data-step-id="${category}#${id}"]`;
  /** The first heading of a step's Markdown page: what its webview must show. */
  const heading = (s: WalkthroughStep) => /^# (.+)$/m.exec(fs.readFileSync(path.join(extensionPath, s.media.markdown), 'utf8'))![1]!;

  it('renders every step of package.json, in order, with the first step open on its Markdown page', async function () {
    this.timeout(60_000);
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', category, false);
    const title = await elementText({ target: 'workbench', selector: `[x-category-title-for="${category}"]`, timeoutMs: 30_000 });
    assert.strictEqual(title, walkthrough.title);
    const rendered: string[] = [];
    for (const s of walkthrough.steps) rendered.push(await elementText({ target: 'workbench', selector: `${step(s.id)} .step-title` }));
    assert.deepStrictEqual(
      rendered,
      walkthrough.steps.map((s) => s.title),
    );
    // The first step is open: its button, and its Markdown page beside the list.
    const first = walkthrough.steps[0]!;
    assert.strictEqual(await elementAttribute({ target: 'workbench', selector: step(first.id) }, 'aria-expanded'), 'true');
    assert.strictEqual(await webviewText('h1', 30_000), heading(first));
    await screenshot('walkthrough');
  });

  it('offers in each step only commands that exist, and each step completes on its own command', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const s of walkthrough.steps) {
      const linked = [...s.description.matchAll(/\(command:([\w.]+)[^)]*\)/g)].map((match) => match[1]!);
      assert.ok(linked.length > 0, `step ${s.id} has no command button`);
      const completing = s.completionEvents.flatMap((event) => /^onCommand:(.+)$/.exec(event)?.[1] ?? []);
      for (const command of [...linked, ...completing])
        assert.ok(registered.has(command), `step ${s.id} names ${command}, which is not registered`);
      assert.ok(
        linked.some((command) => completing.includes(command)),
        `step ${s.id}'s button (${linked.join(', ')}) does not check it off`,
      );
    }
  });

  it("opens a step's page when clicked, and its button runs our command and checks the step off", async function () {
    this.timeout(60_000);
    const dashboard = walkthrough.steps.find((s) => s.id === 'dashboard');
    assert.ok(dashboard, 'the walkthrough has no dashboard step');
    const checkbox = { target: 'workbench' as const, selector: `[data-done-step-id="${category}#${dashboard.id}"]` };
    await click({ target: 'workbench', selector: step(dashboard.id) });
    await webviewTextMatching('h1', new RegExp(`^${escapeRegExp(heading(dashboard))}$`), 15_000);
    // Earlier tests may have run the command already: start from an unchecked step, as a person
    // who unticks it would.
    if ((await elementAttribute(checkbox, 'aria-checked')) === 'true') await click(checkbox);
    assert.strictEqual(await elementAttribute(checkbox, 'aria-checked'), 'false');

    assert.ok(!api.dashboard.isOpen(), 'the dashboard is open before its step button was clicked');
    await click({ target: 'workbench', selector: `${step(dashboard.id)} .button-container .monaco-button`, hasText: 'Open Dashboard' });
    await waitFor(
      () => api.dashboard.isOpen(),
      15_000,
      () => 'the step button "Open Dashboard" did not open the dashboard',
    );
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', category, false);
    assert.strictEqual(await elementAttribute(checkbox, 'aria-checked'), 'true', 'the step was not checked off by its command');
    await screenshot('walkthrough-step-done');
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
