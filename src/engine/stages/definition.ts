// What a stage is: one definition per stage, the only place that names it. The registry
// (./registry.ts) collects them; the plan schema, the threshold metrics, the snapshot's stage
// list, the timeline, prepare, pod sizing, the reference phases, worker threads and the charts
// all derive from the registered definitions.
//
// A definition is a DESCRIPTOR: plain data and cheap checks, importing nothing heavy, so that
// validating a plan (in the extension host, at activation) loads no stage code. What a stage
// does when it runs (ssh2, ws, worker threads, Chromium) is its RUNNER, `runner.ts` beside the
// descriptor, which `load()` requires only when the stage runs: `require('./runner')` inside
// load() (a require, not import(): esbuild bundles it and tsx's CommonJS hook resolves it; the
// extension bundle leaves runners out, see esbuild.mjs).
// Only `import type` here: the descriptor side stays free of the run's code.
import type { Static, TObject } from '@sinclair/typebox';
import type { CoderClient } from '../../coder/client';
import type { DeploymentConnection } from '../../coder/connection';
import type { CreateWorkspaceRequest, Workspace } from '../../coder/schemas';
import type { ChartColor } from '../../protocol/snapshot';
import type { StageMetrics } from '../metrics/stageMetrics';
import type { Plan } from '../plan/plan';
import type { PreparedUser, StageUser } from '../prepare/prepare';
import type { StagePresentation } from './presentation';

export type { StageFigure, StagePresentation, StageSummaryInput } from './presentation';

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

/**
 * What every stage declares, traffic or lifecycle: besides its id, title and colour, its
 * presentation (./presentation.ts): what its latency measures, its other latencies, its live
 * figures and their charts, and its summary sentence.
 */
export interface StageIdentity extends StagePresentation {
  id: string;
  title: string;
  color: ChartColor;
  metrics: readonly MetricFamily[];
  /** With `connect`: the default thresholds' limit on the handshake p95 and the open lag p95 (e.g. "5s"). */
  connectP95Budget?: string;
}

/**
 * What a stage creates or changes on the deployment beyond what prepare made, recorded the way
 * prepare records its own (src/engine/run/stageResources.ts): in the run's journal before each
 * request is sent and again with coderd's id, and in the run's list of what it created. The
 * run's cleanup, and `cleanup --run-id` after a crash, then find every one of them.
 */
export interface StageResources {
  /** The run's id: every name the run gives carries it. */
  readonly runId: string;
  /**
   * Creates one more workspace for `user`, as that user, named by the run (`scaletest-<runId>-<n>`,
   * so that it is the run's by name as well as by the journal).
   */
  createWorkspace(user: StageUser, organizationId: string, request: Omit<CreateWorkspaceRequest, 'name'>): Promise<Workspace>;
  /**
   * Deletes a workspace this stage created, as the run's cleanup deletes (an active build is
   * canceled first, transient failures retried): true when deleted, false when it was already
   * gone. When it throws, the workspace stays the run's: its cleanup tries again.
   */
  deleteWorkspace(workspaceId: string): Promise<boolean>;
  /**
   * Sets (a cron spec, e.g. `CRON_TZ=UTC 30 9 * * *`) or clears (null) the autostart schedule of
   * one of the run's workspaces, as `user`, recorded in the journal first. A schedule the stage
   * leaves set is cleared by the run once the timeline is over.
   */
  setAutostart(user: StageUser, workspace: { id: string; name: string }, schedule: string | null): Promise<void>;
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

/**
 * What prepare makes for each user before T0, for the stages a plan enables: `users` — a user
 * with a session token; `workspaces` — also a workspace from the plan's template, built, with its
 * agent connected (its id, name and apps known). Prepare builds workspaces only when an enabled
 * stage asks for them.
 */
export type Prepares = 'users' | 'workspaces';

/** The users a stage gets: with their ready workspace when it asked prepare for one. */
export type UserOf<P extends Prepares> = P extends 'users' ? StageUser : PreparedUser;

export interface StageSetUpContext<Settings, User extends StageUser = PreparedUser> extends StageEnvironment {
  plan: Plan;
  /** This stage's fragment of the plan: `plan.traffic.<id>`. */
  settings: Settings;
  users: User[];
  log: StageLog;
  /** Resources the stage creates or changes itself, recorded with the run's (see StageResources). */
  resources: StageResources;
  /** Set on an echo worker thread (src/engine/workers): the stage runs its share here, on this thread. */
  onWorkerThread?: boolean;
}

export interface StageRunContext<Settings, User extends StageUser = PreparedUser> extends StageSetUpContext<Settings, User> {
  metrics: StageMetrics;
  /** Epoch ms at which the stage's window ends. */
  endAt: number;
  random: () => number;
  /** Epoch ms at which the stage's tick schedule started, when it began on another thread (an echo worker). */
  scheduleStartEpochMs?: number;
}

/** A stage made ready before T0; runs in its window. */
export interface ReadyStage<Settings, User extends StageUser = PreparedUser> {
  /** How many connections (or browser users) the stage will open, for the log. */
  connections: number;
  run(context: StageRunContext<Settings, User>): Promise<void>;
  /** Releases what set-up acquired (e.g. the browser); called once the timeline is over. */
  close?(): Promise<void>;
}

/** What a stage does when it runs: loaded by the descriptor's `load()` only then. */
export interface StageRunner<Settings, User extends StageUser = PreparedUser> {
  /**
   * Called before T0 for an enabled stage (e.g. to start a browser: seconds of CPU that must
   * not land inside other stages' windows). A failure here fails only this stage, at its start.
   * Without it the stage is ready at once with one connection per user, running `run`.
   */
  setUp?(context: StageSetUpContext<Settings, User>): Promise<ReadyStage<Settings, User>>;
  /** The stage's traffic, from its window's start until `endAt`; required without `setUp`. */
  run?(context: StageRunContext<Settings, User>): Promise<void>;
}

/** What a shard's pod needs for a stage on top of an idle runner (Kubernetes requests, src/k8s/render.ts). */
export interface RunnerLoad {
  memoryMiB: number;
  milliCpu: number;
}

/**
 * Which of Coder's reference phases (src/engine/reference) a running stage puts the run in:
 * `dashboard` wins over `terminalApps` when both run.
 */
export type ReferencePhaseOfStage = 'dashboard' | 'terminalApps';

/** Settings every traffic stage has in the plan (`plan.traffic.<id>`). */
export interface TrafficSettings {
  enabled: boolean;
}

/** A traffic stage: runs in its window of the timeline (`plan.timeline.<id>`, in slots). */
export interface TrafficStageDefinition<
  Id extends string = string,
  Schema extends TObject = TObject,
  P extends Prepares = Prepares,
> extends StageIdentity {
  id: Id;
  /** TypeBox schema of `plan.traffic.<id>`; it must have a boolean `enabled`. */
  settings: Schema;
  /** Default window in slots [start, end] (the reference methodology). */
  defaultWindow: [number, number];
  /** What the stage calls its connections in the log ("connections", "browser users"). */
  connectionNoun: string;
  /** What prepare makes per user for this stage (default `workspaces`). */
  prepares?: P;
  /** Cross-field checks the schema cannot express; each problem names its field. */
  validate?(settings: Static<Schema>, plan: Plan): string[];
  /**
   * Checks of this machine, made before anything is created (e.g. that a browser is installed);
   * `chromiumPath` as configured. Returns the problem in words, or undefined.
   */
  preflight?(settings: Static<Schema>, machine: { chromiumPath?: string }): string | undefined;
  /** What `users` users of this stage (in one process) add to a runner pod's requests. */
  runnerLoad?(settings: Static<Schema>, users: number): RunnerLoad;
  /** The reference phase this stage's window puts the run in, for Coder's reference figures. */
  referencePhase?: ReferencePhaseOfStage;
  /**
   * Its users may run on worker threads (src/engine/workers): a worker loads the stage through
   * the registry and runs its runner with `onWorkerThread` set.
   */
  runsOnWorkers?: boolean;
  /**
   * For a stage registered at run time (not built in) that runs on workers: the module that
   * exports this definition, which a worker thread loads to register the stage there too.
   */
  module?: string;
  /**
   * Pass criteria of this stage that a plan without `thresholds` gets while the stage is enabled,
   * beside those its metric families imply (e.g. `morning_rush.latency.p95 < 600s`).
   */
  defaultThresholds?: readonly string[];
  /** Loads the runner (`require('./runner')` in the function, so descriptors stay light). */
  load(): Promise<StageRunner<Static<Schema>, UserOf<P>>>;
}

/** Keeps the literal id and the schema's static type, so the Plan type knows each stage's settings. */
export function defineTrafficStage<Id extends string, Schema extends TObject, P extends Prepares = 'workspaces'>(
  definition: TrafficStageDefinition<Id, Schema, P>,
): TrafficStageDefinition<Id, Schema, P> {
  return definition;
}
