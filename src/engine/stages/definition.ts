// What a stage is: one StageDefinition per stage, the only place that names it. The registry
// (./registry.ts) collects them; the plan schema, the threshold metrics, the snapshot's stage
// list, the timeline and the charts all derive from the registered definitions.
import type { TObject } from '@sinclair/typebox';
import type { CoderClient } from '../../coder/client';
import type { DeploymentConnection } from '../../coder/connection';
import type { ChartColor } from '../../protocol/snapshot';
import type { StageMetrics } from '../metrics/stageMetrics';
import type { Plan } from '../plan/plan';
import type { PreparedUser } from '../prepare/prepare';

export type StageLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * Metric families a stage exposes to thresholds, as `<stage id>.<family>…`:
 * - `latency`: `<id>.<rtt|latency>.<stat>` from the stage's latency histogram;
 * - `connect`: `<id>.connect.<stat>`, connection handshakes (open → ready), and
 *   `<id>.open_lag.<stat>`, how much later than its planned ramp time each was ready; echo stages;
 * - `counters`: `<id>.<disconnects|reconnects|errors|mismatches>` (a `%` of connections or sends);
 * - `throughput`: `<id>.throughput`, completed / scheduled ticks (echo stages);
 * - `failures`: `<id>.failures`, failed items of the stage's progress (prepare, cleanup).
 */
export type MetricFamily = 'latency' | 'connect' | 'counters' | 'throughput' | 'failures';

/** What every stage declares, traffic or lifecycle. */
export interface StageIdentity {
  id: string;
  title: string;
  color: ChartColor;
  metrics: readonly MetricFamily[];
  /** What the latency histogram measures, for the metric catalogue (e.g. "echo round trip"). */
  latencyMeaning?: string;
  /** With `connect`: the default thresholds' limit on the handshake p95 and the open lag p95 (e.g. "5s"). */
  connectP95Budget?: string;
}

/** Resolved once per run, shared by every stage. */
export interface StageEnvironment {
  connection: DeploymentConnection;
  /** The owner's client (rate-limit bypass): for lookups a stage needs, not for its traffic. */
  owner: CoderClient;
  signal: AbortSignal;
  chromiumPath?: string;
  coderBinaryPath?: string;
  cacheDir?: string;
}

export interface StageSetUpContext<Settings> extends StageEnvironment {
  plan: Plan;
  /** This stage's fragment of the plan: `plan.traffic.<id>`. */
  settings: Settings;
  users: PreparedUser[];
  log: StageLog;
}

export interface StageRunContext<Settings> extends StageSetUpContext<Settings> {
  metrics: StageMetrics;
  /** Epoch ms at which the stage's window ends. */
  endAt: number;
  random: () => number;
  /** Epoch ms at which the stage's tick schedule started, when it began on another thread (an echo worker). */
  scheduleStartEpochMs?: number;
}

/** A stage made ready before T0; runs in its window. */
export interface ReadyStage<Settings> {
  /** How many connections (or browser users) the stage will open, for the log. */
  connections: number;
  run(context: StageRunContext<Settings>): Promise<void>;
  /** Releases what set-up acquired (e.g. the browser); called once the timeline is over. */
  close?(): Promise<void>;
}

/** Settings every traffic stage has in the plan (`plan.traffic.<id>`). */
export interface TrafficSettings {
  enabled: boolean;
}

/** A traffic stage: runs in its window of the timeline (`plan.timeline.<id>`, in slots). */
export interface TrafficStageDefinition<Id extends string = string, Schema extends TObject = TObject> extends StageIdentity {
  id: Id;
  /** TypeBox schema of `plan.traffic.<id>`; it must have a boolean `enabled`. */
  settings: Schema;
  /** Default window in slots [start, end] (the reference methodology). */
  defaultWindow: [number, number];
  /** What the stage calls its connections in the log ("connections", "browser users"). */
  connectionNoun: string;
  /** Cross-field checks the schema cannot express; each problem names its field. */
  validate?(settings: Schema['static'], plan: Plan): string[];
  /**
   * Called before T0 for an enabled stage (e.g. to start a browser: seconds of CPU that must
   * not land inside other stages' windows). A failure here fails only this stage, at its start.
   * Without it the stage is ready at once with one connection per user, running `run`.
   */
  setUp?(context: StageSetUpContext<Schema['static']>): Promise<ReadyStage<Schema['static']>>;
  /** Its connections may run on echo worker threads (src/engine/workers), which set it up and run it themselves. */
  runsOnWorkers?: boolean;
  /** The stage's traffic, from its window's start until `endAt`; required without `setUp`. */
  run?(context: StageRunContext<Schema['static']>): Promise<void>;
}

/** Keeps the literal id and the schema's static type, so the Plan type knows each stage's settings. */
export function defineTrafficStage<Id extends string, Schema extends TObject>(
  definition: TrafficStageDefinition<Id, Schema>,
): TrafficStageDefinition<Id, Schema> {
  return definition;
}
