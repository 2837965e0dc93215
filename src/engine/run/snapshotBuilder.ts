// Builds the complete RunSnapshot from its sources: the stages' metrics, the API metrics, the
// deployment and runner monitors, the judge's thresholds and the history. It reads sources
// through small interfaces, so a stage's figures may come from this process (StageMetrics) or
// be merged from several producers (worker threads, Kubernetes shards) that each ship counters
// and encoded HDR histograms: anything that yields a StageSnapshot is a stage source.
import type { ReferenceSnapshot } from '../../protocol/reference';
import type { WorkspacesSnapshot } from '../../protocol/workspaces';
import type {
  DeploymentSnapshot,
  HistoryPoint,
  RunnerSnapshot,
  RunSnapshot,
  RunStatus,
  StageName,
  StageSnapshot,
  ThresholdSnapshot,
  Verdict,
} from '../../protocol/snapshot';

/** One stage's figures as the snapshot shows them; StageMetrics is one. */
export interface StageSource {
  readonly name: StageName;
  /** Closes the recent-latency window (once per snapshot interval). */
  rollInterval(): void;
  snapshot(): StageSnapshot;
}

export interface ApiSource {
  rollInterval(): void;
  snapshot(): RunSnapshot['api'];
}

/** What the lifecycle decides: where the run is and how it ended. */
export interface RunState {
  status: RunStatus;
  verdict: Verdict;
  reason?: string;
  /** Why the runner, not the deployment, may explain failed latency thresholds. */
  runnerSuspect?: string;
  timelineStartedAt?: number;
  currentStage?: StageName;
}

export interface SnapshotSources {
  stages: readonly StageSource[];
  api: ApiSource;
  deployment(): DeploymentSnapshot;
  runner(): RunnerSnapshot;
  thresholds(): ThresholdSnapshot[];
  history(): HistoryPoint[];
  state(): RunState;
  /** Coder's reference figures beside the measured ones, when the run collects them. */
  reference?(): ReferenceSnapshot;
  /** The worst workspaces per stage, when there are per-workspace figures. */
  workspaces?(): WorkspacesSnapshot | undefined;
}

export interface RunIdentity {
  runId: string;
  planName: string;
  deploymentUrl: string;
  startedAt: number;
  timelineMs: number;
  slotMs: number;
  reportDir?: string;
}

export class SnapshotBuilder {
  constructor(
    private readonly identity: RunIdentity,
    private readonly sources: SnapshotSources,
  ) {}

  /** Closes every source's interval: call once per snapshot period, before build(). */
  rollInterval(): void {
    for (const stage of this.sources.stages) stage.rollInterval();
    this.sources.api.rollInterval();
  }

  build(now = Date.now()): RunSnapshot {
    const state = this.sources.state();
    return {
      schemaVersion: 1,
      runId: this.identity.runId,
      planName: this.identity.planName,
      deploymentUrl: this.identity.deploymentUrl,
      status: state.status,
      startedAt: this.identity.startedAt,
      now,
      timelineStartedAt: state.timelineStartedAt,
      timelineMs: this.identity.timelineMs,
      slotMs: this.identity.slotMs,
      currentStage: state.currentStage,
      stages: this.sources.stages.map((stage) => stage.snapshot()),
      thresholds: this.sources.thresholds(),
      api: this.sources.api.snapshot(),
      deployment: this.sources.deployment(),
      runner: this.sources.runner(),
      history: this.sources.history(),
      verdict: state.verdict,
      reason: state.reason,
      runnerSuspect: state.runnerSuspect,
      reportDir: this.identity.reportDir,
      reference: this.sources.reference?.(),
      workspaces: this.sources.workspaces?.(),
    };
  }
}
