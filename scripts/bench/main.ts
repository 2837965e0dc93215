// The benchmarks behind `npm run bench` (bundled and run by scripts/bench.mjs). Every loop is
// bounded in count and time.
import * as fs from 'fs';
import * as path from 'path';
import { defaultPlan } from '../../src/engine/plan';
import { StageMetrics } from '../../src/engine/metrics';
import { startRun } from '../../src/engine/run';
import { evaluateThreshold, parseThreshold } from '../../src/engine/thresholds';
import { STAGE_TITLES, type RunSnapshot, type StageName } from '../../src/protocol/snapshot';
import { startSimDeployment } from '../../src/sim';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function heapMiB(): number {
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}

/** Memory of the latency histograms stays flat however many samples a long run records. */
function histogramMemory(): Record<string, number> {
  const metrics = new StageMetrics('pty', 'Web terminal');
  const before = heapMiB();
  const samples: Record<string, number> = {};
  let recorded = 0;
  for (const target of [1e5, 1e6, 5e6]) {
    for (; recorded < target; recorded++) metrics.latency.record(0.2 + (recorded % 5000) * 0.37);
    samples[`heapDeltaMiBAfter${target}`] = Math.round((heapMiB() - before) * 100) / 100;
  }
  return { ...samples, p99AfterAll: metrics.latency.summary().p99 };
}

/** Cost of a complete snapshot: six busy stages summarised and the default thresholds evaluated. */
function snapshotCost(): Record<string, number> {
  const stages = (Object.keys(STAGE_TITLES) as StageName[]).map((name) => {
    const metrics = new StageMetrics(name, STAGE_TITLES[name]);
    for (let i = 0; i < 100_000; i++) metrics.latency.record(1 + (i % 997));
    return metrics;
  });
  const thresholds = defaultPlan().thresholds.map((t) => parseThreshold(t.expression));
  const iterations = 500;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    // A second of traffic between snapshots (200 round trips per stage), as in a live run.
    for (const metrics of stages) for (let v = 0; v < 200; v++) metrics.latency.record(1 + ((i * 200 + v) % 997));
    const api = { requests: 1, errors4xx: 0, errors5xx: 0, networkErrors: 0, latency: stages[0].latency.summary() };
    const snapshot = {
      stages: stages.map((s) => s.snapshot()),
      api: { total: api, byClass: {} },
      deployment: { url: '', healthy: true, restarts: 0 },
      runner: { cpuPercent: 0, rssBytes: 0, heapUsedBytes: 0, eventLoopLagP99Ms: 0, overloaded: false },
      history: [],
    } as unknown as RunSnapshot;
    for (const threshold of thresholds) evaluateThreshold(threshold, snapshot, false);
    JSON.stringify(snapshot);
  }
  return { microsecondsPerSnapshot: Math.round(((performance.now() - started) / iterations) * 1000) };
}

/** Echo ticks per second the runner sustains against the simulated deployment on loopback. */
async function echoThroughput(stage: 'pty' | 'apps', users: number, tickIntervalMs: number, seconds: number): Promise<Record<string, number>> {
  const sim = await startSimDeployment({ buildDurationMs: 200, agentConnectDelayMs: 100 });
  try {
    const plan = defaultPlan();
    plan.users = users;
    plan.concurrency = { prepare: 20, cleanup: 20 };
    plan.timeline.slotSeconds = seconds;
    for (const other of ['ssh', 'pty', 'apps', 'dashboard'] as const) plan.traffic[other].enabled = other === stage;
    plan.timeline[stage] = [0, 1];
    plan.traffic[stage].tickIntervalMs = tickIntervalMs;
    plan.thresholds = [];
    const outDir = path.join('test-results', 'bench-runs');
    const result = await startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir }).done;
    const s = result.snapshot.stages.find((x) => x.name === stage)!;
    const runner = result.snapshot.history.reduce((max, p) => Math.max(max, p.runnerCpuPercent), 0);
    return {
      users,
      tickIntervalMs,
      targetTicksPerSecond: (users * 1000) / tickIntervalMs,
      achievedTicksPerSecond: Math.round(s.completed / seconds),
      p50Ms: s.latency.p50,
      p95Ms: s.latency.p95,
      p99Ms: s.latency.p99,
      mismatches: s.mismatches,
      peakRunnerCpuPercent: runner,
    };
  } finally {
    await sim.close();
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cpus: require('os').cpus().length };
  results.histogramMemory = histogramMemory();
  console.log('histogram memory (MiB of heap growth vs samples):', results.histogramMemory);
  results.snapshotCost = snapshotCost();
  console.log('snapshot cost:', results.snapshotCost);
  results.echo = [];
  for (const [stage, users, interval] of [['pty', 20, 100], ['pty', 50, 20], ['apps', 50, 20]] as const) {
    const figures = await echoThroughput(stage, users, interval, 5);
    (results.echo as unknown[]).push({ stage, ...figures });
    console.log(`${stage} echo:`, figures);
  }
  fs.mkdirSync('test-results', { recursive: true });
  fs.writeFileSync(path.join('test-results', 'bench-results.json'), JSON.stringify(results, null, 2));
  console.log('wrote test-results/bench-results.json');
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
