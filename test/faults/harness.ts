// The fault matrix's harness: the real CLI (dist/cli.js, built by `npm run test:faults`) in its
// own process, so real signals reach it, against the simulated deployment on 127.0.0.1 in this
// process, so faults can be switched on at the exact moment a phase starts. What is left behind
// is always read from the deployment, never from the runner's memory.
import * as assert from 'assert';
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CoderClient } from '../../src/coder/client';
import type { Plan } from '../../src/engine/plan';
import { startSimDeployment, type SimDeployment } from '../../src/sim';
import { scaledDownPlan } from '../support/scaledDownPlan';

export const CLI = path.resolve(__dirname, '../../dist/cli.js');

export function startFaultSim(): Promise<SimDeployment> {
  // Builds slow enough that a signal can land inside prepare and inside cleanup.
  return startSimDeployment({ buildDurationMs: 700, agentConnectDelayMs: 150, directSsh: true });
}

export type Stage = 'ssh' | 'pty' | 'apps' | 'dashboard';

/**
 * A small plan: 3 users, 1.5 s slots. With `staggered`, each traffic stage has its own slot
 * (SSH T0-T1, web terminal T1-T2, apps T2-T3, dashboard T3-T4) so a signal can be aimed at one.
 */
export function faultPlan(sim: SimDeployment, options: { users?: number; staggered?: boolean; dashboard?: boolean; mutate?: (plan: Plan) => void } = {}): Plan {
  const plan = scaledDownPlan(sim, { users: options.users ?? 3, slotSeconds: 1.5, dashboard: options.dashboard ?? false });
  plan.name = 'fault matrix';
  plan.traffic.dashboard.maxBrowsers = 1;
  plan.timeouts.cleanupSeconds = 60;
  const stages = ['ssh', 'pty', 'apps', 'dashboard'] as const;
  stages.forEach((stage, index) => (plan.timeline[stage] = options.staggered ? [index, index + 1] : [0, 2]));
  options.mutate?.(plan);
  return plan;
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the combined output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
  output(): string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  runId?: string;
}

export function runCli(args: string[], sim: SimDeployment, extraEnv: NodeJS.ProcessEnv = {}, wrapper: string[] = []): CliRun {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, NO_COLOR: '1', ...extraEnv };
  const [command, ...rest] = [...wrapper, process.execPath, CLI, ...args];
  const child = spawn(command!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve(): void }> = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stdout + stderr)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => ((stdout += text), check()));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => ((stderr += text), check()));
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, runId: /run (\w+) of "/.exec(stdout + stderr)?.[1] })),
  );
  return {
    child,
    done,
    output: () => stdout + stderr,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${stdout}${stderr}`)), timeoutMs);
        const closed = () => reject(new Error(`the CLI ended before ${pattern}; output:\n${stdout}${stderr}`));
        done.then(closed, closed);
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        check();
      }),
  };
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
    for (const user of (await owner.listUsers({ q: 'scaletest', limit: 1000 })).users) await owner.deleteUser(user.id).catch(() => undefined);
  } finally {
    owner.close();
  }
}
