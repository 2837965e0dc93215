// Dashboard traffic: ONE headless Chromium (playwright-core drives a browser found on the
// machine; it downloads nothing), a browser context per simulated user carrying that user's
// session cookie. Like the reference runner (coder/coder scaletest/dashboard), each user loads
// the single-page app once and then, every interval ± jitter, clicks a random target inside it
// (a nav link, a workspace, build or template row, …) and is timed from the click until the
// element that target's page shows once its data has arrived is there.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChromiumNotFoundError, CHROMIUM_FLAGS, chromiumTlsFlags, findChromium } from './chromium';
import type { DashboardSettings } from './descriptor';
import { deprioritizeBrowsers, nicedLauncher } from './processPriority';
import type { TlsOptions } from '../../../coder/connection';
import type { StageRunner } from '../definition';
import type { StageMetrics } from '../../metrics/stageMetrics';
import type { Plan } from '../../plan/plan';
import type { PreparedUser } from '../../prepare/prepare';
import { sleepUntil } from '../../common/sleep';

export interface DashboardUser {
  user: PreparedUser;
  context: BrowserContext;
  page: Page;
}

export interface DashboardBrowser {
  users: DashboardUser[];
  close(): Promise<void>;
}

/**
 * Starts Chromium and signs each simulated dashboard user in (cookie, first visit to `/`, as
 * the reference does) ahead of T0: launching a browser and its renderers takes seconds of CPU
 * that must not land inside other stages' windows.
 */
export async function launchDashboardBrowser(options: {
  chromiumPath?: string;
  baseUrl: string;
  /** The deployment's TLS settings, honoured by the browser as by the API client. */
  tls?: TlsOptions;
  users: PreparedUser[];
  maxBrowsers: number;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}): Promise<DashboardBrowser> {
  const executablePath = findChromium(options.chromiumPath);
  const { chromium } = await import('playwright-core');
  const args = [...CHROMIUM_FLAGS, ...chromiumTlsFlags(options.tls)];
  const launcherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coder-scaletest-browser-'));
  const removeLauncher = () => fs.rmSync(launcherDir, { recursive: true, force: true });
  let browser: Browser;
  try {
    // Playwright's own signal handlers would close the browser and, on SIGINT, exit the process
    // at once: no cleanup, no report. The run handles stop signals and closes the browser itself.
    browser = await chromium.launch({
      executablePath: nicedLauncher(executablePath, launcherDir),
      headless: true,
      args,
      timeout: 60_000,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    removeLauncher();
    throw new ChromiumNotFoundError(`Chromium at ${executablePath} did not start (${(error as Error).message.split('\n')[0]}).`);
  }
  const users = await Promise.all(
    options.users.slice(0, options.maxBrowsers).map(async (user) => {
      const context = await browser.newContext({ baseURL: options.baseUrl, ignoreHTTPSErrors: options.tls?.insecure === true });
      await context.addCookies([{ name: 'coder_session_token', value: user.token, url: options.baseUrl }]);
      const page = await context.newPage();
      await page.goto('/', { waitUntil: 'load', timeout: 30_000 }).catch((error: Error) => {
        options.log('warn', `dashboard ${user.username}: first visit to / failed: ${error.message.split('\n')[0]}`);
      });
      return { user, context, page };
    }),
  );
  // Started through `nice` already; this catches a browser that could not be (no `nice` here).
  deprioritizeBrowsers();
  return {
    users,
    close: () =>
      browser
        .close()
        .catch(() => undefined)
        .finally(removeLauncher),
  };
}

export interface DashboardStageOptions {
  plan: Plan;
  browser: DashboardBrowser;
  metrics: StageMetrics;
  endAt: number;
  signal: AbortSignal;
  random: () => number;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export async function runDashboardStage(options: DashboardStageOptions): Promise<void> {
  const { metrics, browser, log } = options;
  metrics.targetConnections = browser.users.length;
  await Promise.all(
    browser.users.map(async (user) => {
      metrics.activeConnections++;
      try {
        await browseUntilEnd(user, options);
      } finally {
        metrics.activeConnections--;
      }
    }),
  );
  if (metrics.errorTotal() > 0) log('warn', `dashboard: ${metrics.errorTotal()} page visit(s) failed`);
}

/** Something to click in the dashboard and the element its page shows once loaded. */
export interface DashboardTarget {
  label: string;
  clickOn: string;
  waitFor: string;
  /** The first path segment of the page it leads to, matched against the plan's pages. */
  section: string;
}

/**
 * The reference runner's targets (scaletest/dashboard/chromedp.go defaultTargets), without
 * those that need pages the scale-test template does not have (starter templates, the file
 * and version views with their code editor), plus a click on a template row, which the
 * template docs target needs to be reachable.
 */
export const DASHBOARD_TARGETS: readonly DashboardTarget[] = [
  {
    label: 'workspace_list',
    clickOn: 'nav a[href="/workspaces"]:not(.active)',
    waitFor: 'tr[role="button"][data-testid^="workspace-"]',
    section: 'workspaces',
  },
  {
    label: 'workspace_details',
    clickOn: 'tr[role="button"][data-testid^="workspace-"]',
    waitFor: 'tr[role="button"][data-testid^="build-"]',
    section: '@',
  },
  {
    label: 'workspace_build_details',
    clickOn: 'tr[role="button"][data-testid^="build-"]',
    waitFor: '*[aria-label="Build details"]',
    section: '@',
  },
  {
    label: 'template_list',
    clickOn: 'nav a[href="/templates"]:not(.active)',
    waitFor: 'tr[role="button"][data-testid^="template-"]',
    section: 'templates',
  },
  {
    label: 'template_summary',
    clickOn: 'tr[role="button"][data-testid^="template-"]',
    waitFor: 'a[href^="/templates/"][href$="/docs"]',
    section: 'templates',
  },
  {
    label: 'template_docs',
    clickOn: 'a[href^="/templates/"][href$="/docs"]:not([aria-current])',
    waitFor: '#readme',
    section: 'templates',
  },
  { label: 'user_list', clickOn: 'nav a[href^="/users"]:not(.active)', waitFor: 'tr[data-testid^="user-"]', section: 'users' },
];

/** The targets whose pages the plan asks for: `/workspaces`, `/templates`, `/users`, `/@{owner}/…`. */
export function targetsForPages(pages: readonly string[]): DashboardTarget[] {
  const sections = new Set(pages.map((page) => (page.startsWith('/@') ? '@' : (page.split('/')[1] ?? ''))));
  return DASHBOARD_TARGETS.filter((target) => sections.has(target.section));
}

const ACTION_TIMEOUT_MS = 30_000;

async function browseUntilEnd({ user, page }: DashboardUser, options: DashboardStageOptions): Promise<void> {
  const { plan, metrics, signal, random, log } = options;
  const { intervalSeconds, jitterSeconds, pages } = plan.traffic.dashboard;
  const targets = targetsForPages(pages);
  const landing = pages[0]!.replace('{owner}', user.username).replace('{workspace}', user.workspaceName);
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/api/')) {
      response.headerValue('content-length').then(
        (length) => (metrics.bytesReceived += Number(length ?? 0)),
        () => undefined,
      );
    }
  });
  // Spread the first clicks over one interval so users do not all click at once.
  let nextAt = Date.now() + random() * intervalSeconds * 1000;
  while (!signal.aborted) {
    if (nextAt >= options.endAt) break;
    await sleepUntil(nextAt, signal);
    if (signal.aborted) break;
    const available: DashboardTarget[] = [];
    for (const target of targets)
      if (
        (await page
          .locator(target.clickOn)
          .count()
          .catch(() => 0)) > 0
      )
        available.push(target);
    if (available.length === 0) {
      // Nothing to click (an error page, or the app not loaded): start again from the plan's
      // first page, like a user reloading. Not a timed action.
      await page.goto(landing, { waitUntil: 'load', timeout: ACTION_TIMEOUT_MS }).catch(() => undefined);
      nextAt = Date.now() + 100;
      continue;
    }
    const target = available[Math.floor(random() * available.length)]!;
    metrics.sent++;
    try {
      const candidates = page.locator(target.clickOn);
      const element = candidates.nth(Math.floor(random() * (await candidates.count())));
      const started = performance.now();
      await element.click({ timeout: ACTION_TIMEOUT_MS });
      await page.waitForSelector(target.waitFor, { state: 'attached', timeout: ACTION_TIMEOUT_MS });
      metrics.latency.record(performance.now() - started);
      metrics.completed++;
    } catch (error) {
      if (signal.aborted) break;
      metrics.countError((error as Error).name === 'TimeoutError' ? 'timeout' : 'page_error');
      log('warn', `dashboard ${user.username} ${target.label}: ${(error as Error).message.split('\n')[0]}`);
    }
    const jitter = (random() * 2 - 1) * jitterSeconds;
    nextAt = Date.now() + Math.max(0.1, intervalSeconds + jitter) * 1000;
  }
}

/** The dashboard stage's runner: the browser starts and signs its users in before T0. */
export const dashboardRunner: StageRunner<DashboardSettings> = {
  async setUp(context) {
    context.log('info', 'starting Chromium and signing the dashboard users in');
    const browser = await launchDashboardBrowser({
      chromiumPath: context.chromiumPath,
      baseUrl: context.connection.url,
      tls: context.connection.tls,
      users: context.users,
      maxBrowsers: context.settings.maxBrowsers,
      log: context.log,
    });
    return {
      connections: browser.users.length,
      run: (run) => runDashboardStage({ ...run, browser }),
      close: () => browser.close(),
    };
  },
};
