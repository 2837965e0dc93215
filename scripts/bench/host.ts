// The benchmark's figures about the editor's side and the browser: the extension host's
// event-loop lag while a runner child process drives a run (the extension's process model,
// src/vscode/processBackend.ts, without VS Code itself), Chromium's memory and CPU per
// dashboard session, and the VSIX's size.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { findChromium } from '../../src/engine/stages/dashboard/chromium';
import { defaultPlan } from '../../src/engine/plan/plan';
import { startRun } from '../../src/engine/run/run';
import { startSimDeployment } from '../../src/sim';
import { startSimDeploymentProcess } from '../../src/sim/process';
import { startRunInChild, type RunnerEntry } from '../../src/vscode/processBackend';

const ROOT = path.join(__dirname, '..', '..');
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const OUT = path.join(os.tmpdir(), 'coder-scaletest-bench');

/** Event-loop lag of this process (the host) while a runner child runs `users` web terminals against a simulator child. */
export async function hostLag(smoke: boolean) {
  const entry: RunnerEntry = { modulePath: path.join(ROOT, 'src', 'cli', 'main.ts'), execArgv: ['--import', 'tsx'] };
  const users = smoke ? 10 : 500;
  const sim = await startSimDeploymentProcess({
    entry: entry.modulePath,
    execArgv: entry.execArgv,
    buildDurationMs: 50,
    agentConnectDelayMs: 10,
    rateLimitPerMinute: 1e9,
  });
  try {
    const plan = defaultPlan();
    plan.users = users;
    plan.concurrency = { prepare: 50, cleanup: 50 };
    plan.timeline.slotSeconds = smoke ? 2 : 15;
    for (const stage of ['ssh', 'apps', 'dashboard'] as const) plan.traffic[stage].enabled = false;
    plan.timeline.pty = [0, 1];
    const lag = monitorEventLoopDelay({ resolution: 10 });
    let snapshots = 0;
    let trafficLag: { p99: number; max: number } | undefined;
    const run = await startRunInChild(entry, {
      planText: JSON.stringify(plan),
      planSource: 'bench',
      connection: { url: sim.url, token: sim.ownerToken },
      outDir: OUT,
      signal: new AbortController().signal,
      log: () => {},
    });
    run.subscribe((snapshot) => {
      snapshots++;
      // Measured while the traffic runs (prepare is the deployment's work, not the editor's).
      if (snapshot.status === 'running' && !lag.count) lag.enable();
      if (snapshot.status !== 'running' && lag.count && !trafficLag) {
        lag.disable();
        trafficLag = { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
      }
    });
    const outcome = await run.done;
    lag.disable();
    trafficLag ??= { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
    const pty = outcome.snapshot.stages.find((stage) => stage.name === 'pty');
    return {
      connections: pty?.connections.target ?? 0,
      echoes: pty?.completed ?? 0,
      snapshots,
      lagP99Ms: round(trafficLag.p99),
      lagMaxMs: round(trafficLag.max),
    };
  } finally {
    await sim.close();
  }
}

/** Processes under `root` (children, grandchildren…), from /proc. */
function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Chromium's processes: proportional memory (PSS, shared pages split) and CPU seconds so far. */
function chromiumUsage(): { pssMiB: number; cpuSeconds: number; processes: number } {
  const ticks = 100;
  let pss = 0;
  let cpu = 0;
  let processes = 0;
  for (const pid of descendants(process.pid)) {
    try {
      if (!/chrom/i.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu += (Number(fields[11]) + Number(fields[12])) / ticks;
      pss += Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      processes++;
    } catch {
      // gone meanwhile
    }
  }
  return { pssMiB: pss / 1024, cpuSeconds: cpu, processes };
}

/** A dashboard-only run (reference pacing: a page every 10 s ± 5 s per user): Chromium's PSS and CPU per session. */
export async function dashboardCost(smoke: boolean) {
  try {
    findChromium();
  } catch (error) {
    return { skipped: (error as Error).message };
  }
  const sessions = smoke ? 2 : 10;
  const sim = await startSimDeployment({ buildDurationMs: 50, agentConnectDelayMs: 10, rateLimitPerMinute: 1e9 });
  try {
    const plan = defaultPlan();
    plan.users = sessions;
    plan.timeline.slotSeconds = smoke ? 8 : 30;
    for (const stage of ['ssh', 'pty', 'apps'] as const) plan.traffic[stage].enabled = false;
    plan.timeline.dashboard = [0, 1];
    plan.thresholds = [];
    const samples: Array<{ at: number; pssMiB: number; cpuSeconds: number; processes: number }> = [];
    const handle = startRun({
      plan,
      connection: { url: sim.url, token: sim.ownerToken },
      outDir: OUT,
      log: process.env.BENCH_DEBUG ? (event) => console.error(event.level, event.message) : undefined,
    });
    handle.subscribe((snapshot) => {
      if (snapshot.stages.find((stage) => stage.name === 'dashboard')?.state === 'running')
        samples.push({ at: Date.now(), ...chromiumUsage() });
    });
    const result = await handle.done;
    // The first seconds are the browser's start and sign-ins; the steady part is what a session costs.
    const steady = samples.slice(Math.min(smoke ? 1 : 3, samples.length - 1));
    const first = steady[0];
    const last = steady[steady.length - 1];
    if (!first || last === first) return { sessions, skipped: 'too few samples' };
    const seconds = (last.at - first.at) / 1000;
    const dashboard = result.snapshot.stages.find((stage) => stage.name === 'dashboard');
    return {
      sessions,
      pageLoads: dashboard?.completed ?? 0,
      processes: Math.max(...steady.map((s) => s.processes)),
      pssMiBPerSession: round(Math.max(...steady.map((s) => s.pssMiB)) / sessions, 1),
      cpuPercentPerSession: round(((last.cpuSeconds - first.cpuSeconds) / seconds / sessions) * 100, 1),
      seconds: round(seconds, 1),
    };
  } finally {
    await sim.close();
  }
}

/** The VSIX's size (built with `npm run package` unless `--no-package`); activation time: activation.ts. */
export function vsixFigures(build: boolean) {
  const vsix = path.join(ROOT, 'dist', 'coder-scaletest.vsix');
  if (build) {
    const packaged = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (packaged.status !== 0) return { skipped: 'npm run package failed' };
  }
  if (!fs.existsSync(vsix)) return { skipped: 'no dist/coder-scaletest.vsix (npm run package)' };
  return { vsixKiB: Math.round(fs.statSync(vsix).size / 1024), builtAt: fs.statSync(vsix).mtime.toISOString() };
}
