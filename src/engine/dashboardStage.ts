// Dashboard traffic: ONE headless Chromium (playwright-core drives a browser found on the
// machine; it downloads nothing), a browser context per simulated user carrying that user's
// session cookie, each visiting a random dashboard page every interval ± jitter. A visit is
// timed from navigation until its last API response arrived (the page has its data).
import { createHash, X509Certificate } from 'crypto';
import * as fs from 'fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { deprioritizeBrowsers } from './processPriority';
import type { TlsOptions } from '../coder/connection';
import type { StageMetrics } from './metrics';
import type { Plan } from './plan';
import type { PreparedUser } from './prepare';
import { sleepUntil } from './echoStage';

const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

// Also used by the integration harness. Without the networking flags Chromium floods a closed
// network with refused connections.
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export class ChromiumNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `${detail} The dashboard stage needs Chrome or Chromium: install Debian's chromium (sudo apt-get install -y chromium), ` +
        'or set CODER_SCALETEST_CHROMIUM (or the chromiumPath setting) to a Chrome/Chromium binary, or set traffic.dashboard.enabled to false in the plan.',
    );
    this.name = 'ChromiumNotFoundError';
  }
}

/**
 * Chromium flags that make the browser trust the deployment like the API client does: it cannot
 * take a CA file, so the certificates in it are pinned by public key (SHA-256 of the SPKI);
 * `insecure` is handled per context (ignoreHTTPSErrors).
 */
export function chromiumTlsFlags(tls: TlsOptions | undefined): string[] {
  if (!tls?.caFile) return [];
  const pem = fs.readFileSync(tls.caFile, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${tls.caFile} holds no PEM certificate; point the CA file setting at the deployment's CA certificate (PEM).`);
  const pins = blocks.map((block) => {
    const spki = new X509Certificate(block).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  });
  return [`--ignore-certificate-errors-spki-list=${pins.join(',')}`];
}

/** The configured path, then CODER_SCALETEST_CHROMIUM, then the usual install locations. */
export function findChromium(configured?: string): string {
  const explicit = configured || process.env.CODER_SCALETEST_CHROMIUM;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new ChromiumNotFoundError(`Chromium not found at ${explicit}.`);
    return explicit;
  }
  const found = CHROMIUM_CANDIDATES.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new ChromiumNotFoundError('No Chromium found on this machine.');
  return found;
}

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
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args, timeout: 60_000 });
  } catch (error) {
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
  deprioritizeBrowsers();
  return { users, close: () => browser.close().catch(() => undefined) };
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

async function browseUntilEnd({ user, page }: DashboardUser, options: DashboardStageOptions): Promise<void> {
  const { plan, metrics, signal, random, log } = options;
  const { intervalSeconds, jitterSeconds, pages } = plan.traffic.dashboard;
  let lastApiResponseAt = 0;
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/api/')) lastApiResponseAt = performance.now();
  });
  // Spread the first visits over one interval so users do not all click at once.
  let nextAt = Date.now() + random() * intervalSeconds * 1000;
  while (!signal.aborted) {
    if (nextAt >= options.endAt) break;
    await sleepUntil(nextAt, signal);
    if (signal.aborted) break;
    const path = pages[Math.floor(random() * pages.length)].replace('{owner}', user.username).replace('{workspace}', user.workspaceName);
    metrics.sent++;
    const started = performance.now();
    lastApiResponseAt = 0;
    try {
      const response = await page.goto(path, { waitUntil: 'load', timeout: 30_000 });
      const loadedAt = performance.now();
      const status = response?.status() ?? 0;
      if (status >= 400) throw Object.assign(new Error(`HTTP ${status} for ${path}`), { kind: `http_${status}` });
      // Long-lived watch connections may keep the network busy; the API responses decide.
      await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
      metrics.latency.record(Math.max(lastApiResponseAt, loadedAt) - started);
      metrics.completed++;
      metrics.bytesReceived += Number((await response?.headerValue('content-length')) ?? 0);
    } catch (error) {
      if (signal.aborted) break;
      const kind = (error as { kind?: string }).kind ?? ((error as Error).name === 'TimeoutError' ? 'timeout' : 'page_error');
      metrics.countError(kind);
      log('warn', `dashboard ${user.username} ${path}: ${(error as Error).message.split('\n')[0]}`);
    }
    const jitter = (random() * 2 - 1) * jitterSeconds;
    nextAt = Date.now() + Math.max(0.1, intervalSeconds + jitter) * 1000;
  }
}
