// The artefact users install: dist/coder-scaletest.vsix (from `npm run package`) is
// installed into a fresh code-server and driven like a person would, from the browser.
// Runs on the runner side (mocha + tsx), one describe per installed VS Code route.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, WorkbenchSession, readRoutes } from '../harness';

const VSIX = path.join(ROOT, 'dist', 'coder-scaletest.vsix');
const EXTENSION_ID = 'coder-scaletest.coder-scaletest';
const COMMAND_TITLE = 'Coder Scale Test: Open Dashboard';

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

for (const route of readRoutes()) {
  describe(`packaged VSIX in VS Code ${route.vscode} (${route.name})`, function () {
    this.timeout(180_000);
    let session: WorkbenchSession;

    before(async () => {
      assert.ok(fs.existsSync(VSIX), `${VSIX} is missing: run \`npm run package\` first`);
      session = await WorkbenchSession.start({ route, outputName: `vsix-${route.name}`, installVsix: VSIX });
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed') await session?.screenshot(`failed-${this.currentTest.title}`).catch(() => undefined);
    });

    after(async () => {
      await session?.dispose();
    });

    it('installs bundles only: no sources, tests or source maps', () => {
      const installed = fs.readdirSync(session.extensionsDir).find((dir) => dir.startsWith(`${EXTENSION_ID}-`));
      assert.ok(installed, `no ${EXTENSION_ID}-* folder in the extensions dir`);
      const files = filesUnder(path.join(session.extensionsDir, installed));
      for (const required of [
        'package.json',
        'dist/extension.js',
        'dist/engineBackend.js',
        'dist/cli.js',
        'dist/webview.js',
        'dist/node_modules/playwright-core/package.json',
      ]) {
        assert.ok(files.includes(required), `the installed extension lacks ${required}`);
      }
      const forbidden = files.filter((file) => /\.ts$|\.map$|\.test\.js$|^(src|test|webview|scripts)\//.test(file));
      assert.deepStrictEqual(forbidden, []);
    });

    it('opens the dashboard from the command palette and renders it', async () => {
      await session.page.goto(session.workbenchUrl());
      await session.runFromCommandPalette(COMMAND_TITLE);
      await session.activeWebview().locator('#dashboard-root[data-rendered="true"]').waitFor({ state: 'attached', timeout: 60_000 });
      const screenshot = await session.screenshot('dashboard-from-vsix');
      assert.ok(fs.statSync(screenshot).size > 0);
    });
  });
}
