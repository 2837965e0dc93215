// A staged scale-test run: verify access → prepare → traffic timeline (SSH T0–T3, web
// terminal T1–T4, apps T2–T5, dashboard T3–T6 by default) → cleanup per strategy (also on
// failure and abort). This file is the lifecycle only; startRun wires it to its parts: the
// timeline (./timeline.ts), the threshold judge (./judge.ts), the history recorder
// (./history.ts), the snapshot builder (./snapshotBuilder.ts) and the sinks (./sinks.ts) that
// receive snapshots, events and the result — the report writer (./report.ts) is one of them.
import { setMaxListeners } from 'events';
import * as path from 'path';
import { CoderClient } from '../coder/client';
import type { RunStatus, StageName, Verdict } from '../protocol/snapshot';
import { ApiMetrics } from './apiMetrics';
import { baselineForRun, type BaselineLookup } from './baseline/store';
import { deleteResources, type CleanupOutcome } from './cleanup';
import { HistoryRecorder } from './history';
import { ReferenceCollector } from './reference/collector';
import { ThresholdJudge } from './judge';
import { StageMetrics } from './metrics';
import { DeploymentMonitor, RunnerMonitor } from './monitors';
import { newRunId } from './naming';
import { classifyAccessError, DeploymentAccessError, EXIT_CODES, exitReasonOf, type AccessProblemKind, type RunEvent, type RunEventCode, type RunResult } from './outcome';
import { shardUserIndexes } from './shardUsers';
import { stageWindowMs, timelineMs, validatePlan, type Plan } from './plan';
import { PlanMismatchError, prepareUsers, resolveOrganizationAndTemplate, type CreatedResources, type PreparedUser } from './prepare';
import { seededRandom } from './random';
import { reportSink } from './report';
import type { RunHandle, StartRunOptions } from './runOptions';
import { EventLog, SinkSet, type RunArtifacts } from './sinks';
import { SnapshotBuilder } from './snapshotBuilder';
import { allStages, findTrafficStage, trafficStages } from './stages/registry';
import { runTimeline } from './timeline';

export { classifyAccessError, DeploymentAccessError, EXIT_CODES, type ExitReason, type RunEvent, type RunResult } from './outcome';

export type { RunHandle, ShardAssignment, StartRunOptions } from './runOptions';

export function startRun(options: StartRunOptions): RunHandle {
  const plan = validatePlan(options.plan);
  const runId = options.shard?.runId ?? newRunId(plan.runIdPrefix);
  const run = new Run(plan, runId, options);
  if (options.log) run.sinks.add({ event: options.log });
  for (const sink of options.sinks ?? []) run.sinks.add(sink);
  run.sinks.add(reportSink(run.reportDir, (level, message) => run.log(level, message)));
  return {
    runId,
    subscribe: (listener) => run.sinks.add({ snapshot: listener }),
    addSink: (sink) => run.sinks.add(sink),
    latest: () => run.builder.build(),
    abort: (reason) => run.abort(reason ?? 'aborted by the user', true),
    histograms: () => run.histograms(),
    done: run.execute(),
  };
}

class Run {
  readonly sinks: SinkSet;
  readonly builder: SnapshotBuilder;
  readonly reportDir: string;
  private readonly controller = new AbortController();
  private readonly stages: StageMetrics[];
  private readonly api = new ApiMetrics();
  private readonly runner = new RunnerMonitor();
  private readonly judge: ThresholdJudge;
  /** The plan's baseline run (docs/baselines.md), read once at the start. */
  private readonly baseline: BaselineLookup;
  private readonly history = new HistoryRecorder();
  private readonly reference: ReferenceCollector;
  private readonly events = new EventLog();
  private readonly random: () => number;
  private monitor?: DeploymentMonitor;
  private timelineStartedAt?: number;
  private status: RunStatus = 'starting';
  private verdict: Verdict = 'pending';
  private reason?: string;
  private runnerSuspect?: string;
  private userAborted = false;
  /** The plan names an organization or template the deployment lacks (exit 2, like a bad plan). */
  private planMismatch = false;
  /** The run stopped on an error (status goes on to 'cleaning', the outcome stays 'error'). */
  private errored = false;
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
    // Every connection of every stage listens for the one abort signal.
    setMaxListeners(0, this.controller.signal);
    this.reportDir = path.join(options.outDir, runId);
    this.sinks = new SinkSet((error) => this.sinkFailed(error));
    this.sinks.add(this.events);
    this.stages = allStages().map((stage) => {
      const planned = findTrafficStage(stage.id) ? stageWindowMs(plan, stage.id) : undefined;
      return new StageMetrics(stage.id, stage.title, planned, stage.color);
    });
    this.baseline = baselineForRun(options.outDir, plan);
    this.judge = new ThresholdJudge(plan.thresholds, this.baseline);
    const { prometheusUrl, provisionerPrometheusUrl, databaseMetricsUrl } = plan.deployment;
    this.reference = new ReferenceCollector({ users: plan.users, prometheusUrl, provisionerPrometheusUrl, databaseMetricsUrl });
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
        api: this.api,
        deployment: () => this.monitor?.snapshot() ?? { url: options.connection.url, healthy: false, restarts: 0 },
        runner: () => this.runner.latest(),
        thresholds: () => this.judge.states(),
        history: () => this.history.points(),
        reference: () => this.reference.view(),
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
    this.reason = reason;
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

  private stage(name: StageName): StageMetrics {
    return this.stages.find((stage) => stage.name === name)!;
  }

  private currentStage(): StageName | undefined {
    if (this.status === 'preparing') return 'prepare';
    if (this.status === 'cleaning') return 'cleanup';
    return trafficStages().find((stage) => this.stage(stage.id).state === 'running')?.id;
  }

  async execute(): Promise<RunResult> {
    const owner = new CoderClient(this.options.connection, { bypassRateLimit: true, onRequest: this.api.onRequest });
    const monitorClient = new CoderClient(this.options.connection, { retry: { retries: 0 }, timeoutMs: 3000 });
    const created: CreatedResources = { users: new Map(), workspaces: new Map() };
    let cleanup: CleanupOutcome = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] };
    this.runner.start();
    const ticker = setInterval(() => this.tick(), this.options.snapshotIntervalMs ?? 1000);
    this.log('info', `run ${this.runId} of "${this.plan.name}" against ${this.options.connection.url}: ${this.plan.users} users`);
    try {
      const ownerOrgs = await this.checkAccess();
      this.monitor = new DeploymentMonitor(
        monitorClient,
        this.options.connection.url,
        this.plan.deployment.prometheusUrl,
        (why) => this.log('error', `deployment restart detected: ${why}`),
        this.plan.deployment,
      );
      this.monitor.start();
      const users = await this.prepare(owner, ownerOrgs, created);
      if (!this.controller.signal.aborted) await this.traffic(users, owner);
    } catch (error) {
      if (!this.controller.signal.aborted || !this.reason) this.reason = (error as Error).message;
      this.planMismatch = error instanceof PlanMismatchError;
      this.errored = true;
      this.status = 'error';
      this.log('error', (error as Error).message);
    } finally {
      for (const stage of this.stages) if (stage.name !== 'cleanup' && stage.state === 'waiting') stage.state = 'skipped';
      // Snapshots keep coming during cleanup, so its progress shows live.
      cleanup = await this.cleanup(owner, created);
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

  /** Access first: wrong URL, wrong token and non-owner each get their own message. Returns the owner's organizations. */
  private async checkAccess(): Promise<string[]> {
    try {
      if (!this.options.connection.token) throw new DeploymentAccessError('no-token', "No session token: a run needs an owner's session token.");
      // Without the rate-limit bypass header, which coderd refuses (428) for non-owners.
      const probe = new CoderClient(this.options.connection, { onRequest: this.api.onRequest });
      try {
        const owner = await probe.requireOwner();
        // The version decides nothing here (the client detects features); outside the supported range it says so.
        const { warning } = await probe.versionCheck();
        if (warning) this.log('warn', warning);
        return owner.organization_ids ?? [];
      } finally {
        probe.close();
      }
    } catch (error) {
      const problem = classifyAccessError(error, this.options.connection.url);
      this.accessProblem = problem.kind;
      throw problem;
    }
  }

  private async prepare(owner: CoderClient, ownerOrgs: string[], created: CreatedResources): Promise<PreparedUser[]> {
    const metrics = this.stage('prepare');
    this.status = 'preparing';
    metrics.state = 'running';
    metrics.startedAt = Date.now();
    const { organization, template } = await resolveOrganizationAndTemplate(owner, this.plan, ownerOrgs);
    this.log('info', `creating ${this.plan.users} users and workspaces from template ${template.name} in ${organization.name}`, 'prepare');
    const users = await prepareUsers(
      {
        plan: this.plan,
        runId: this.runId,
        owner,
        userClient: (token) => new CoderClient({ ...this.options.connection, token }, { onRequest: this.api.onRequest }),
        created,
        metrics,
        signal: this.controller.signal,
        log: (level, message) => this.log(level, message, 'prepare'),
        userIndexes: this.options.shard && shardUserIndexes(this.plan.users, this.options.shard),
      },
      organization,
      template,
    );
    metrics.state = 'done';
    metrics.endedAt = Date.now();
    if (this.controller.signal.aborted) return users;
    this.log('info', `${users.length}/${this.plan.users} workspaces ready`, 'prepare');
    if (users.length === 0) throw new Error('no workspace became ready, so no traffic can run; see the prepare errors above');
    return users;
  }

  private async traffic(users: PreparedUser[], owner: CoderClient): Promise<void> {
    await runTimeline({
      plan: this.plan,
      users,
      environment: {
        connection: this.options.connection,
        owner,
        signal: this.controller.signal,
        chromiumPath: this.options.chromiumPath,
        coderBinaryPath: this.options.coderBinaryPath,
        cacheDir: this.options.cacheDir,
      },
      metricsOf: (id) => this.stage(id),
      random: this.random,
      startAt: this.options.shard?.startAt,
      log: (level, message, stage) => this.log(level, message, stage),
      onStart: (t0) => {
        this.status = 'running';
        this.timelineStartedAt = t0;
      },
    });
  }

  private async cleanup(owner: CoderClient, created: CreatedResources): Promise<CleanupOutcome> {
    const metrics = this.stage('cleanup');
    const strategy = this.plan.cleanup.strategy;
    const failing = this.errored || this.controller.signal.aborted || this.judge.anyFailed();
    const wanted = strategy === 'always' || (strategy === 'on-success' && !failing) || (strategy === 'on-failure' && failing);
    const empty = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] as string[] };
    if (created.users.size === 0 && created.workspaces.size === 0) {
      metrics.state = 'skipped';
      return empty;
    }
    if (!wanted) {
      metrics.state = 'skipped';
      const kept = [...created.workspaces.values()].map((n) => `workspace ${n}`).concat([...created.users.values()].map((n) => `user ${n}`));
      this.log('info', `cleanup strategy "${strategy}": keeping ${kept.length} resources of run ${this.runId}`, 'cleanup', 'resources-kept');
      return { ...empty, leftovers: kept };
    }
    this.status = 'cleaning';
    metrics.state = 'running';
    metrics.startedAt = Date.now();
    this.log('info', `deleting ${created.workspaces.size} workspaces, then ${created.users.size} users`, 'cleanup');
    const outcome = await deleteResources(created, {
      owner,
      concurrency: this.plan.concurrency.cleanup,
      timeoutMs: this.plan.timeouts.cleanupSeconds * 1000,
      metrics,
      signal: this.options.cleanupSignal,
      abandon: this.options.cleanupSignal,
      runId: this.runId,
      share: this.options.shard,
      log: (level, message) => this.log(level, message, 'cleanup'),
    });
    metrics.state = 'done';
    metrics.endedAt = Date.now();
    if (outcome.leftovers.length > 0) {
      this.log('warn', `${outcome.leftovers.length} resources of run ${this.runId} left behind`, 'cleanup', 'resources-left');
    }
    return outcome;
  }

  /** Once a period: roll intervals, judge thresholds live, record history, publish. */
  private tick(): void {
    this.builder.rollInterval();
    const wasOverloaded = this.runner.latest().overloaded;
    const runner = this.runner.sample();
    if (runner.overloaded && !wasOverloaded && this.status === 'running') this.log('warn', runner.warning!);
    const trafficPhase = this.status === 'preparing' || this.status === 'running';
    const snapshot = this.builder.build();
    const { abort } = this.judge.evaluate(snapshot, { final: false, trafficPhase });
    if (abort) this.abort(abort, false);
    snapshot.thresholds = this.judge.states();
    this.history.record(snapshot);
    this.reference.record(snapshot);
    snapshot.history = this.history.points();
    this.sinks.snapshot(snapshot);
  }

  /** The final judgement: thresholds, each stage's verdict, the run's verdict and exit reason. */
  private finish(cleanup: CleanupOutcome): RunResult {
    this.judge.evaluate(this.builder.build(), { final: true, trafficPhase: false });
    for (const { expression, explanation } of this.judge.suspectRunner(this.history.points())) {
      this.runnerSuspect ??= explanation;
      this.log('warn', `${expression}: ${explanation}`);
    }
    for (const stage of this.stages) Object.assign(stage, this.judge.judgeStage(stage.snapshot()));
    const aborted = this.controller.signal.aborted;
    const judged = this.judge.judgeRun({ broken: this.accessProblem !== undefined || this.errored, aborted, runnerSuspect: this.runnerSuspect });
    this.verdict = judged.verdict;
    if (!this.reason && judged.reason) this.reason = judged.reason;
    // Resources the run meant to delete but could not: the run did not end cleanly, whatever
    // the thresholds say (a kept run under strategy "never" etc. is not a failure).
    if (this.stage('cleanup').state !== 'skipped' && cleanup.leftovers.length > 0) {
      this.verdict = 'fail';
      const what = `cleanup left ${cleanup.leftovers.length} resource(s) of run ${this.runId} behind`;
      this.reason = this.reason ? `${this.reason}; ${what}` : what;
    }
    this.status = aborted ? 'aborted' : this.errored ? 'error' : 'finished';
    const exit = exitReasonOf({ access: this.accessProblem !== undefined, userAborted: this.userAborted, planMismatch: this.planMismatch, verdict: this.verdict });
    return {
      verdict: this.verdict,
      exit,
      exitCode: EXIT_CODES[exit],
      access: this.accessProblem,
      reportDir: this.reportDir,
      snapshot: this.builder.build(),
      cleanup,
    };
  }

  histograms(): ReturnType<RunHandle['histograms']> {
    const stages: Record<string, { latency: string; connect?: string }> = {};
    for (const stage of this.stages) stages[stage.name] = { latency: stage.latency.encode(), connect: stage.connectLatency.count() > 0 ? stage.connectLatency.encode() : undefined };
    return { stages, api: this.api.encodedHistograms() };
  }

  private artifacts(): RunArtifacts {
    const stages = this.stages.filter((stage) => stage.latency.summary().count > 0).map((stage) => [stage.name, stage.latency.encode()]);
    return {
      plan: this.plan,
      histograms: { stages: Object.fromEntries(stages), api: this.api.encodedHistograms() },
      events: this.events.events,
      baseline: this.baseline,
    };
  }
}
