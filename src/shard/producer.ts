// The shard's half: turns its run's snapshot plus its whole-run HDR histograms into shard
// messages. The interval histogram is the whole-run histogram minus the one last reported, so
// the coordinator's live percentiles count every sample exactly once whatever the shard's own
// snapshot period.
import * as hdr from 'hdr-histogram-js';
import type { RunSnapshot, StageSnapshot } from '../protocol/snapshot';
import type { WorkspaceRow } from '../protocol/workspaces';
import { SHARD_MESSAGE_VERSION, type ShardReport, type ShardResult, type ShardStageReport } from './message';

/** A run's whole-run histograms, encoded (hdr-histogram-js compressed base64, microseconds). */
export interface EncodedTotals {
  stages: Record<string, { latency: string; connect?: string; openLag?: string; latencies?: Record<string, string> }>;
  /** Keyed by endpoint class, plus `total`. */
  api: Record<string, string>;
}

export interface ShardEventLine {
  level: string;
  time: number;
  stage?: string;
  message: string;
}

/** `current − previous`, encoded; the current histogram itself when there is no previous one. */
export function intervalOf(current: string, previous: string | undefined): string {
  if (!previous) return current;
  const now = hdr.decodeFromCompressedBase64(current);
  const before = hdr.decodeFromCompressedBase64(previous);
  // hdr's subtract checks the other's maximum against the lowest value of this one's last
  // bucket (add checks its highest), so a previous total whose maximum lies in that bucket
  // (e.g. 4095 µs) throws "values that do not fit" although it fits; resizing instead is exact.
  now.autoResize = true;
  try {
    now.subtract(before);
    return hdr.encodeIntoCompressedBase64(now);
  } finally {
    now.destroy();
    before.destroy();
  }
}

function stageReport(
  stage: StageSnapshot,
  totals: EncodedTotals['stages'][string],
  previous: EncodedTotals['stages'][string] | undefined,
): ShardStageReport {
  return {
    title: stage.title,
    color: (stage as { color?: string }).color,
    plannedStartMs: stage.plannedStartMs,
    plannedEndMs: stage.plannedEndMs,
    state: stage.state,
    startedAt: stage.startedAt,
    endedAt: stage.endedAt,
    connections: { ...stage.connections },
    counters: {
      bytesSent: stage.bytesSent,
      bytesReceived: stage.bytesReceived,
      sent: stage.sent,
      completed: stage.completed,
      expected: stage.expected ?? 0,
      mismatches: stage.mismatches,
      resynced: stage.resynced ?? 0,
      disconnects: stage.disconnects,
      reconnects: stage.reconnects,
    },
    errors: { ...stage.errors },
    progress: stage.progress ? { ...stage.progress } : undefined,
    reason: stage.reason,
    latency: { total: totals.latency, interval: intervalOf(totals.latency, previous?.latency) },
    connect: totals.connect ? { total: totals.connect, interval: intervalOf(totals.connect, previous?.connect) } : undefined,
    openLag: totals.openLag ? { total: totals.openLag, interval: intervalOf(totals.openLag, previous?.openLag) } : undefined,
    latencies: totals.latencies ? { ...totals.latencies } : undefined,
    figures: stage.figures ? { ...stage.figures } : undefined,
    ramp: stage.ramp ? { ...stage.ramp } : undefined,
  };
}

/** Keeps the shard's sequence number and last reported histograms between reports. */
export class ShardReporter {
  private seq = 0;
  private previous?: EncodedTotals;

  constructor(
    private readonly runId: string,
    private readonly shard: { index: number; count: number },
  ) {}

  /** `allWorkspaces`: every workspace's row, for the shard's last report (the others carry the snapshot's worst few). */
  report(
    snapshot: RunSnapshot,
    totals: EncodedTotals,
    events: ShardEventLine[] = [],
    now = Date.now(),
    allWorkspaces?: WorkspaceRow[],
  ): ShardReport {
    const previous = this.previous;
    const stages: ShardReport['stages'] = {};
    for (const stage of snapshot.stages) {
      const encoded = totals.stages[stage.name];
      if (encoded) stages[stage.name] = stageReport(stage, encoded, previous?.stages[stage.name]);
    }
    const apiClass = (name: string, figures: RunSnapshot['api']['total']) => ({
      requests: figures.requests,
      errors4xx: figures.errors4xx,
      errors5xx: figures.errors5xx,
      networkErrors: figures.networkErrors,
      latency: { total: totals.api[name], interval: intervalOf(totals.api[name], previous?.api[name]) },
    });
    const byClass: ShardReport['api']['byClass'] = {};
    for (const [name, figures] of Object.entries(snapshot.api.byClass)) if (totals.api[name]) byClass[name] = apiClass(name, figures);
    this.previous = totals;
    return {
      type: 'shard-report',
      version: SHARD_MESSAGE_VERSION,
      runId: this.runId,
      shard: { ...this.shard },
      seq: this.seq++,
      time: now,
      status: snapshot.status,
      timelineStartedAt: snapshot.timelineStartedAt,
      stages,
      api: { total: apiClass('total', snapshot.api.total), byClass },
      runner: { ...snapshot.runner },
      deployment: snapshot.deployment,
      workspaces:
        snapshot.workspaces || allWorkspaces?.length
          ? { total: allWorkspaces?.length ?? snapshot.workspaces!.total, worst: snapshot.workspaces?.worst ?? {}, rows: allWorkspaces }
          : undefined,
      events: events.length ? events.slice(-50) : undefined,
    };
  }

  result(outcome: { exitCode: number; status: string; reason?: string; cleanup: ShardResult['cleanup'] }, now = Date.now()): ShardResult {
    return {
      type: 'shard-result',
      version: SHARD_MESSAGE_VERSION,
      runId: this.runId,
      shard: { ...this.shard },
      time: now,
      exitCode: outcome.exitCode,
      status: outcome.status,
      reason: outcome.reason,
      cleanup: {
        deletedUsers: outcome.cleanup.deletedUsers,
        deletedWorkspaces: outcome.cleanup.deletedWorkspaces,
        leftovers: [...outcome.cleanup.leftovers],
      },
    };
  }
}
