// What startRun takes and gives back: its options (connection, outputs, shard assignment) and
// the handle of a started run.
import type { DeploymentConnection } from '../../coder/connection';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { WorkspaceRow } from '../../protocol/workspaces';
import type { RunEvent, RunResult } from './outcome';
import type { Plan } from '../plan/plan';
import type { RunSink } from '../outputs/sinks';

export interface StartRunOptions {
  /** The pre-run check this run was started after (or that it was skipped), for the report. */
  preRunCheck?: PreRunCheckRecord;
  /** A validated Plan or plan JSON (validated here; throws PlanError when invalid). */
  plan: Plan | unknown;
  connection: DeploymentConnection;
  /** Reports go to `<outDir>/<runId>/`. */
  outDir: string;
  signal?: AbortSignal;
  /** Cuts cleanup short (e.g. a second Ctrl-C): no new deletions, no more waiting; the rest is reported as left behind. */
  cleanupSignal?: AbortSignal;
  /** Shorthand for a sink that only takes events. */
  log?: (event: RunEvent) => void;
  /** Further outputs (see ./sinks.ts); the report writer is always one. */
  sinks?: RunSink[];
  chromiumPath?: string;
  coderBinaryPath?: string;
  cacheDir?: string;
  /**
   * Child processes of this process that are not the runner's own (e.g. a simulated deployment
   * it forked): left out of the runner's CPU and memory figures with their descendants.
   */
  foreignProcessPids?: number[];
  /** Snapshot period (ms); 1000 unless a test needs it faster. */
  snapshotIntervalMs?: number;
  /** One shard of a sharded run (src/shard): its share of the users, the shared run id, the agreed traffic start. */
  shard?: ShardAssignment;
}

export interface ShardAssignment {
  index: number;
  count: number;
  /** Shared by every shard: resource names carry it. */
  runId: string;
  /** Epoch ms of traffic T0 agreed by the coordinator; a shard ready late joins the timeline where it is. */
  startAt?: number;
}

export interface RunHandle {
  runId: string;
  subscribe(listener: (snapshot: RunSnapshot) => void): () => void;
  /** Adds an output; returns a function that removes it. */
  addSink(sink: RunSink): () => void;
  latest(): RunSnapshot;
  abort(reason?: string): void;
  /** Whole-run HDR histograms, encoded (what a shard ships to its coordinator). */
  histograms(): {
    stages: Record<string, { latency: string; connect?: string; openLag?: string; latencies?: Record<string, string> }>;
    api: Record<string, string>;
  };
  /** Every workspace's figures so far, in user order (report.json's `workspaces`, /metrics). */
  workspaces(): WorkspaceRow[];
  done: Promise<RunResult>;
}

/** What report.json says about the pre-run check: its lines, or that it was skipped (`--skip-check`). */
export type PreRunCheckRecord =
  { skipped: true } | { skipped: false; passed: boolean; lines: Array<{ id: string; status: string; detail: string }> };
