import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { BuildFailedError, CoderApiError, CoderClient, DeploymentUnreachableError, routePath } from '../../../src/coder';
import { loadFaultsFile, startSimDeployment } from '../../../src/sim';
import { findChromium } from '../../../src/engine/stages/dashboard/chromium';
import { DASHBOARD_TARGETS } from '../../../src/engine/stages/dashboard/runner';
import { makeSelfSignedCert, type SelfSignedCert } from '../../support/selfSignedCert';
import { memberClient, startFixture, uniqueName, type Fixture } from '../../support/simFixture';

const repoRoot = path.resolve(__dirname, '../../..');

async function newWorkspace(fx: Fixture) {
  const { client, username } = await memberClient(fx);
  const workspace = await fx.owner.createWorkspace(fx.sim.organizationId, username, {
    name: uniqueName('ws'),
    template_id: fx.sim.templateId,
  });
  return { client, username, workspace };
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  assert.strictEqual(response.status, 200);
  return response.text();
}

function metricValue(text: string, line: RegExp): number | undefined {
  const match = text.split('\n').find((l) => line.test(l));
  return match === undefined ? undefined : Number(match.split(' ').at(-1));
}

describe('simulated deployment: faults', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture({}, { retry: { retries: 0 } });
  });
  afterEach(() => fx.sim.setFaults({}));
  after(async () => fx.close());

  it('errorRates answers 500 with coderd JSON for the chosen endpoint class only', async () => {
    fx.sim.setFaults({ errorRates: { templates: 1 } });
    await assert.rejects(fx.owner.templates(fx.sim.organizationId), (e: unknown) => {
      assert.ok(e instanceof CoderApiError);
      assert.strictEqual(e.status, 500);
      assert.match(e.detail ?? '', /simulated fault/);
      return true;
    });
    assert.strictEqual((await fx.owner.me()).username, 'admin');
    fx.sim.setFaults({ errorRates: { all: 1 } });
    await assert.rejects(fx.owner.healthz(), /500/);
  });

  it('errorRates fails exactly that fraction of requests, evenly spread', async () => {
    fx.sim.setFaults({ errorRates: { stats: 0.5 } });
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++)
      outcomes.push(
        await fx.owner.deploymentStats().then(
          () => 'ok',
          (e: CoderApiError) => String(e.status),
        ),
      );
    assert.strictEqual(outcomes.filter((o) => o === '500').length, 5, outcomes.join(','));
  });

  it('latency delays the chosen endpoint class', async () => {
    fx.sim.setFaults({ latency: { workspaces: { ms: 150, jitterMs: 10 } } });
    await fx.owner.listWorkspaces();
    const last = fx.requests.at(-1)!;
    assert.strictEqual(last.endpointClass, 'workspaces');
    assert.ok(last.durationMs >= 135, `took ${last.durationMs} ms`);
  });

  it('failBuilds fails start builds with job.error', async () => {
    fx.sim.setFaults({ failBuilds: 1 });
    const { client, workspace } = await newWorkspace(fx);
    await assert.rejects(client.waitForBuild(workspace.latest_build.id, { pollMs: 20 }), (e: unknown) => {
      assert.ok(e instanceof BuildFailedError);
      assert.strictEqual(e.jobStatus, 'failed');
      assert.match(e.message, /failBuilds/);
      return true;
    });
    await assert.rejects(client.waitForAgents(workspace.id, { pollMs: 20 }), BuildFailedError);
  });

  it('agentsNeverConnect leaves agents connecting; waitForAgents times out saying so', async () => {
    fx.sim.setFaults({ agentsNeverConnect: 1 });
    const { client, workspace } = await newWorkspace(fx);
    await client.waitForBuild(workspace.latest_build.id, { pollMs: 20 });
    await assert.rejects(client.waitForAgents(workspace.id, { timeoutMs: 300, pollMs: 50 }), /not ready after .*main: connecting/);
  });

  it('an agent slower than the connection timeout shows `timeout`, then connects; waitForAgents waits for it', async () => {
    const slow = await startFixture({ agentConnectionTimeoutSeconds: 1, agentConnectDelayMs: 1400 });
    try {
      const { client, workspace } = await newWorkspace(slow);
      await client.waitForBuild(workspace.latest_build.id, { pollMs: 20 });
      const statuses = new Set<string>();
      for (let i = 0; i < 150 && !statuses.has('timeout'); i++) {
        const current = await client.getWorkspace(workspace.id);
        for (const agent of current.latest_build.resources?.[0]?.agents ?? []) statuses.add(agent.status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(statuses.has('timeout'), `statuses seen: ${[...statuses].join(', ')}`);
      const ready = await client.waitForAgents(workspace.id, { pollMs: 50, timeoutMs: 10_000 });
      assert.strictEqual(ready.latest_build.resources![0]!.agents![0]!.status, 'connected');
    } finally {
      await slow.close();
    }
  });

  it('buildDurationMs and agentConnectDelayMs set the lifecycle timing', async () => {
    fx.sim.setFaults({ buildDurationMs: 400, agentConnectDelayMs: 200 });
    const { client, workspace } = await newWorkspace(fx);
    const build = await client.waitForBuild(workspace.latest_build.id, { pollMs: 20 });
    const buildMs = Date.parse(build.job.completed_at!) - Date.parse(build.job.created_at);
    assert.ok(buildMs >= 390, `build took ${buildMs} ms`);
    const ready = await client.waitForAgents(workspace.id, { pollMs: 20, timeoutMs: 5000 });
    const agent = ready.latest_build.resources![0]!.agents![0]!;
    const connectMs = Date.parse(agent.first_connected_at!) - Date.parse(build.job.completed_at!);
    assert.ok(connectMs >= 190, `agent connected after ${connectMs} ms`);
  });

  it('restart takes healthz down, resets connections, moves the process start time and keeps build info', async () => {
    const before = await fx.owner.buildInfo();
    const startBefore = metricValue(await scrape(fx.sim.prometheusUrl), /^process_start_time_seconds /)!;
    fx.sim.setFaults({ buildDurationMs: 10_000 });
    const { workspace } = await newWorkspace(fx);
    const logs = new WebSocket(
      `${fx.sim.url.replace('http', 'ws')}${routePath('buildLogs', { workspacebuild: workspace.latest_build.id })}?follow`,
      {
        headers: { 'Coder-Session-Token': fx.sim.ownerToken },
      },
    );
    const logsClosed = new Promise<number>((resolve) => logs.once('close', (code) => resolve(code)));
    await new Promise((resolve) => logs.once('open', resolve));
    fx.sim.setFaults({ restart: { atMs: 50, downForMs: 300 } });
    const seen: string[] = [];
    for (let i = 0; i < 100 && !(seen.includes('503') && seen.at(-1) === 'OK'); i++) {
      const response = await fetch(`${fx.sim.url}/healthz`).catch(() => undefined);
      seen.push(response ? (response.status === 200 ? await response.text() : String(response.status)) : 'refused');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(seen.includes('503'), `healthz went down: ${seen.join(',')}`);
    assert.strictEqual(seen.at(-1), 'OK');
    assert.strictEqual(await logsClosed, 1006, 'open WebSockets are reset');
    const startAfter = metricValue(await scrape(fx.sim.prometheusUrl), /^process_start_time_seconds /)!;
    assert.ok(startAfter > startBefore, 'process_start_time_seconds moved');
    assert.deepStrictEqual(await fx.owner.buildInfo(), before);
    assert.strictEqual(fx.sim.stats().restarts, 1);
  });

  it('rejects invalid fault configurations with the knob and the rule', async () => {
    assert.throws(() => fx.sim.setFaults({ failBuilds: 2 }), /\/failBuilds: must be <= 1/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-'));
    const file = path.join(dir, 'faults.json');
    fs.writeFileSync(file, JSON.stringify({ latency: { workspace: { ms: 5 } }, errorRates: { all: -1 } }));
    assert.throws(
      () => loadFaultsFile(file),
      (e: Error) => {
        assert.match(e.message, /faults file .*faults\.json is not a valid fault configuration/);
        assert.match(e.message, /\/latency: unknown knob "workspace"/);
        assert.match(e.message, /\/errorRates\/all: must be >= 0/);
        return true;
      },
    );
    fs.writeFileSync(file, '{ nope');
    assert.throws(() => loadFaultsFile(file), /is not valid JSON/);
    assert.throws(() => loadFaultsFile(path.join(dir, 'missing.json')), /cannot read faults file/);
    fs.writeFileSync(
      file,
      JSON.stringify({ dropConnections: { pty: { fraction: 0.1, afterMs: 1000 } }, restart: { atMs: 1, downForMs: 2 } }),
    );
    assert.strictEqual(loadFaultsFile(file).dropConnections?.pty?.fraction, 0.1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('simulated deployment: Prometheus, apps, dashboard', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(async () => fx.close());

  it('exposes coderd metric names counting its own traffic', async () => {
    await fx.owner.buildInfo();
    await fx.owner.getWorkspace('00000000-0000-4000-8000-000000000000').catch(() => undefined);
    fx.sim.setFaults({ buildDurationMs: 10_000 });
    const { workspace } = await newWorkspace(fx);
    fx.sim.setFaults({});
    const logs = new WebSocket(
      `${fx.sim.url.replace('http', 'ws')}${routePath('buildLogs', { workspacebuild: workspace.latest_build.id })}?follow`,
      {
        headers: { 'Coder-Session-Token': fx.sim.ownerToken },
      },
    );
    await new Promise((resolve) => logs.once('open', resolve));
    const text = await scrape(fx.sim.prometheusUrl);
    logs.terminate();
    assert.ok(metricValue(text, /^coderd_api_requests_processed_total\{code="200",method="GET",path="\/api\/v2\/buildinfo"\}/)! >= 1);
    assert.ok(
      metricValue(text, /^coderd_api_requests_processed_total\{code="404",method="GET",path="\/api\/v2\/workspaces\/\{workspace\}"\}/)! >=
        1,
    );
    assert.ok(metricValue(text, /^coderd_api_request_latencies_seconds_bucket\{le="30",method="GET",path="\/api\/v2\/buildinfo"\}/)! >= 1);
    assert.strictEqual(
      metricValue(text, /^coderd_api_concurrent_websockets\{path="\/api\/v2\/workspacebuilds\/\{workspacebuild\}\/logs"\}/),
      1,
    );
    for (const name of [
      'coderd_api_concurrent_requests',
      'coderd_api_websocket_durations_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
    }
    assert.ok(metricValue(text, /^process_resident_memory_bytes /)! > 0);
  });

  it('redirects an app URL without the trailing slash (307) and proxies with the token header', async () => {
    const { client, username, workspace } = await newWorkspace(fx);
    await client.waitForBuild(workspace.latest_build.id, { pollMs: 20 });
    await client.waitForAgents(workspace.id, { pollMs: 20, timeoutMs: 5000 });
    const token = client.connection.token!;
    const appPath = `/@${username}/${workspace.name}.main/apps/wsec`;
    const redirect = await fetch(`${fx.sim.url}${appPath}?x=1`, { redirect: 'manual', headers: { 'Coder-Session-Token': token } });
    assert.strictEqual(redirect.status, 307);
    assert.strictEqual(redirect.headers.get('location'), `${appPath}/?x=1`);
    const echoed = await fetch(`${fx.sim.url}${appPath}/hello`, { headers: { 'Coder-Session-Token': token } });
    assert.strictEqual(echoed.status, 200);
    assert.strictEqual(await echoed.text(), 'GET /hello\n');
    assert.strictEqual((await fetch(`${fx.sim.url}${appPath}/`)).status, 401);
    const stranger = await memberClient(fx);
    const denied = await fetch(`${fx.sim.url}${appPath}/`, { headers: { 'Coder-Session-Token': stranger.client.connection.token! } });
    assert.strictEqual(denied.status, 404);
  });

  it('serves the dashboard as a single-page app: loaded once, navigated by the reference runner’s clicks, each page calling the real page’s API', async function () {
    this.timeout(60_000);
    const { client, username, workspace } = await newWorkspace(fx);
    const agentName = (await client.waitForAgents(workspace.id, { pollMs: 20 })).latest_build.resources![0]!.agents![0]!.name;
    const root = await fetch(fx.sim.url, { redirect: 'manual' });
    assert.strictEqual(root.status, 307);
    assert.strictEqual(root.headers.get('location'), '/workspaces');
    const browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext();
      await context.addCookies([{ name: 'coder_session_token', value: client.connection.token!, url: fx.sim.url }]);
      const page = await context.newPage();
      const apiCalls: string[] = [];
      let documentLoads = 0;
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (request.resourceType() === 'document') documentLoads++;
        if (url.pathname.startsWith('/api/')) apiCalls.push(url.pathname + url.search);
      });
      page.on('websocket', (socket) => apiCalls.push(new URL(socket.url()).pathname));
      await page.goto(fx.sim.url + '/');
      const target = (label: string) => DASHBOARD_TARGETS.find((t) => t.label === label)!;
      await page.waitForSelector(target('workspace_list').waitFor, { timeout: 10_000 });
      assert.ok(page.url().endsWith('/workspaces'));
      assert.deepStrictEqual(apiCalls.slice(0, 3).sort(), ['/api/v2/buildinfo', '/api/v2/regions', '/api/v2/users/me']);
      assert.ok(apiCalls.includes('/api/v2/workspaces?q=owner%3Ame&limit=25'), apiCalls.join(','));
      // Today's DOM: the current page's nav link says so with aria-current, never a class.
      assert.strictEqual(await page.locator('nav a[aria-current="page"]').getAttribute('href'), '/workspaces');
      assert.strictEqual(await page.locator('nav a.active').count(), 0);
      assert.strictEqual(await page.locator('a[href^="/users"], a[href^="/deployment/users"]').count(), 0, 'members have no users link');
      documentLoads = 0;
      // Each target in turn: click, then its page's own element appears. The workspace page has
      // no nav: its topbar's back link leads to the workspace list.
      for (const label of ['workspace_details', 'workspace_list', 'template_list', 'template_summary', 'template_docs', 'workspace_list']) {
        const { clickOn, waitFor } = target(label);
        await page.locator(clickOn).first().click({ timeout: 10_000 });
        await page.waitForSelector(waitFor, { state: 'attached', timeout: 10_000 });
        if (label === 'workspace_details') {
          assert.strictEqual(await page.locator('nav').count(), 0, 'the workspace page is outside the dashboard layout');
          assert.strictEqual(await page.locator('tr[data-testid^="build-"]').count(), 0, 'no builds table');
          assert.strictEqual(await page.locator(waitFor).getAttribute('href'), `/@${username}/${workspace.name}.${agentName}/terminal`);
        }
      }
      assert.strictEqual(documentLoads, 0, 'every page after the first was navigated inside the app');
      for (const call of [
        `/api/v2/users/${username}/workspace/${workspace.name}?include_deleted=true`,
        `/api/v2/workspaces/${workspace.id}/watch-ws`,
        `/api/v2/organizations/${fx.sim.organizationId}/templates`,
      ]) {
        assert.ok(apiCalls.includes(call), `${call} not in ${apiCalls.join(', ')}`);
      }
      assert.strictEqual(apiCalls.filter((call) => call === '/api/v2/users/me').length, 1, 'the app loads the user once');
      // A direct visit to a deep link loads the app there.
      await page.goto(`${fx.sim.url}/templates/scaletest-docker/docs`);
      await page.waitForSelector('#readme', { timeout: 10_000 });
      // Without the cookie the app shows the failure instead of hanging.
      const anonymous = await browser.newPage();
      await anonymous.goto(fx.sim.url + '/workspaces');
      await anonymous.waitForSelector('[role="alert"]', { timeout: 10_000 });
      assert.match((await anonymous.textContent('[role="alert"]')) ?? '', /401/);
    } finally {
      await browser.close();
    }
  });
});

describe('simulated deployment over TLS', () => {
  let tlsCert: SelfSignedCert;
  before(() => (tlsCert = makeSelfSignedCert('sim-tls-')));
  after(() => fs.rmSync(tlsCert.dir, { recursive: true, force: true }));

  it('is refused without trust, works with caFile (REST and WebSocket) or insecure', async () => {
    const sim = await startSimDeployment({
      buildDurationMs: 100,
      agentConnectDelayMs: 10,
      tls: tlsCert.serverTls,
    });
    const clients: CoderClient[] = [];
    const client = (tls?: { caFile?: string; insecure?: boolean }) => {
      const c = new CoderClient({ url: sim.url, token: sim.ownerToken, ...(tls ? { tls } : {}) }, { retry: { retries: 0 } });
      clients.push(c);
      return c;
    };
    try {
      assert.ok(sim.url.startsWith('https://127.0.0.1:'));
      await assert.rejects(client().buildInfo(), (e: unknown) => {
        assert.ok(e instanceof DeploymentUnreachableError);
        assert.match(e.message, /TLS certificate was not accepted: add the deployment's CA certificate \(caFile\)/);
        return true;
      });
      const trusted = client({ caFile: tlsCert.certFile });
      assert.strictEqual((await trusted.me()).username, 'admin');
      const workspace = await trusted.createWorkspace(sim.organizationId, 'me', { name: uniqueName('tls'), template_id: sim.templateId });
      const logs: string[] = [];
      await trusted.waitForBuild(workspace.latest_build.id, { pollMs: 10, onLog: (log) => logs.push(log.output) });
      assert.ok(logs.includes('Build succeeded'), 'logs followed over wss');
      assert.strictEqual(await client({ insecure: true }).healthz(), 'OK');
    } finally {
      clients.forEach((c) => c.close());
      await sim.close();
    }
  });
});

describe('coder-scaletest sim command', () => {
  it('prints exactly one JSON line with url and token, serves, and exits 0 on SIGTERM', async function () {
    this.timeout(30_000);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "require('./src/cli/commands/sim').runSimCommand(process.argv.slice(1)).then((code) => process.exit(code))",
        '--',
        '--port',
        '0',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const firstLine = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
    });
    const ready = JSON.parse(firstLine) as { url: string; token: string };
    assert.deepStrictEqual(Object.keys(ready).sort(), ['token', 'url']);
    const client = new CoderClient({ url: ready.url, token: ready.token });
    assert.strictEqual((await client.requireOwner()).username, 'admin');
    client.close();
    const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.strictEqual(await exitCode, 0);
    assert.strictEqual(stdout.trim().split('\n').length, 1, `stdout: ${stdout}`);
    assert.match(stderr, /Prometheus metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    assert.ok(!stderr.includes(ready.token), 'the token is printed on stdout only');
  });

  it('explains a bad option and exits 2', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '-e',
          "require('./src/cli/commands/sim').runSimCommand(process.argv.slice(1)).then((code) => process.exit(code))",
          '--',
          '--port',
          'abc',
        ],
        { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
    assert.strictEqual(result.code, 2);
    assert.strictEqual(result.stderr, 'error: --port must be a whole number from 0 to 65535, got "abc"; see coder-scaletest sim --help\n');
  });
});
