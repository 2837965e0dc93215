// `npm run bench` (bundled and run by scripts/bench.mjs): the figures of issue 9, each beside
// what it is compared with in the same run, written to bench/results/<date>-<host>.json and a
// Markdown table beside it. A tool, not a test: nothing here asserts a timing. `--smoke` runs
// every figure small (< 60 s) for CI; `--steady-seconds N` sets the steady-RSS run (default 60).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { defaultPlan } from '../../src/engine/plan';
import { startRun } from '../../src/engine/run';
import { startSimDeployment } from '../../src/sim';
import { dashboardCost, hostLag, vsixFigures } from './host';
import { markdown } from './markdown';
import { snapshotCost } from './snapshot';
import { type EchoKind, type LoadFigures, runEngine, runFloor, type Target } from './echoLoad';

const smoke = process.argv.includes('--smoke');
const steadyIndex = process.argv.indexOf('--steady-seconds');
const steadySeconds = steadyIndex > 0 ? Number(process.argv[steadyIndex + 1]) : smoke ? 3 : 60;
// `--only costs,capacity,steady,accuracy,snapshot,prepare,host,dashboard,vsix`: just those figures.
const onlyArg = process.argv.find((arg) => arg.startsWith('--only='));
const only = new Set(onlyArg ? onlyArg.slice('--only='.length).split(',') : ['costs', 'capacity', 'steady', 'accuracy', 'snapshot', 'prepare', 'host', 'dashboard', 'vsix']);
const REFERENCE = { bytesPerTick: 1024, tickIntervalMs: 100 };
const LAG_BUDGET_MS = 10;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function startTarget(targetScript: string): Promise<{ target: Target; holds(): Promise<number[]>; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', targetScript], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  const target = JSON.parse(await next()) as Target;
  return {
    target,
    holds: async () => {
      const answer = next();
      child.stdin.write('holds\n');
      return (JSON.parse(await answer) as { holds: number[] }).holds;
    },
    stop: () => child.stdin.end(),
  };
}

/** Most connections whose send-schedule lag p99 stays under the budget with every echo back. */
async function capacity(target: Target, kind: EchoKind, floor: boolean, steps: number[], seconds: number) {
  const tried: Array<{ connections: number; sendLagP99Ms: number; echoRatio: number }> = [];
  let best = 0;
  for (const connections of steps) {
    const run = floor ? runFloor : runEngine;
    const figures = await run(target, { kind, connections, seconds, ...REFERENCE, floor }).catch((error: Error) => ({ error: error.message }) as const);
    if ('error' in figures) {
      tried.push({ connections, sendLagP99Ms: -1, echoRatio: 0 });
      break;
    }
    const echoRatio = round(figures.echoes / ((connections * seconds * 1000) / REFERENCE.tickIntervalMs), 3);
    tried.push({ connections, sendLagP99Ms: figures.sendLagP99Ms, echoRatio });
    if (figures.sendLagP99Ms >= LAG_BUDGET_MS || echoRatio < 0.95 || figures.mismatches > 0) break;
    best = connections;
  }
  return { connections: best, tried };
}

/** A figure that may hang on a loaded machine (a browser, child processes) gives up after `seconds`, so the bench ends. */
function bounded<T>(figure: Promise<T>, seconds: number): Promise<T | { skipped: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ skipped: string }>((resolve) => (timer = setTimeout(() => resolve({ skipped: `did not finish within ${seconds} s` }), seconds * 1000)));
  return Promise.race([figure, timeout]).finally(() => clearTimeout(timer));
}

async function prepareRate(users: number): Promise<{ users: number; seconds: number; workspacesPerSecond: number }> {
  const sim = await startSimDeployment({ buildDurationMs: 200, agentConnectDelayMs: 100, rateLimitPerMinute: 1e9 });
  try {
    const plan = defaultPlan();
    plan.users = users;
    plan.concurrency = { prepare: 20, cleanup: 20 };
    plan.timeline.slotSeconds = 1;
    for (const stage of ['ssh', 'pty', 'dashboard'] as const) plan.traffic[stage].enabled = false;
    plan.thresholds = [];
    const result = await startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir: path.join(os.tmpdir(), 'coder-scaletest-bench') }).done;
    const prepare = result.snapshot.stages.find((s) => s.name === 'prepare')!;
    const seconds = ((prepare.endedAt ?? 0) - (prepare.startedAt ?? 0)) / 1000;
    return { users, seconds: round(seconds), workspacesPerSecond: round(users / seconds) };
  } finally {
    await sim.close();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const targetScript = path.join(__dirname, 'target.ts');
  const { target, holds, stop } = await startTarget(targetScript);
  const results: Record<string, unknown> = { date: new Date().toISOString(), host: os.hostname(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, smoke, reference: REFERENCE };
  const log = (what: string, value: unknown) => console.log(what, JSON.stringify(value));
  // The machine may be shared: the load average says how much else ran beside the bench.
  const startedAt = Date.now();
  const load = { startLoad1: round(os.loadavg()[0]), maxLoad1: round(os.loadavg()[0]) };
  const loadSampler = setInterval(() => (load.maxLoad1 = Math.max(load.maxLoad1, round(os.loadavg()[0]))), 5000);
  try {
    // CPU per 100k echoes and RSS per connection: engine vs floor, same target, same run.
    const costs: Record<string, { engine: LoadFigures; floor: LoadFigures; ratio: number }> = {};
    for (const [kind, connections] of only.has('costs') ? ([['pty', 500], ['apps', 500], ['ssh', 250]] as const) : []) {
      const options = { kind, connections: smoke ? Math.round(connections / 10) : connections, seconds: smoke ? 2 : 8, ...REFERENCE, floor: false };
      const engine = await runEngine(target, options);
      const floor = await runFloor(target, { ...options, floor: true });
      costs[kind] = { engine, floor, ratio: round(engine.cpuSecondsPer100kEchoes / floor.cpuSecondsPer100kEchoes) };
      log(`cost ${kind}`, { engine: engine.cpuSecondsPer100kEchoes, floor: floor.cpuSecondsPer100kEchoes, engineRssKiB: engine.rssPerConnectionKiB, floorRssKiB: floor.rssPerConnectionKiB, engineHeapKiB: engine.heapPerConnectionKiB, floorHeapKiB: floor.heapPerConnectionKiB });
    }
    results.costs = costs;

    // Capacity per stage (one thread = one core), engine vs floor.
    const caps: Record<string, unknown> = {};
    for (const kind of only.has('capacity') ? (['pty', 'apps', 'ssh'] as const) : []) {
      const steps = smoke ? [50] : kind === 'ssh' ? [50, 100, 250, 500, 750, 1000, 1500] : [50, 100, 250, 500, 1000, 1500, 2000, 3000];
      const seconds = smoke ? 1 : 3;
      caps[kind] = { engine: await capacity(target, kind, false, steps, seconds), floor: await capacity(target, kind, true, steps, seconds) };
      log(`capacity ${kind}`, caps[kind]);
    }
    results.capacity = caps;

    // Steady RSS (flat?): the engine's web terminals over a longer run.
    if (only.has('steady')) {
      const steady = await runEngine(target, { kind: 'pty', connections: smoke ? 50 : 500, seconds: steadySeconds, ...REFERENCE, floor: false, sampleRss: true });
      results.steadyRss = { connections: steady.connections, seconds: steadySeconds, samplesMiB: steady.rssSamplesMiB, firstMiB: steady.rssSamplesMiB[0], lastMiB: steady.rssSamplesMiB[steady.rssSamplesMiB.length - 1], maxMiB: Math.max(...steady.rssSamplesMiB) };
      log('steady rss', results.steadyRss);
    }

    // Accuracy: a target that holds each echo a known time (20 ms, 200 ms stalls every 2 s).
    if (only.has('accuracy')) {
      await holds();
      const accuracy = await runEngine(target, { kind: 'delay', connections: smoke ? 20 : 100, seconds: smoke ? 3 : 10, ...REFERENCE, floor: false });
      const truth = (await holds()).sort((a, b) => a - b);
      const trueP = { p50: round(percentile(truth, 50)), p95: round(percentile(truth, 95)), p99: round(percentile(truth, 99)) };
      // The same echoes on both sides: every one of the run (the target records each hold).
      const reported = { p50: accuracy.wholeRun!.p50, p95: accuracy.wholeRun!.p95, p99: accuracy.wholeRun!.p99 };
      results.accuracy = { echoes: accuracy.wholeRun!.count, trueEchoes: truth.length, reported, true: trueP, errorPercent: Object.fromEntries(Object.entries(reported).map(([k, v]) => [k, round(((v - trueP[k as keyof typeof trueP]) / trueP[k as keyof typeof trueP]) * 100)])) };
      log('accuracy', results.accuracy);
    }
  } finally {
    stop();
  }
  if (only.has('snapshot')) {
    results.snapshot = snapshotCost(smoke);
    log('snapshot at 6000 connections', results.snapshot);
  }
  if (only.has('prepare')) {
    results.prepare = await prepareRate(smoke ? 5 : 50);
    log('prepare', results.prepare);
  }

  if (only.has('host')) {
    console.log('extension host lag: a runner child process drives web terminals…');
    results.hostLag = await bounded(hostLag(smoke), smoke ? 90 : 300);
    log('extension host lag', results.hostLag);
  }
  if (only.has('dashboard')) {
    results.dashboard = await bounded(dashboardCost(smoke), smoke ? 90 : 180);
    log('dashboard', results.dashboard);
  }
  if (only.has('vsix')) {
    results.vsix = vsixFigures(!smoke && !process.argv.includes('--no-package'));
    log('vsix', results.vsix);
  }
  clearInterval(loadSampler);
  results.load = { ...load, endLoad1: round(os.loadavg()[0]), seconds: Math.round((Date.now() - startedAt) / 1000) };

  const day = new Date().toISOString().slice(0, 10);
  const dir = path.join('bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${day}-${os.hostname()}${smoke ? '-smoke' : ''}${onlyArg ? `-${[...only].join('-')}` : ''}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2));
  fs.writeFileSync(`${base}.md`, markdown(results, LAG_BUDGET_MS));
  console.log(markdown(results, LAG_BUDGET_MS));
  console.log(`wrote ${base}.json and ${base}.md`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
