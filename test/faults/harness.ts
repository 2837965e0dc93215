// The fault matrix's harness: the real CLI (dist/cli.js, built by `npm run test:faults`) in its
// own process, so real signals reach it, against the simulated deployment on 127.0.0.1 in this
// process, so faults can be switched on at the exact moment a phase starts. What is left behind
// is always read from the deployment, never from the runner's memory.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CoderClient } from '../../src/coder/client';
import type { Plan } from '../../src/engine/plan/plan';
import { startSimDeployment, type SimDeployment } from '../../src/sim';
import { scaledDownPlan } from '../support/scaledDownPlan';

export { CLI, runCli, type CliResult, type CliRun } from '../support/cliProcess';

export function startFaultSim(): Promise<SimDeployment> {
  // Builds slow enough that a signal can land inside prepare and inside cleanup.
  return startSimDeployment({ buildDurationMs: 700, agentConnectDelayMs: 150, directSsh: true });
}

export type Stage = 'ssh' | 'pty' | 'apps' | 'dashboard';

/**
 * A small plan: 3 users, 1.5 s slots. With `staggered`, each traffic stage has its own slot
 * (SSH T0-T1, web terminal T1-T2, apps T2-T3, dashboard T3-T4) so a signal can be aimed at one.
 */
export function faultPlan(
  sim: SimDeployment,
  options: { users?: number; staggered?: boolean; dashboard?: boolean; mutate?: (plan: Plan) => void } = {},
): Plan {
  const plan = scaledDownPlan(sim, { users: options.users ?? 3, slotSeconds: 1.5, dashboard: options.dashboard ?? false });
  plan.name = 'fault matrix';
  plan.traffic.dashboard.maxBrowsers = 1;
  plan.timeouts.cleanupSeconds = 60;
  const stages = ['ssh', 'pty', 'apps', 'dashboard'] as const;
  stages.forEach((stage, index) => (plan.timeline[stage] = options.staggered ? [index, index + 1] : [0, 2]));
  options.mutate?.(plan);
  return plan;
}

/** Scale-test users and workspaces the deployment still holds (look-alikes listed in `except` aside). */
export async function leftOnDeployment(sim: SimDeployment, except: string[] = []): Promise<string[]> {
  const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
  try {
    const users = (await owner.listUsers({ q: 'scaletest', limit: 1000 })).users.map((u) => `user ${u.username}`);
    const workspaces = (await owner.listWorkspaces({ q: 'scaletest', limit: 1000 })).workspaces.map((w) => `workspace ${w.name}`);
    return [...workspaces, ...users].filter((name) => !except.includes(name));
  } finally {
    owner.close();
  }
}

export interface Report {
  runId: string;
  verdict: string;
  exitCode: number;
  status: string;
  reason?: string;
  cleanup: { deletedWorkspaces: number; deletedUsers: number; leftovers: string[] };
  thresholds: Array<{ expression: string; verdict: string; runnerSuspect?: string }>;
  events: Array<{ level: string; message: string }>;
  api: { byClass: Record<string, { errors5xx: number; errors4xx?: number }> };
}

export function readReport(out: string, runId: string | undefined): Report {
  assert.ok(runId, 'the run printed its id');
  const file = path.join(out, runId, 'report.json');
  assert.ok(fs.existsSync(file), `the report was written (${file})`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
}

export function failedThresholds(report: Report): string[] {
  return report.thresholds.filter((t) => t.verdict === 'fail').map((t) => t.expression);
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'scaletest-faults-'));
}

export function writePlan(dir: string, plan: Plan): string {
  const file = path.join(dir, 'fault.scaletest.json');
  fs.writeFileSync(file, JSON.stringify(plan));
  return file;
}

/** One line per case for RELIABILITY.md (written when FAULTS_RECORD names a file). */
export interface CaseRecord {
  fault: string;
  exitCode: number | null;
  verdict: string;
  reported: string;
  leftBehind: number;
}

export function record(entry: CaseRecord): void {
  const file = process.env.FAULTS_RECORD;
  if (file) fs.appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** Deletes everything scale-test-like, so one failed case cannot spoil the next. */
export async function scrub(sim: SimDeployment): Promise<void> {
  const owner = new CoderClient({ url: sim.url, token: sim.ownerToken }, { bypassRateLimit: true });
  try {
    for (const workspace of (await owner.listWorkspaces({ q: 'scaletest', limit: 1000 })).workspaces) {
      const build = await owner.createBuild(workspace.id, { transition: 'delete' }).catch(() => undefined);
      if (build) await owner.waitForBuild(build.id).catch(() => undefined);
    }
    for (const user of (await owner.listUsers({ q: 'scaletest', limit: 1000 })).users)
      await owner.deleteUser(user.id).catch(() => undefined);
  } finally {
    owner.close();
  }
}
