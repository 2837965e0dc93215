// A staged scale-test run: verify access → prepare → traffic timeline (SSH T0–T3, web
// terminal T1–T4, apps T2–T5, dashboard T3–T6 by default) → cleanup per strategy (also on
// failure and abort). This file is the lifecycle only; startRun wires it to its parts: the
// timeline (./timeline.ts), the threshold judge (./judge.ts), the history recorder
// (./history.ts), the snapshot builder (./snapshotBuilder.ts) and the sinks (./sinks.ts) that
// receive snapshots, events and the result — the report writer (./report.ts) is one of them.
import { setMaxListeners } from 'events';
import * as path from 'path';
import { CoderClient, type RequestInfo } from '../../coder/client';
import { RateLimitGate } from '../../coder/rateLimitGate';
import type { RunSnapshot, RunStatus, StageName, Verdict } from '../../protocol/snapshot';
import { ApiMetrics } from '../metrics/apiMetrics';
import { baselineForRun, type BaselineLookup } from '../baseline/store';
import { cleanUpAfterRun, type CleanupOutcome } from '../cleanup/cleanup';
import { HistoryRecorder } from '../metrics/historyRecorder';
import { ReferenceCollector, referenceSettingsOf } from '../reference/collector';
import { ThresholdJudge } from '../judge/judge';
import { decideOutcome } from '../judge/outcome';
import { StageMetrics } from '../metrics/stageMetrics';
import { RunWorkspaces } from '../metrics/workspaceTally';
import { DeploymentMonitor, RunnerMonitor } from '../monitors/monitors';
import { newRunId } from './naming';
import { ResourceJournal } from './journal';
import { RunResources } from './stageResources';
import {
  DeploymentAccessError,
  verifyOwnerAccess,
  type AccessProblemKind,
  type RunEvent,
  type RunEventCode,
  type RunResult,
} from './outcome';
import { PlanError, stageWindowMs, timelineMs, validatePlan, type Plan } from '../plan/plan';
import { PlanMismatchError, UserPool, type CreatedResources, type StageUser } from '../prepare/prepare';
import { seededRandom } from '../common/random';
import { reportSink } from '../outputs/report/report';
import { CapacitySearch, type SearchHost } from '../search/capacitySearch';
import type { RunHandle, StartRunOptions } from './options';
import { EventLog, SinkSet, type RunArtifacts } from '../outputs/sinks';
import { SnapshotBuilder } from './snapshotBuilder';
import { allStages, findTrafficStage, trafficStages } from '../stages/registry';
import { runTimeline } from './timeline';

export { classifyAccessError, DeploymentAccessError, EXIT_CODES, type ExitReason, type RunEvent, type RunResult } from './outcome';

export type { RunHandle, ShardAssignment, StartRunOptions } from './options';

export function startRun(options: StartRunOptions): RunHandle {
  const plan = validatePlan(options.plan);
  if (plan.search && options.shard)
    throw new PlanError(['search: a capacity search runs in one runner; run it without --shards / --shard']);
  const runId = options.shard?.runId ?? newRunId(plan.runIdPrefix);
  const run = new Run(plan, runId, options);
  if (options.log) run.sinks.add({ event: options.log });
  for (const sink of options.sinks ?? []) run.sinks.add(sink);
  run.sinks.add(reportSink(run.reportDir, (level, message) => run.log(level, message)));
  return {
    runId,
    subscribe: (listener) => run.sinks.add({ snapshot: listener }),
    addSink: (sink) => run.sinks.add(sink),
    latest: () => run.snapshot(),
    abort: (reason) => run.abort(reason ?? 'aborted by the user', true),
    histograms: () => run.histograms(),
    workspaces: () => run.workspaces.rows(),
    done: run.execute(),
  };
}

/** What a capacity-search step is measured and judged with (its snapshot shows them). */
interface StepMeters {
  stages: StageMetrics[];
  api: ApiMetrics;
  judge: ThresholdJudge;
  t0?: number;
}

class Run {
  readonly sinks: SinkSet;
  readonly builder: SnapshotBuilder;
  readonly reportDir: string;
  private readonly controller = new AbortController();
  /** Replaced in place for each capacity-search step (the snapshot builder reads this array). */
  private readonly stages: StageMetrics[];
  /** Renewed, with the judge, for each capacity-search step: every step is judged on its own. */
  private api = new ApiMetrics();
  private readonly onRequest = (info: RequestInfo) => this.api.onRequest(info);
  private readonly runner: RunnerMonitor;
  private judge: ThresholdJudge;
  /** The plan's baseline run (docs/baselines.md), read once at the start. */
  private readonly baseline: BaselineLookup;
  private readonly search?: CapacitySearch;
  private readonly history = new HistoryRecorder();
  /** Which workspace? Every stage's per-workspace figures (the array is replaced in place by search steps). */
  readonly workspaces = new RunWorkspaces(() => this.stages);
  private readonly reference: ReferenceCollector;
  private readonly events = new EventLog();
  private readonly random: () => number;
  private monitor?: DeploymentMonitor;
  /** What stages create or change themselves; set once the journal is open. */
  private resources?: RunResources;
  private timelineStartedAt?: number;
  private status: RunStatus = 'starting';
  private verdict: Verdict = 'pending';
  /** Live: why the run is stopping (the abort or the error); at the end, the outcome's reason. */
  private reason?: string;
  /** Why the run was aborted (a signal, a threshold). */
  private abortReason?: string;
  /** The error the run stopped on, unless it only followed from an abort. */
  private failure?: string;
  private runnerSuspect?: string;
  private userAborted = false;
  /** The plan names an organization or template the deployment lacks (exit 2, like a bad plan). */
  private planMismatch = false;
  /** Set when the deployment refused or could not be reached: nothing was created. */
  private accessProblem?: AccessProblemKind;
  /** Set once cleanup is over: a later abort changes nothing. */
  private settled = false;
  private reportingSinkError = false;
  private readonly detachSignal: () => void;

  constructor(
    private readonly plan: Plan,
    private readonly runId: string,
    private readonly options: StartRunOptions,
  ) {
    this.random = seededRandom(plan.seed);
    this.runner = new RunnerMonitor({ foreignPids: () => options.foreignProcessPids ?? [] });
    // Every connection of every stage listens for the one abort signal.
    setMaxListeners(0, this.controller.signal);
    this.reportDir = path.join(options.outDir, runId);
    this.sinks = new SinkSet((error) => this.sinkFailed(error));
    this.sinks.add(this.events);
    this.stages = allStages().map((stage) => this.newStageMetrics(stage.id));
    this.baseline = baselineForRun(options.outDir, plan);
    this.judge = new ThresholdJudge(plan.thresholds, this.baseline);
    if (plan.search) this.search = new CapacitySearch(plan, plan.search);
    this.reference = new ReferenceCollector(referenceSettingsOf(plan));
    this.builder = new SnapshotBuilder(
      {
        runId,
        planName: plan.name,
        deploymentUrl: options.connection.url,
        startedAt: Date.now(),
        timelineMs: timelineMs(plan),
        slotMs: plan.timeline.slotSeconds * 1000,
        reportDir: this.reportDir,
      },
      {
        stages: this.stages,
        api: { rollInterval: () => this.api.rollInterval(), snapshot: () => this.api.snapshot() },
        deployment: () => this.monitor?.snapshot() ?? { url: options.connection.url, healthy: false, restarts: 0 },
        runner: () => this.runner.latest(),
        thresholds: () => this.judge.states(),
        history: () => this.history.points(),
        reference: () => this.reference.view(),
        workspaces: () => this.workspaces.summary(),
        state: () => ({
          status: this.status,
          verdict: this.verdict,
          reason: this.reason,
          runnerSuspect: this.runnerSuspect,
          timelineStartedAt: this.timelineStartedAt,
          currentStage: this.currentStage(),
        }),
      },
    );
    // A signal aborted before the start raises no event: check it here.
    // A string reason (e.g. "stopped by SIGTERM") names the cause in the verdict and report.
    const onAbort = () => this.abort(typeof options.signal?.reason === 'string' ? options.signal.reason : 'aborted by the user', true);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    this.detachSignal = () => options.signal?.removeEventListener('abort', onAbort);
  }

  abort(reason: string, byUser: boolean): void {
    if (this.controller.signal.aborted || this.settled) return;
    this.userAborted = byUser;
    this.reason = this.abortReason = reason;
    this.log('warn', `aborting: ${reason}`);
    this.controller.abort();
  }

  log(level: RunEvent['level'], message: string, stage?: StageName, code?: RunEventCode): void {
    this.sinks.event({ level, time: Date.now(), stage, message, ...(code ? { code } : {}) });
  }

  private sinkFailed(error: Error): void {
    if (this.reportingSinkError) return;
    this.reportingSinkError = true;
    try {
      this.log('warn', `an output failed: ${error.message}`);
    } finally {
      this.reportingSinkError = false;
    }
  }

  private newStageMetrics(id: StageName): StageMetrics {
    const stage = allStages().find((candidate) => candidate.id === id)!;
    const planned = findTrafficStage(id) ? stageWindowMs(this.plan, id) : undefined;
    return new StageMetrics(id, stage.title, planned, stage.color, stage);
  }

  /** The snapshot every face gets: the builder's, with the capacity search when there is one. */
  snapshot(): RunSnapshot {
    const snapshot = this.builder.build();
    if (this.search) snapshot.search = this.search.snapshot();
    return snapshot;
  }

  private stage(name: StageName): StageMetrics {
    return this.stages.find((stage) => stage.name === name)!;
  }

  private currentStage(): StageName | undefined {
    if (this.status === 'preparing') return 'prepare';
    if (this.status === 'cleaning') return 'cleanup';
    return trafficStages().find((stage) => this.stage(stage.id).state === 'running')?.id;
  }

  async execute(): Promise<RunResult> {
    // One gate for every client of the run: before coderd keyed its limits by user, all of the
    // runner's requests to a path shared one bucket (docs/fidelity.md, rate limits).
    const rateLimits = new RateLimitGate();
    const owner = new CoderClient(this.options.connection, { bypassRateLimit: true, onRequest: this.onRequest, rateLimits });
    const monitorClient = new CoderClient(this.options.connection, { retry: { retries: 0 }, timeoutMs: 3000 });
    const created: CreatedResources = { users: new Map(), workspaces: new Map() };
    let journal: ResourceJournal | undefined;
    let cleanup: CleanupOutcome = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] };
    this.runner.start();
    const ticker = setInterval(() => this.tick(), this.options.snapshotIntervalMs ?? 1000);
    const load = this.plan.search
      ? `a capacity search from ${this.plan.search.from} to ${this.plan.search.to} users`
      : `${this.plan.users} users`;
    this.log('info', `run ${this.runId} of "${this.plan.name}" against ${this.options.connection.url}: ${load}`);
    try {
      const ownerOrgs = await this.checkAccess();
      // Before anything is created: a run that cannot keep its journal creates nothing.
      journal = await ResourceJournal.open(this.reportDir, { runId: this.runId, url: this.options.connection.url });
      this.resources = new RunResources({
        runId: this.runId,
        users: this.plan.users,
        owner,
        created,
        journal,
        deleteTimeoutMs: this.plan.timeouts.cleanupSeconds * 1000,
        log: (level, message, stage) => this.log(level, message, stage),
      });
      this.monitor = new DeploymentMonitor(
        monitorClient,
        this.options.connection.url,
        this.plan.deployment.prometheusUrl,
        (why) => this.log('error', `deployment restart detected: ${why}`),
        { ...this.plan.deployment, runnerOverloadedSince: (since) => this.runner.overloadedSince(since) },
      );
      this.monitor.start();
      const pool = new UserPool({
        runId: this.runId,
        owner,
        ownerOrganizationIds: ownerOrgs,
        userClient: (token) => new CoderClient({ ...this.options.connection, token }, { onRequest: this.onRequest, rateLimits }),
        created,
        journal,
        metrics: this.stage('prepare'),
        signal: this.controller.signal,
        log: (level, message) => this.log(level, message, 'prepare'),
        shard: this.options.shard,
        onPrepare: () => (this.status = 'preparing'),
      });
      if (this.search) {
        await this.search.run(this.searchHost(owner, pool));
      } else {
        const users = await pool.grow(this.plan);
        if (!this.controller.signal.aborted) await this.traffic(this.plan, users, owner, this.controller.signal);
      }
    } catch (error) {
      // An error that only followed from the abort (a stage cut short) is not the run's failure.
      if (!this.controller.signal.aborted || !this.reason) this.reason = this.failure = (error as Error).message;
      this.planMismatch = error instanceof PlanMismatchError;
      this.status = 'error';
      this.log('error', (error as Error).message);
    } finally {
      for (const stage of this.stages) if (stage.name !== 'cleanup' && stage.state === 'waiting') stage.state = 'skipped';
      await this.resources?.clearLeftSchedules();
      // Snapshots keep coming during cleanup, so its progress shows live.
      cleanup = await this.cleanup(owner, created, journal);
      await journal?.close();
      // A long-lived caller signal must not keep this run alive, nor abort it after the fact.
      this.settled = true;
      this.detachSignal();
      clearInterval(ticker);
      this.monitor?.stop();
      this.runner.stop();
      owner.close();
      monitorClient.close();
    }
    const result = this.finish(cleanup);
    await this.sinks.finish(result, this.artifacts());
    this.sinks.snapshot(result.snapshot);
    return result;
  }

  private async checkAccess(): Promise<string[]> {
    return verifyOwnerAccess(this.options.connection, this.onRequest, (warning) => this.log('warn', warning)).catch(
      (problem: DeploymentAccessError) => {
        this.accessProblem = problem.kind;
        throw problem;
      },
    );
  }

  private async traffic(plan: Plan, users: StageUser[], owner: CoderClient, signal: AbortSignal): Promise<void> {
    await runTimeline({
      plan,
      users,
      environment: {
        connection: this.options.connection,
        owner,
        signal,
        chromiumPath: this.options.chromiumPath,
        coderBinaryPath: this.options.coderBinaryPath,
        cacheDir: this.options.cacheDir,
      },
      metricsOf: (id) => this.stage(id),
      resourcesOf: (id) => this.resources!.forStage(id),
      random: this.random,
      startAt: this.options.shard?.startAt,
      log: (level, message, stage) => this.log(level, message, stage),
      onStart: (t0) => {
        this.status = 'running';
        this.timelineStartedAt = t0;
      },
    });
  }

  /** What a capacity-search step borrows from the run: fresh meters, the pool, the timeline, the judge. */
  private searchHost(owner: CoderClient, pool: UserPool): SearchHost {
    const show = (meters: StepMeters) => {
      for (const metrics of meters.stages) this.stages.splice(this.stages.indexOf(this.stage(metrics.name)), 1, metrics);
      [this.api, this.judge, this.timelineStartedAt] = [meters.api, meters.judge, meters.t0];
    };
    return {
      signal: this.controller.signal,
      beginStep: () =>
        show({
          stages: trafficStages().map((stage) => this.newStageMetrics(stage.id)),
          api: new ApiMetrics(),
          judge: new ThresholdJudge(this.plan.thresholds, this.baseline),
        }),
      saveStep: (): StepMeters => ({
        stages: trafficStages().map((stage) => this.stage(stage.id)),
        api: this.api,
        judge: this.judge,
        t0: this.timelineStartedAt,
      }),
      showStep: (saved) => show(saved as StepMeters),
      grow: (plan) => pool.grow(plan),
      runTraffic: (plan, users, signal) => this.traffic(plan, users, owner, signal),
      judgeStep: () => {
        const snapshot = this.snapshot();
        this.judge.evaluate(snapshot, { final: true, trafficPhase: false });
        snapshot.thresholds = this.judge.states();
        return snapshot;
      },
      log: (level, message) => this.log(level, message),
    };
  }

  private cleanup(owner: CoderClient, created: CreatedResources, journal: ResourceJournal | undefined): Promise<CleanupOutcome> {
    return cleanUpAfterRun({
      journal,
      plan: this.plan,
      runId: this.runId,
      owner,
      created,
      failing:
        this.failure !== undefined || this.controller.signal.aborted || (this.search ? !this.search.passed() : this.judge.anyFailed()),
      metrics: this.stage('cleanup'),
      cleanupSignal: this.options.cleanupSignal,
      share: this.options.shard,
      onStart: () => (this.status = 'cleaning'),
      log: (level, message, code) => this.log(level, message, 'cleanup', code),
    });
  }

  /** Once a period: roll intervals, judge thresholds live, record history, publish. */
  private tick(): void {
    this.builder.rollInterval();
    const wasOverloaded = this.runner.latest().overloaded;
    const runner = this.runner.sample();
    if (runner.overloaded && !wasOverloaded && this.status === 'running') this.log('warn', runner.warning!);
    const trafficPhase = this.status === 'preparing' || this.status === 'running';
    const snapshot = this.snapshot();
    const { abort } = this.judge.evaluate(snapshot, { final: false, trafficPhase });
    if (abort && !this.search?.stopStep(abort)) this.abort(abort, false);
    snapshot.thresholds = this.judge.states();
    this.history.record(snapshot);
    this.reference.record(snapshot);
    snapshot.history = this.history.points();
    this.sinks.snapshot(snapshot);
  }

  /** The final judgement: thresholds, each stage's verdict, then the outcome (judge/outcome.ts, as a sharded run's). */
  private finish(cleanup: CleanupOutcome): RunResult {
    for (const { expression, explanation, blamed } of this.judge.finalJudgement(this.builder.build(), this.history.points(), this.stages)) {
      if (blamed) this.runnerSuspect ??= explanation;
      this.log(blamed ? 'warn' : 'info', `${expression}: ${explanation}`);
    }
    const aborted = this.controller.signal.aborted;
    const access = this.accessProblem !== undefined;
    const outcome = decideOutcome({
      access: access ? this.failure : undefined,
      planMismatch: this.planMismatch ? this.failure : undefined,
      abort: aborted ? { by: this.userAborted ? 'user' : 'threshold', reason: this.abortReason ?? 'aborted' } : undefined,
      errors: this.failure && !access && !this.planMismatch ? [this.failure] : [],
      runnerProblems: [],
      failedThresholds: this.judge.failed(),
      search: this.search?.outcome(),
      // A run kept by its cleanup strategy ("never" etc.) left nothing it meant to delete.
      cleanup: { ran: this.stage('cleanup').state !== 'skipped', leftovers: cleanup.leftovers.length },
      runId: this.runId,
    });
    [this.verdict, this.reason, this.status] = [outcome.verdict, outcome.reason, outcome.status];
    // The final snapshot ranks the workspaces on their final figures.
    this.workspaces.summary(true);
    return {
      verdict: outcome.verdict,
      exit: outcome.exit,
      exitCode: outcome.exitCode,
      access: this.accessProblem,
      reportDir: this.reportDir,
      snapshot: this.snapshot(),
      cleanup,
    };
  }

  histograms(): ReturnType<RunHandle['histograms']> {
    const encoded = (stage: StageMetrics) => ({
      latency: stage.latency.encode(),
      connect: stage.connectLatency.count() > 0 ? stage.connectLatency.encode() : undefined,
      openLag: stage.openLag.count() > 0 ? stage.openLag.encode() : undefined,
      latencies: stage.recordedLatencies().size
        ? Object.fromEntries([...stage.recordedLatencies()].map(([name, recorder]) => [name, recorder.encode()]))
        : undefined,
    });
    return { stages: Object.fromEntries(this.stages.map((stage) => [stage.name, encoded(stage)])), api: this.api.encodedHistograms() };
  }

  private artifacts(): RunArtifacts {
    const stages = this.stages.filter((stage) => stage.latency.summary().count > 0).map((stage) => [stage.name, stage.latency.encode()]);
    const histograms = { stages: Object.fromEntries(stages), api: this.api.encodedHistograms() };
    const { plan, baseline, options, events } = this;
    return { plan, histograms, events: events.events, baseline, preRunCheck: options.preRunCheck, workspaces: this.workspaces.rows() };
  }
}
