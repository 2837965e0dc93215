// The dashboard webview bundle in a real Chromium under the same strict CSP the extension
// uses (nonce only, no 'unsafe-inline'): it renders a snapshot into charts with points for
// each stage, answers probes, saves its state and restores from it, and shows untrusted text
// as text. VS Code's webview API is replaced by a stand-in that records messages.
import * as assert from 'assert';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findChromium } from '../../../src/engine/stages/dashboard/chromium';
import { ReferenceCollector } from '../../../src/engine/reference/collector';
import { referenceTable } from '../../../src/engine/reference/compare';
import type { HostToWebview, WebviewToHost } from '../../../src/protocol/messages';
import { compareWithBaseline } from '../../../src/engine/baseline/compare';
import { histogram } from '../../support/baselineFixture';
import { sampleSnapshot } from '../../support/snapshotFixture';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NONCE = 'dGVzdG5vbmNlMTIzNDU2';

declare global {
  interface Window {
    posted: WebviewToHost[];
    savedState: unknown;
  }
}
const WAIT = { timeout: 10_000 };

async function dashboardHtml(): Promise<string> {
  const bundle = await esbuild.build({
    entryPoints: [path.join(ROOT, 'webview', 'main.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  });
  const script = bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
  const css = fs.readFileSync(path.join(ROOT, 'media', 'dashboard.css'), 'utf8');
  return `<!DOCTYPE html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${NONCE}'; script-src 'nonce-${NONCE}'; img-src data:;">
<style nonce="${NONCE}">${css}</style></head>
<body class="vscode-dark"><div id="app"></div><script nonce="${NONCE}">${script}</script></body></html>`;
}

describe('vscode dashboard webview (Chromium, strict CSP)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let html: string;
  const problems: string[] = [];

  async function openPage(savedState?: unknown): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // The stand-in for VS Code's webview API runs first, as a nonce'd script like the bundle.
    const stub = `window.posted = []; window.savedState = ${JSON.stringify(savedState ?? null)} ?? undefined;
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.posted.push(m), getState: () => window.savedState, setState: (s) => { window.savedState = s; } });`;
    await page.setContent(
      html.replace('<div id="app"></div>', `<div id="app"></div><script nonce="${NONCE}">${stub.replace(/</g, '\\u003c')}</script>`),
    );
    return page;
  }

  const send = (page: Page, message: HostToWebview) => page.evaluate((m) => window.postMessage(m, '*'), message);

  async function probe(page: Page): Promise<Extract<WebviewToHost, { type: 'rendered' }>> {
    const before = await page.evaluate(() => window.posted.length);
    await send(page, { type: 'probe' });
    await page.waitForFunction((n) => window.posted.slice(n).some((m) => m.type === 'rendered'), before, WAIT);
    return page.evaluate((n) => window.posted.slice(n).find((m) => m.type === 'rendered'), before) as Promise<
      Extract<WebviewToHost, { type: 'rendered' }>
    >;
  }

  before(async () => {
    html = await dashboardHtml();
    browser = await chromium.launch({
      executablePath: findChromium(),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await browser?.close();
  });

  beforeEach(() => {
    problems.length = 0;
  });

  it('says ready, renders a live snapshot into charts for each stage, and saves it as state', async () => {
    const page = await openPage();
    await page.waitForFunction(() => window.posted.some((m) => m.type === 'ready'), undefined, WAIT);
    const snapshot = sampleSnapshot();
    await send(page, { type: 'snapshot', snapshot, source: 'live' });
    const rendered = await probe(page);
    assert.strictEqual(rendered.title, 'smoke');
    // 6 history points for SSH, 4 for the web terminal (it started later); p50/p95/p99 each.
    assert.strictEqual(rendered.charts['rtt:ssh'], 18);
    assert.strictEqual(rendered.charts['rtt:pty'], 12);
    assert.strictEqual(rendered.charts['connections:ssh'], 6);
    assert.strictEqual(rendered.charts['connections:pty'], 4);
    assert.strictEqual(rendered.charts['throughput:pty'], 4);
    assert.strictEqual(rendered.charts['errors:pty'], 4);
    assert.ok(!('rtt:apps' in rendered.charts), 'a skipped stage got a chart');
    // API p95 and event-loop lag at every history point.
    assert.strictEqual(rendered.charts.api, 12);
    assert.strictEqual(await page.getAttribute('#dashboard-root', 'data-rendered'), 'true');
    const stageRows = await page.locator('#stages tbody tr').count();
    assert.strictEqual(stageRows, snapshot.stages.length);
    assert.match((await page.textContent('#thresholds')) ?? '', /1 passed · 1 failed · 1 pending/);
    assert.strictEqual(await page.isDisabled('#btn-stop'), false);
    const saved = (await page.evaluate(() => window.savedState)) as { type: string; snapshot: { runId: string } };
    assert.deepStrictEqual([saved.type, saved.snapshot.runId], ['snapshot', 'st1abc']);
    assert.deepStrictEqual(problems, [], 'console errors or CSP violations');
    await page.close();
  });

  it("shows Coder's reference figures beside the measured ones, with the setting that would measure the rest", async () => {
    const page = await openPage();
    const reference = new ReferenceCollector({ users: 200, runner: { cores: 8, memoryBytes: 32 * 1024 ** 3 } }).view();
    const measured = referenceTable(200, {
      'coderd.cpu.median': { value: 0.42, from: 'median of rate(process_cpu_seconds_total) of coderd' },
    });
    reference.rows[0] = measured.rows[0];
    await send(page, { type: 'snapshot', snapshot: sampleSnapshot({ reference }), source: 'live' });
    await page.waitForSelector('#reference-panel:not([hidden]) tr[data-figure="coderd.cpu.median"]', WAIT);
    const cpu = (await page.textContent('#reference tr[data-figure="coderd.cpu.median"]')) ?? '';
    assert.match(cpu, /coderd CPU \(median\) per 100 users: yours 0\.21 cores, reference 0\.15/);
    assert.match(cpu, /0\.42 cores\s*0\.30 cores\s*1\.40×/);
    assert.strictEqual(await page.locator('#reference tbody tr').count(), reference.rows.length);
    const missing = page.locator('#reference tr[data-figure="coderd.api.rps.dashboard"]');
    assert.match((await missing.textContent()) ?? '', /not measured, reference 17\.5/);
    assert.strictEqual(
      await missing.locator('code', { hasText: 'deployment.prometheusUrl' }).count(),
      1,
      'the setting is not shown as code',
    );
    // A snapshot without the table (a report written before it existed) hides the panel.
    await send(page, { type: 'snapshot', snapshot: sampleSnapshot({ planName: 'older' }), source: 'report' });
    await page.waitForFunction(() => document.getElementById('title')?.textContent === 'older', undefined, WAIT);
    assert.strictEqual(await page.isHidden('#reference-panel'), true);
    assert.deepStrictEqual(problems, []);
    await page.close();
  });

  it('shows the worst workspaces per stage, the one with problems first, and hides the panel without them', async () => {
    const page = await openPage();
    const figures = (p95: number, disconnects: number) => ({
      ...{ connects: 1 + disconnects, reconnects: disconnects, disconnects, mismatches: 0, bytesSent: 1024, bytesReceived: 1024 },
      errors: {},
      rtt: { count: 30, p50: p95 / 2, p95, max: p95 * 2 },
    });
    const row = (index: number, p95: number, disconnects: number) => ({
      ...{ index, user: `u${index}`, workspace: `scaletest-st1abc-${index}`, agent: 'main' },
      stages: { pty: figures(p95, disconnects), ssh: figures(10 + index, 0) },
    });
    const worst = { pty: [row(2, 400, 3), row(0, 30, 0)], ssh: [row(1, 0, 0), row(0, 0, 0)] };
    await send(page, { type: 'snapshot', snapshot: sampleSnapshot({ workspaces: { total: 3, worst } }), source: 'live' });
    await page.waitForSelector('#workspaces-panel:not([hidden]) details[data-stage="pty"]', WAIT);
    const ranked = await page.locator('#workspaces details[data-stage="pty"] tbody th').allTextContents();
    assert.deepStrictEqual(ranked, ['scaletest-st1abc-2', 'scaletest-st1abc-0']);
    assert.match((await page.textContent('#workspaces details[data-stage="pty"] tbody tr')) ?? '', /3 disconnects\s*4\s*3\s*400ms\s*800ms/);
    // A stage with a problem is open; a healthy one stays folded.
    assert.deepStrictEqual(
      [await page.getAttribute('details[data-stage="pty"]', 'open'), await page.getAttribute('details[data-stage="ssh"]', 'open')],
      ['', null],
    );
    await send(page, { type: 'snapshot', snapshot: sampleSnapshot({ planName: 'no workspaces' }), source: 'report' });
    await page.waitForFunction(() => document.getElementById('title')?.textContent === 'no workspaces', undefined, WAIT);
    assert.strictEqual(await page.isHidden('#workspaces-panel'), true);
    assert.deepStrictEqual(problems, []);
    await page.close();
  });

  it('restores the saved state after a reload without waiting for the host', async () => {
    const page = await openPage({
      type: 'snapshot',
      snapshot: sampleSnapshot({ planName: 'restored plan', status: 'finished', verdict: 'pass' }),
      source: 'report',
    });
    await page.waitForFunction(() => document.getElementById('title')?.textContent === 'restored plan', undefined, WAIT);
    const rendered = await probe(page);
    assert.strictEqual(rendered.charts['rtt:ssh'], 18);
    assert.strictEqual(await page.isDisabled('#btn-stop'), true, 'a finished run can still be stopped');
    assert.deepStrictEqual(problems, []);
    await page.close();
  });

  it('shows text from the snapshot as text, never as markup', async () => {
    const page = await openPage();
    const hostile = '<img src=x id=injected onerror="window.pwned=1">';
    await send(page, {
      type: 'snapshot',
      snapshot: sampleSnapshot({ planName: hostile, reason: hostile, verdict: 'fail' }),
      source: 'live',
    });
    await page.waitForFunction((name) => document.getElementById('title')?.textContent === name, hostile, WAIT);
    assert.strictEqual(await page.locator('#injected').count(), 0);
    assert.strictEqual(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    await page.close();
  });

  it('compares two runs in a table, and sends commands from its buttons', async () => {
    const page = await openPage();
    const left = sampleSnapshot({ runId: 'st1old', status: 'finished', verdict: 'pass' });
    const right = sampleSnapshot({ runId: 'st1new', status: 'finished', verdict: 'fail' });
    right.stages[1] = { ...right.stages[1], latency: { ...right.stages[1].latency, p95: 40 } };
    await send(page, { type: 'compare', left: { label: 'st1old', snapshot: left }, right: { label: 'st1new', snapshot: right } });
    await page.waitForFunction(() => document.getElementById('title')?.textContent === 'st1old vs st1new', undefined, WAIT);
    const row = await page.locator('#compare-view tr', { hasText: 'SSH p95' }).textContent();
    assert.match(row ?? '', /SSH p95\s*20\.0ms\s*40\.0ms\s*\+20\.0ms/);
    assert.deepStrictEqual((await probe(page)).charts, {}, 'charts left over from a run view');

    await send(page, { type: 'snapshot', snapshot: sampleSnapshot(), source: 'live' });
    await page.click('#btn-log');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    const commands = await page.evaluate(() =>
      window.posted.filter((m) => m.type === 'command').map((m) => (m as { command: string }).command),
    );
    // Keyboard: Shift+Tab skips the disabled report buttons and lands on "Stop run".
    assert.deepStrictEqual(commands, ['showLog', 'stopRun']);
    await page.close();
  });

  it("shows the change against the baseline per stage, and a baseline threshold's resolved limit", async () => {
    const page = await openPage();
    const baseline = sampleSnapshot({ runId: 'st1base', status: 'finished', verdict: 'pass' });
    const current = sampleSnapshot({ runId: 'st1new', status: 'finished', verdict: 'fail' });
    const comparison = compareWithBaseline(
      {
        runId: 'st1base',
        snapshot: baseline,
        histograms: { stages: { ssh: histogram(1, 2000, 20), pty: histogram(2, 2000, 20) }, api: {} },
      },
      { runId: 'st1new', snapshot: current, histograms: { stages: { ssh: histogram(3, 2000, 20), pty: histogram(4, 2000, 32) }, api: {} } },
    );
    await send(page, {
      type: 'compare',
      left: { label: 'baseline st1base', snapshot: baseline },
      right: { label: 'st1new', snapshot: current },
      reference: 'baseline',
      comparison,
    });
    await page.waitForSelector('#baseline-comparison', WAIT);
    assert.strictEqual(await page.locator('#baseline-comparison-heading').textContent(), 'Against the baseline (baseline st1base)');
    assert.strictEqual(await page.locator('#baseline-comparison tr[data-stage="pty"]').getAttribute('data-change'), 'worse');
    assert.match(
      (await page.locator('#baseline-comparison tr[data-stage="pty"]').textContent()) ?? '',
      /▲ worse.*\(\+\d+%\).*worse: p50 \+\d+%/,
    );
    assert.match((await page.locator('#baseline-comparison tr[data-stage="ssh"]').textContent()) ?? '', /= same/);
    assert.match((await page.locator('#baseline-comparison p').textContent()) ?? '', /^1 worse · 0 better · 1 same within noise/);

    const live = sampleSnapshot();
    live.thresholds[0] = { ...live.thresholds[0]!, limit: '< 24ms (baseline 20ms × 1.2)' };
    await send(page, { type: 'snapshot', snapshot: live, source: 'live' });
    await page.waitForFunction(() => document.getElementById('thresholds')?.textContent?.includes('baseline 20ms × 1.2'), undefined, WAIT);
    await page.close();
  });

  it('shows a capacity search as a step chart and table that fill in, and hides it for a fixed run', async () => {
    const page = await openPage();
    const step = (index: number, users: number, verdict: 'pass' | 'fail' | 'pending', p95: number) => ({
      index,
      users,
      phase: 'grow' as const,
      state: verdict === 'pending' ? ('running' as const) : ('done' as const),
      verdict,
      startedAt: 0,
      stages:
        verdict === 'pending'
          ? []
          : [
              {
                name: 'pty',
                title: 'Web terminal',
                color: 'orange' as const,
                count: 100,
                p50: p95 / 2,
                p95,
                p99: p95,
                errors: 0,
                disconnects: 0,
              },
            ],
      failed:
        verdict === 'fail'
          ? [
              {
                expression: 'pty.rtt.p95 < 300ms',
                metric: 'pty.rtt.p95',
                observedText: `${p95}ms`,
                reason: `pty.rtt.p95 was ${p95}ms, required < 300ms`,
              },
            ]
          : [],
    });
    const search = {
      from: 1,
      to: 16,
      step: 'double' as const,
      resolution: 1,
      minimum: 1,
      phase: 'growing' as const,
      steps: [step(1, 1, 'pass', 20), step(2, 2, 'pass', 25), step(3, 4, 'pending', 0)],
      lastPass: 2,
    };
    await send(page, { type: 'snapshot', snapshot: sampleSnapshot({ search }), source: 'live' });
    await page.waitForFunction(() => !document.getElementById('search-view')?.hidden, undefined, WAIT);
    // Two decided steps: their p95 and error points (the running step has no point yet).
    assert.strictEqual((await probe(page)).charts.search, 4);
    assert.match((await page.textContent('#search-status')) ?? '', /growing the user count: step 3 at 4 users \(running\)/);
    const done = {
      ...search,
      phase: 'done' as const,
      steps: [step(1, 1, 'pass', 20), step(2, 2, 'pass', 25), step(3, 4, 'fail', 412), step(4, 3, 'pass', 80)],
      lastPass: 3,
      firstFail: 4,
      capacity: 3,
      metMinimum: true,
      verdict: 'holds 3 users; at 4 users `pty.rtt.p95` was 412 ms (limit < 300 ms)',
    };
    await send(page, { type: 'snapshot', snapshot: sampleSnapshot({ search: done, status: 'finished', verdict: 'pass' }), source: 'live' });
    await page.waitForFunction(() => /holds 3 users/.test(document.getElementById('search-status')?.textContent ?? ''), undefined, WAIT);
    // Four steps × (p95 + errors), plus the two points of the capacity line.
    assert.strictEqual((await probe(page)).charts.search, 10);
    assert.strictEqual(await page.locator('#search-steps tbody tr').count(), 4);
    assert.match((await page.locator('#search-steps tbody tr').nth(2).textContent()) ?? '', /4.*fail.*412/);
    await send(page, { type: 'snapshot', snapshot: sampleSnapshot(), source: 'live' });
    await page.waitForFunction(() => document.getElementById('search-view')?.hidden === true, undefined, WAIT);
    assert.ok(!('search' in (await probe(page)).charts), 'a fixed run kept the search chart');
    assert.deepStrictEqual(problems, [], 'console errors or CSP violations');
    await page.close();
  });
});
