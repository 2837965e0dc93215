// Runner-side harness for tests in a real VS Code: code-server (a VS Code server with the web
// workbench) driven in Debian's Chromium through playwright-core. scripts/setup.mjs installs
// the code-server versions and records them in .cache/vscode-routes.json.
//
// Every process started here is killed when its session is disposed, and again (by process
// group) when this process exits, so a failed or timed-out test leaks nothing.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, findChromium } from '../../src/engine/stages/dashboard/chromium';
import { TEST_OUTPUT_ENV } from '../support/testResults';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TEST_RESULTS_DIR = path.join(ROOT, 'test-results');
const ROUTES_FILE = path.join(ROOT, '.cache', 'vscode-routes.json');

/** One installed VS Code version (written by scripts/setup.mjs). */
export interface VsCodeRoute {
  name: string;
  vscode: string;
  codeServer: string;
  /** The Node binary that runs this code-server (and so its extension host). */
  node: string;
  /** code-server's entry script. */
  entry: string;
  /** 4.139.x needs `--vscode-option enable-smoke-test-driver` to accept the test payload. */
  smokeTestDriver: boolean;
}

/** The routes the last set-up installed (all, or those CODER_SCALETEST_ROUTES named). */
export function readRoutes(): VsCodeRoute[] {
  if (!fs.existsSync(ROUTES_FILE)) {
    throw new Error(`${ROUTES_FILE} is missing: run \`node scripts/setup.mjs\` (or \`npm test\`) to install code-server first.`);
  }
  return JSON.parse(fs.readFileSync(ROUTES_FILE, 'utf8')) as VsCodeRoute[];
}

export function findRoute(name: string): VsCodeRoute {
  const route = readRoutes().find((candidate) => candidate.name === name);
  if (!route)
    throw new Error(
      `unknown VS Code route "${name}"; known: ${readRoutes()
        .map((r) => r.name)
        .join(', ')}`,
    );
  return route;
}

/** Separate HOME, TMPDIR and XDG dirs, so nothing touches (or is touched by) the user's own. */
function isolatedEnv(base: string): NodeJS.ProcessEnv {
  const dirs = {
    HOME: 'home',
    TMPDIR: 'tmp',
    XDG_CONFIG_HOME: 'config',
    XDG_CACHE_HOME: 'cache',
    XDG_DATA_HOME: 'data',
    XDG_RUNTIME_DIR: 'runtime',
  };
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, dir] of Object.entries(dirs)) {
    env[name] = path.join(base, dir);
    fs.mkdirSync(env[name]!, { recursive: true, mode: 0o700 });
  }
  return env;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const liveProcessGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveProcessGroups) killGroup(pid);
});
// Exiting through process.exit runs the 'exit' handler above, which a signal's default would skip.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  liveProcessGroups.delete(pid);
}

export interface WorkbenchOptions {
  route: VsCodeRoute;
  /** Name of this session's folder under test-results/ (screenshots, logs, test output). */
  outputName: string;
  /** Extra environment for code-server, which passes it on to the extension host. */
  env?: Record<string, string>;
  /** Install this .vsix into the session's fresh extensions dir before starting. */
  installVsix?: string;
}

/** A running code-server plus a Chromium page, disposed together. */
export class WorkbenchSession {
  private constructor(
    readonly route: VsCodeRoute,
    readonly baseUrl: string,
    readonly workspaceDir: string,
    readonly extensionsDir: string,
    readonly outputDir: string,
    private readonly server: ChildProcess,
    private readonly browser: Browser,
    readonly page: Page,
    private readonly tempDir: string,
  ) {}

  static async start(options: WorkbenchOptions): Promise<WorkbenchSession> {
    const { route } = options;
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), `coder-scaletest-${route.name}-`));
    const outputDir = path.join(TEST_RESULTS_DIR, options.outputName);
    fs.rmSync(outputDir, { recursive: true, force: true });
    fs.mkdirSync(outputDir, { recursive: true });
    const workspaceDir = path.join(tempDir, 'workspace');
    const extensionsDir = path.join(tempDir, 'extensions');
    const userDataDir = path.join(tempDir, 'user-data');
    for (const dir of [workspaceDir, extensionsDir, userDataDir]) fs.mkdirSync(dir, { recursive: true });
    writeUserSettings(userDataDir);
    const env = { ...isolatedEnv(path.join(tempDir, 'server')), [TEST_OUTPUT_ENV]: outputDir, ...options.env };
    const dirArgs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

    if (options.installVsix) {
      const install = spawnSync(route.node, [route.entry, ...dirArgs, '--install-extension', options.installVsix], {
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (install.status !== 0) {
        fs.rmSync(tempDir, { recursive: true, force: true });
        throw new Error(`code-server --install-extension ${options.installVsix} failed: ${install.stderr || install.stdout}`);
      }
    }

    const port = await freePort();
    const logFile = fs.openSync(path.join(outputDir, 'code-server.log'), 'w');
    const server = spawn(
      route.node,
      [
        route.entry,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        ...dirArgs,
        ...(route.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
        workspaceDir,
      ],
      // Own process group, so the extension host and other children die with it.
      { env, detached: true, stdio: ['ignore', logFile, logFile] },
    );
    fs.closeSync(logFile);
    if (server.pid === undefined) throw new Error(`could not start code-server ${route.codeServer} with ${route.node}`);
    liveProcessGroups.add(server.pid);

    let browser: Browser | undefined;
    try {
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitForHealth(baseUrl, server, 60_000);
      browser = await chromium.launch({
        executablePath: findChromium(),
        args: CHROMIUM_FLAGS,
        env: isolatedEnv(path.join(tempDir, 'browser')),
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      return new WorkbenchSession(route, baseUrl, workspaceDir, extensionsDir, outputDir, server, browser, page, tempDir);
    } catch (error) {
      await browser?.close().catch(() => undefined);
      killGroup(server.pid);
      fs.rmSync(tempDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** URL of the workbench on this session's workspace, optionally with a test payload. */
  workbenchUrl(payload?: [string, string][]): string {
    const query = new URLSearchParams({ folder: this.workspaceDir });
    if (payload) query.set('payload', JSON.stringify(payload));
    return `${this.baseUrl}/?${query.toString()}`;
  }

  /** A `vscode-remote://` URI for a path on this machine, as the test payload wants it. */
  remoteUri(localPath: string): string {
    return `vscode-remote://${new URL(this.baseUrl).host}${localPath}`;
  }

  /**
   * The document inside the webview on screen (VS Code nests it in two iframes). Webviews of
   * editors in the background stay in the page, hidden: the visible one is the one a person sees.
   */
  activeWebview(): FrameLocator {
    return this.page.locator('iframe.webview.ready').filter({ visible: true }).first().contentFrame().frameLocator('#active-frame');
  }

  /**
   * Runs a command the way a person does: F1, type its title, Enter. Retried as a whole,
   * because right after load the palette may not list extension commands yet.
   */
  async runFromCommandPalette(title: string, attempts = 10): Promise<void> {
    const { page } = this;
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const input = page.locator('.quick-input-widget input');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: 5_000 });
        await input.fill(`>${title}`);
        await row.waitFor({ state: 'visible', timeout: 5_000 });
        break;
      } catch (error) {
        if (attempt >= attempts) throw new Error(`the command palette never offered "${title}": ${String(error)}`);
      }
    }
    await page.keyboard.press('Enter');
  }

  /** Saves a screenshot of the whole workbench as <outputDir>/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(this.outputDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async dispose(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    if (this.server.pid !== undefined) killGroup(this.server.pid);
    fs.rmSync(this.tempDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Settings that keep the workbench quiet and predictable for tests: no welcome page stealing focus. */
function writeUserSettings(userDataDir: string): void {
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    // Newer versions open a chat side bar on start; it only narrows screenshots.
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  };
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

async function waitForHealth(baseUrl: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode} before it was healthy; see code-server.log`);
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`code-server did not answer ${baseUrl}/healthz within ${timeoutMs} ms`);
}
