// Shared set-up for engine tests: a real simulated deployment on loopback and small plans.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { CoderClient } from '../../src/coder/client';
import { findChromium } from '../../src/engine/stages/dashboard/chromium';
import type { DeploymentConnection } from '../../src/coder/connection';
import type { Plan } from '../../src/engine/plan/plan';
import { startRun } from '../../src/engine/run/run';
import { startSimDeployment, type SimDeployment } from '../../src/sim';
import { scaledDownPlan } from './scaledDownPlan';

export async function startTestSim(): Promise<SimDeployment> {
  return startSimDeployment({ buildDurationMs: 300, agentConnectDelayMs: 100, directSsh: true });
}

/** The scaled-down plan of the engine tests: 2 users, 1 s slots unless told otherwise. */
export function smallPlan(
  sim: SimDeployment,
  overrides: { users?: number; slotSeconds?: number; dashboard?: boolean; only?: Array<'ssh' | 'pty' | 'apps'> } = {},
): Plan {
  const plan = scaledDownPlan(sim, {
    users: overrides.users ?? 2,
    slotSeconds: overrides.slotSeconds ?? 1,
    dashboard: overrides.dashboard ?? false,
  });
  if (overrides.only) {
    // Just these echo stages, all in the first slots, to keep fault tests short.
    for (const stage of ['ssh', 'pty', 'apps'] as const) {
      plan.traffic[stage].enabled = overrides.only.includes(stage);
      plan.timeline[stage] = [0, 2];
    }
  }
  return plan;
}

/** A plan that runs one traffic stage alone, in `window`, judged by `thresholds`. */
export function oneStagePlan<Id extends keyof Plan['traffic']>(
  sim: SimDeployment,
  options: { users: number; stage: Id; settings: Partial<Plan['traffic'][Id]>; window: [number, number]; thresholds: string[] },
): Plan {
  const plan = smallPlan(sim, { users: options.users });
  for (const stage of Object.keys(plan.traffic) as Array<keyof Plan['traffic']>) plan.traffic[stage].enabled = false;
  plan.traffic[options.stage] = { ...plan.traffic[options.stage], ...options.settings, enabled: true };
  plan.timeline[options.stage] = options.window;
  plan.thresholds = options.thresholds.map((expression) => ({ expression, abortOnFail: false, abortAfterSeconds: 0 }));
  return plan;
}

/** A fresh simulated deployment and output directory for every test of the enclosing suite. */
export function useSimAndOutDir(): { sim: SimDeployment; out: string } {
  const env = {} as { sim: SimDeployment; out: string };
  beforeEach(async () => {
    env.sim = await startTestSim();
    env.out = tempDir();
  });
  afterEach(async () => {
    await env.sim.close();
    fs.rmSync(env.out, { recursive: true, force: true });
  });
  return env;
}

/** Runs a short SSH-only plan that keeps what it created (cleanup "never"), for cleanup tests. */
export async function keptRun(
  env: { sim: SimDeployment; out: string },
  users: number,
): Promise<{ runId: string; connection: DeploymentConnection }> {
  const plan = smallPlan(env.sim, { users, only: ['ssh'] });
  plan.cleanup.strategy = 'never';
  const connection = { url: env.sim.url, token: env.sim.ownerToken };
  const result = await startRun({ plan, connection, outDir: env.out }).done;
  assert.strictEqual(result.cleanup.leftovers.length, 2 * users, 'the run kept its users and workspaces');
  return { runId: result.snapshot.runId, connection };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'scaletest-test-'));
}

/** Scale-test users and workspaces still on the deployment (as the owner sees them). */
export async function leftovers(sim: Pick<SimDeployment, 'url' | 'ownerToken'>): Promise<{ users: string[]; workspaces: string[] }> {
  const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
  try {
    const users = (await owner.listUsers({ limit: 1000 })).users.map((u) => u.username).filter((name) => name.startsWith('scaletest-'));
    const workspaces = (await owner.listWorkspaces({ limit: 1000 })).workspaces.map((w) => w.name);
    return { users, workspaces };
  } finally {
    owner.close();
  }
}

/**
 * Opens `<reportDir>/report.html` in Chromium, offline (any request beyond the file is
 * refused), hands the page to `use`, then checks the page raised no error.
 */
export async function withReportPage<T>(reportDir: string, use: (page: Page) => Promise<T>): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.route(/^(?!file:)/, (route) => route.abort());
    await page.goto(`file://${path.join(reportDir, 'report.html')}`);
    const result = await use(page);
    assert.deepStrictEqual(pageErrors, [], 'errors on the report page');
    return result;
  } finally {
    await browser.close();
  }
}

/** Sums coderd_api_requests_processed_total on the simulator's Prometheus endpoint for one path (and method/code). */
export async function processedRequests(
  sim: Pick<SimDeployment, 'prometheusUrl'>,
  filter: { path: string; method?: string; code?: string },
): Promise<number> {
  const metrics = await (await fetch(sim.prometheusUrl)).text();
  return metrics
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('coderd_api_requests_processed_total{') &&
        line.includes(`path="${filter.path}"`) &&
        (!filter.method || line.includes(`method="${filter.method}"`)) &&
        (!filter.code || line.includes(`code="${filter.code}"`)),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
