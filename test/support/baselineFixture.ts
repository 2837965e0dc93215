// Synthetic runs for baseline tests: reproducible latency histograms, a snapshot with a web
// terminal stage, and finished-run reports written where a results folder would hold them.
import * as fs from 'fs';
import * as path from 'path';
import { LatencyRecorder, StageMetrics } from '../../src/engine/metrics/stageMetrics';
import { defaultPlan } from '../../src/engine/plan/plan';
import { seededRandom } from '../../src/engine/common/random';
import type { RunReport } from '../../src/engine/outputs/report/report';
import type { RunSnapshot } from '../../src/protocol/snapshot';

/** Round trips around `medianMs` with a long right tail (log-normal), reproducible by seed. */
export function histogram(seed: number, count: number, medianMs: number, spread = 0.35): string {
  const random = seededRandom(seed);
  const recorder = new LatencyRecorder();
  for (let i = 0; i < count; i++) {
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    recorder.record(medianMs * Math.exp(spread * gaussian));
  }
  return recorder.encode();
}

export function snapshotWithPty(latencies: number[], extra: { errors5xx?: number } = {}): RunSnapshot {
  const pty = new StageMetrics('pty', 'Web terminal');
  pty.state = 'done';
  for (const ms of latencies) pty.latency.record(ms);
  const api = { requests: 100, errors4xx: 0, errors5xx: extra.errors5xx ?? 0, networkErrors: 0, latency: pty.latency.summary() };
  return {
    runId: 'stnow',
    stages: [pty.snapshot()],
    api: { total: api, byClass: {} },
    deployment: { url: 'http://x', healthy: true, restarts: 0 },
    runner: { cpuPercent: 1, rssBytes: 0, heapUsedBytes: 0, eventLoopLagP99Ms: 1, overloaded: false },
  } as unknown as RunSnapshot;
}

export function fakeReport(plan = defaultPlan(), runId = 'stbase1', latencies = [100, 200, 200], ptyMedianMs = 200): RunReport {
  const snapshot = {
    ...snapshotWithPty(latencies),
    runId,
    planName: plan.name,
    status: 'finished',
    startedAt: 1000,
    deploymentUrl: 'http://x',
    history: [{ t: 1 }],
  };
  return {
    schemaVersion: 1,
    runId,
    planName: plan.name,
    plan,
    verdict: 'pass',
    status: 'finished',
    startedAt: 1000,
    deploymentUrl: 'http://x',
    histograms: { stages: { pty: histogram(runId.length, 2000, ptyMedianMs) }, api: { total: histogram(2, 200, 20) } },
    snapshot,
  } as unknown as RunReport;
}

export function writeReport(out: string, report: RunReport): string {
  const dir = path.join(out, report.runId);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'report.json'), JSON.stringify(report));
  return dir;
}
