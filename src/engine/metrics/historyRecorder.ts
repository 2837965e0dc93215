// The run's history for charts: one point per snapshot, bounded. When it reaches its limit it
// keeps every other point and samples half as often from then on, so a long run stays evenly
// spaced in flat memory. Fed snapshots, it holds no run.
import type { HistoryPoint, RunSnapshot, StageName } from '../../protocol/snapshot';

export const HISTORY_LIMIT = 600;

export class HistoryRecorder {
  private readonly history: HistoryPoint[] = [];
  private stride = 1;
  private tick = 0;
  private readonly lastBytes = new Map<StageName, number>();
  private lastBytesAt: number;

  constructor(
    private readonly limit = HISTORY_LIMIT,
    startedAt = Date.now(),
  ) {
    this.lastBytesAt = startedAt;
  }

  /** Offers a snapshot; every stride-th one becomes a point. */
  record(snapshot: RunSnapshot): void {
    if (this.tick++ % this.stride !== 0) return;
    const seconds = Math.max(0.001, (snapshot.now - this.lastBytesAt) / 1000) * this.stride;
    this.lastBytesAt = snapshot.now;
    const stages: HistoryPoint['stages'] = {};
    for (const stage of snapshot.stages) {
      if (stage.state === 'waiting' || stage.state === 'skipped') continue;
      const bytes = stage.bytesSent + stage.bytesReceived;
      stages[stage.name] = {
        p50: stage.recentLatency.p50,
        p95: stage.recentLatency.p95,
        p99: stage.recentLatency.p99,
        active: stage.connections.active,
        target: stage.connections.target,
        // A capacity search starts each step's counters from zero again: no negative rates.
        bytesPerSecond: Math.max(0, Math.round((bytes - (this.lastBytes.get(stage.name) ?? 0)) / seconds)),
        errors: Object.values(stage.errors).reduce((a, b) => a + b, 0),
        disconnects: stage.disconnects,
        // A stage's own figures, for the charts it declares.
        ...(stage.figures && stage.charts?.length ? { figures: { ...stage.figures } } : {}),
      };
      this.lastBytes.set(stage.name, bytes);
    }
    this.history.push({
      t: snapshot.now - snapshot.startedAt,
      stages,
      apiP95Ms: snapshot.api.recent?.p95Ms ?? 0,
      apiRequestsPerSecond: Math.round((snapshot.api.recent?.requestsPerSecond ?? 0) * 10) / 10,
      runnerCpuPercent: snapshot.runner.cpuPercent,
      runnerChildrenCpuPercent: snapshot.runner.children?.cpuPercent,
      runnerMachineShare: snapshot.runner.cores
        ? Math.round(((snapshot.runner.cpuPercent + (snapshot.runner.children?.cpuPercent ?? 0)) / (snapshot.runner.cores * 100)) * 1000) /
          1000
        : undefined,
      eventLoopLagMs: snapshot.runner.eventLoopLagP99Ms,
      eventLoopStalledMs: snapshot.runner.eventLoopStalledMs,
      machineCpuShare: snapshot.runner.machineCpuShare,
      deploymentHealthy: snapshot.deployment.healthy,
      deploymentCpuCores: snapshot.deployment.prometheus?.cpuCores,
      deploymentWebsockets: snapshot.deployment.prometheus?.concurrentWebsockets,
    });
    if (this.history.length > this.limit) {
      const kept = this.history.filter((_, index) => index % 2 === 0);
      this.history.splice(0, this.history.length, ...kept);
      this.stride *= 2;
    }
  }

  /** The points so far, copied. */
  points(): HistoryPoint[] {
    return this.history.map((point) => ({ ...point }));
  }
}
