// A hand-built run snapshot for the pure VS Code pieces and the webview: two traffic stages
// with history, one passing and one failing threshold.
import type { LatencySummary, RunSnapshot, StageName, StageSnapshot } from '../../src/protocol/snapshot';
import { stageTitle } from '../../src/engine/stages/registry';

export function latency(p95: number, count = 100): LatencySummary {
  return { count, min: p95 / 4, mean: p95 / 2, p50: p95 / 2, p90: p95 * 0.9, p95, p99: p95 * 1.5, max: p95 * 2 };
}

function stage(name: StageName, overrides: Partial<StageSnapshot> = {}): StageSnapshot {
  return {
    name,
    title: stageTitle(name),
    state: 'done',
    connections: { active: 0, target: 2 },
    latency: latency(20),
    recentLatency: latency(20, 10),
    bytesSent: 2048,
    bytesReceived: 2048,
    sent: 100,
    completed: 100,
    mismatches: 0,
    disconnects: 0,
    reconnects: 0,
    errors: {},
    verdict: 'pass',
    ...overrides,
  };
}

export function sampleSnapshot(overrides: Partial<RunSnapshot> = {}): RunSnapshot {
  const startedAt = Date.UTC(2026, 10, 27, 21, 0, 0);
  const history = Array.from({ length: 6 }, (_, i) => ({
    t: (i + 1) * 1000,
    stages: {
      ssh: { p50: 10, p95: 20 + i, p99: 30, active: 2, target: 2, bytesPerSecond: 20480, errors: 0, disconnects: 0 },
      ...(i >= 2
        ? { pty: { p50: 12, p95: 40 + i, p99: 60, active: 2, target: 2, bytesPerSecond: 20480, errors: i - 2, disconnects: 0 } }
        : {}),
    },
    apiP95Ms: 15,
    apiRequestsPerSecond: 4,
    runnerCpuPercent: 20,
    eventLoopLagMs: 3,
    deploymentHealthy: true,
  }));
  return {
    schemaVersion: 1,
    runId: 'st1abc',
    planName: 'smoke',
    deploymentUrl: 'http://127.0.0.1:4000',
    status: 'running',
    startedAt,
    now: startedAt + 6000,
    timelineStartedAt: startedAt + 1000,
    timelineMs: 8000,
    slotMs: 2000,
    currentStage: 'pty',
    stages: [
      stage('prepare', { progress: { done: 2, total: 2, failed: 0 }, startedAt, endedAt: startedAt + 1000, latency: latency(300, 2) }),
      stage('ssh', {
        plannedStartMs: 0,
        plannedEndMs: 6000,
        startedAt: startedAt + 1000,
        state: 'running',
        verdict: 'pending',
        connections: { active: 2, target: 2 },
      }),
      stage('pty', {
        plannedStartMs: 2000,
        plannedEndMs: 8000,
        startedAt: startedAt + 3000,
        state: 'running',
        verdict: 'pending',
        connections: { active: 1, target: 2 },
        latency: latency(450),
        recentLatency: latency(500, 10),
        errors: { 'echo timeout': 3 },
        disconnects: 1,
      }),
      stage('apps', { state: 'skipped', verdict: 'skipped', latency: latency(0, 0), recentLatency: latency(0, 0) }),
      stage('dashboard', { state: 'skipped', verdict: 'skipped', latency: latency(0, 0), recentLatency: latency(0, 0) }),
      stage('cleanup', { state: 'waiting', verdict: 'pending', latency: latency(0, 0), recentLatency: latency(0, 0) }),
    ],
    thresholds: [
      { expression: 'ssh.rtt.p95 < 300ms', metric: 'ssh.rtt.p95', observed: 20, observedText: '20ms', verdict: 'pass', abortOnFail: false },
      {
        expression: 'pty.disconnects == 0',
        metric: 'pty.disconnects',
        observed: 1,
        observedText: '1',
        verdict: 'fail',
        abortOnFail: false,
        reason: '1 disconnect',
      },
      {
        expression: 'api.errors_5xx == 0',
        metric: 'api.errors_5xx',
        observed: null,
        observedText: '',
        verdict: 'pending',
        abortOnFail: true,
      },
    ],
    api: {
      total: { requests: 40, errors4xx: 0, errors5xx: 0, networkErrors: 0, latency: latency(15, 40) },
      byClass: {},
    },
    deployment: { url: 'http://127.0.0.1:4000', version: 'v2.20.0', healthy: true, restarts: 0, healthLatencyMs: 2 },
    runner: { cpuPercent: 20, rssBytes: 100 * 1024 * 1024, heapUsedBytes: 50 * 1024 * 1024, eventLoopLagP99Ms: 3, overloaded: false },
    history,
    verdict: 'pending',
    ...overrides,
  };
}
