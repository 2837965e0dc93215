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
import { type DashboardSettings, sectionOf } from './descriptor';
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
 * The reference runner's targets (scaletest/dashboard/chromedp.go defaultTargets) as today's
 * dashboard (site/src) renders them, for a member (our users are members). The reference's
 * selectors lag the site: nav links are react-router NavLinks whose className is a function,
 * so they never carry `active` — the current page's link has `aria-current="page"`; the
 * workspace page sits outside the dashboard layout (no nav: its topbar has a "Back to
 * workspaces" link) and has no builds table (the history sidebar's build links open a new
 * tab), so it is timed until the agent's Terminal link is there; template tabs mark the active
 * one with `aria-current` (NavLink tabs), nothing, or `data-active="true"` (Tailwind tabs); the
 * users list moved to /deployment/users, reached through the Deployment menu, for admins only.
 * Left out: starter templates, files and versions (the code editor), build details, users.
 */
export const DASHBOARD_TARGETS: readonly DashboardTarget[] = [
  {
    label: 'workspace_list',
    clickOn: 'a[href="/workspaces"]:not([aria-current="page"])',
    waitFor: 'tr[role="button"][data-testid^="workspace-"]',
    section: 'workspaces',
  },
  {
    label: 'workspace_details',
    clickOn: 'tr[role="button"][data-testid^="workspace-"]',
    waitFor: 'a[href^="/@"][href$="/terminal"]',
    section: '@',
  },
  {
    label: 'template_list',
    clickOn: 'nav a[href="/templates"]:not([aria-current="page"])',
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
    clickOn: 'a[href^="/templates/"][href$="/docs"]:not([aria-current="page"]):not([data-active="true"])',
    waitFor: '#readme',
    section: 'templates',
  },
];

/** The targets whose pages the plan asks for: `/workspaces`, `/templates`, `/@{owner}/…`. */
export function targetsForPages(pages: readonly string[]): DashboardTarget[] {
  const sections = new Set(pages.map(sectionOf));
  return DASHBOARD_TARGETS.filter((target) => sections.has(target.section));
}

/**
 * When the next action starts and by when it must be done, like scaletest/dashboard/run.go: a
 * ticker reset to interval + U[−jitter, +jitter) at every tick, and the action (finding the
 * targets, the click, the wait) bounded by the same instant.
 */
export function nextTick(tickAt: number, intervalSeconds: number, jitterSeconds: number, random: () => number): number {
  const offset = jitterSeconds > 0 ? (random() * 2 - 1) * jitterSeconds : 0;
  return tickAt + Math.max(0.1, intervalSeconds + offset) * 1000;
}

/** How long a user finds nothing to click before reloading the plan's first page. */
const IDLE_RELOAD_MS = 10_000;

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
  // Spread the first clicks over one interval so users do not all click at once (the
  // reference starts each user's ticker as its browser is ready).
  let tickAt = Date.now() + random() * intervalSeconds * 1000;
  let idleTicks = 0;
  let idleSince: number | undefined;
  while (!signal.aborted) {
    if (tickAt >= options.endAt) break;
    await sleepUntil(tickAt, signal);
    if (signal.aborted) break;
    // run.go takes the tick's own time: a late tick (a busy runner) still gets a whole interval.
    const deadline = nextTick(Date.now(), intervalSeconds, jitterSeconds, random);
    const remaining = () => Math.max(1, deadline - Date.now());
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
      // Nothing to click (a page still loading, an error page): like the reference, wait for
      // the next tick; after three such ticks and 10 s, start again from the plan's first page,
      // like a user reloading. Not timed actions.
      idleSince ??= tickAt;
      if (++idleTicks >= 3 && tickAt - idleSince >= IDLE_RELOAD_MS) {
        idleTicks = 0;
        idleSince = undefined;
        await page.goto(landing, { waitUntil: 'load', timeout: remaining() }).catch(() => undefined);
      }
      tickAt = deadline;
      continue;
    }
    idleTicks = 0;
    idleSince = undefined;
    const target = available[Math.floor(random() * available.length)]!;
    metrics.sent++;
    const started = performance.now();
    try {
      const candidates = page.locator(target.clickOn);
      const element = candidates.nth(Math.floor(random() * (await candidates.count())));
      await element.click({ timeout: remaining() });
      await page.waitForSelector(target.waitFor, { state: 'attached', timeout: remaining() });
      metrics.latency.record(performance.now() - started);
      metrics.completed++;
    } catch (error) {
      if (signal.aborted) break;
      // The reference observes the duration of a failed action too, and counts it as an error.
      const elapsed = performance.now() - started;
      metrics.latency.record(elapsed);
      const missed = (error as Error).name === 'TimeoutError';
      metrics.countError(missed ? 'deadline' : 'page_error');
      log(
        'warn',
        missed
          ? `dashboard ${user.username} ${target.label}: not done by its deadline (${Math.round(elapsed)} ms; the next action was due)`
          : `dashboard ${user.username} ${target.label}: ${(error as Error).message.split('\n')[0]}`,
      );
    }
    tickAt = deadline;
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
