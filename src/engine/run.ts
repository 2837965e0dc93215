// A staged scale-test run: verify access → prepare → traffic timeline (SSH T0–T3, web
// terminal T1–T4, apps T2–T5, dashboard T3–T6 by default) → cleanup per strategy (also on
// failure and abort) → reports. Once a second a complete RunSnapshot goes to every listener.
import { setMaxListeners } from 'events';
import * as path from 'path';
import { CoderClient } from '../coder/client';
import type { DeploymentConnection } from '../coder/connection';
import { CoderApiError, DeploymentUnreachableError, RequestTimeoutError } from '../coder/errors';
import {
  type HistoryPoint,
  type RunSnapshot,
  type RunStatus,
  type StageName,
  type ThresholdSnapshot,
  type Verdict,
} from '../protocol/snapshot';
import { ApiMetrics } from './apiMetrics';
import { deleteResources, type CleanupOutcome } from './cleanup';
import { StageMetrics } from './metrics';
import { DeploymentMonitor, RunnerMonitor } from './monitors';
import { newRunId } from './naming';
import { stageWindowMs, timelineMs, validatePlan, type Plan } from './plan';
import { PlanMismatchError, prepareUsers, resolveOrganizationAndTemplate, type CreatedResources, type PreparedUser } from './prepare';
import { seededRandom } from './random';
import { writeReports } from './report';
import { runnerSuspicion } from './runnerSuspect';
import { allStages, findTrafficStage, trafficStages } from './stages/registry';
import { evaluateThreshold, parseThreshold, type ParsedThreshold } from './thresholds';
import { runTimeline } from './timeline';

export interface RunEvent {
  level: 'debug' | 'info' | 'warn' | 'error';
  /** Epoch ms. */
  time: number;
  stage?: StageName;
  message: string;
}

export interface StartRunOptions {
  /** A validated Plan or plan JSON (validated here; throws PlanError when invalid). */
  plan: Plan | unknown;
  connection: DeploymentConnection;
  /** Reports go to `<outDir>/<runId>/`. */
  outDir: string;
  signal?: AbortSignal;
  /** Cuts cleanup short (e.g. a second Ctrl-C): no new deletions, no more waiting; the rest is reported as left behind. */
  cleanupSignal?: AbortSignal;
  log?: (event: RunEvent) => void;
  chromiumPath?: string;
  coderBinaryPath?: string;
  cacheDir?: string;
  /** Snapshot period (ms); 1000 unless a test needs it faster. */
  snapshotIntervalMs?: number;
}

export interface RunResult {
  verdict: Verdict;
  /** 0 passed, 1 thresholds failed, 3 deployment unreachable or authentication failed, 130 aborted. */
  exitCode: number;
  reportDir: string;
  snapshot: RunSnapshot;
  cleanup: CleanupOutcome;
}

export interface RunHandle {
  runId: string;
  subscribe(listener: (snapshot: RunSnapshot) => void): () => void;
  latest(): RunSnapshot;
  abort(reason?: string): void;
  done: Promise<RunResult>;
}

/** Why a run could not even start: each case has its own message; the CLI exits with 3. */
export class DeploymentAccessError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'no-token' | 'unauthenticated' | 'not-owner' | 'not-coder',
    message: string,
  ) {
    super(message);
    this.name = 'DeploymentAccessError';
  }
}

export function classifyAccessError(error: unknown, url: string): DeploymentAccessError {
  if (error instanceof DeploymentAccessError) return error;
  if (error instanceof DeploymentUnreachableError || error instanceof RequestTimeoutError) {
    return new DeploymentAccessError('unreachable', error.message);
  }
  if (error instanceof CoderApiError && error.status === 401) {
    return new DeploymentAccessError(
      'unauthenticated',
      `The deployment at ${url} rejected the session token (401 ${error.apiMessage}). Check --token or CODER_SESSION_TOKEN: ` +
        'create a token with `coder tokens create` or log in again with `coder login`.',
    );
  }
  if (error instanceof CoderApiError && error.status === 404) {
    return new DeploymentAccessError('not-coder', `${url} does not look like a Coder deployment (GET /api/v2/users/me answered 404). Check the URL.`);
  }
  const message = (error as Error).message ?? String(error);
  if (/owner role/.test(message)) {
    return new DeploymentAccessError(
      'not-owner',
      `${message.replace(/\.$/, '')}. Scale tests create users and workspaces, which needs the Owner role: use an owner's token.`,
    );
  }
  return new DeploymentAccessError('unreachable', `Cannot use the deployment at ${url}: ${message}`);
}

const HISTORY_LIMIT = 600;
const EVENTS_KEPT = 500;

export function startRun(options: StartRunOptions): RunHandle {
  const plan = validatePlan(options.plan);
  const runId = newRunId(plan.runIdPrefix);
  const run = new Run(plan, runId, options);
  return {
    runId,
    subscribe: (listener) => run.subscribe(listener),
    latest: () => run.snapshot(),
    abort: (reason) => run.abort(reason ?? 'aborted by the user', true),
    done: run.execute(),
  };
}

class Run {
  private readonly controller = new AbortController();
  private readonly listeners = new Set<(snapshot: RunSnapshot) => void>();
  private readonly stages = new Map<StageName, StageMetrics>();
  private readonly api = new ApiMetrics();
  private readonly runner = new RunnerMonitor();
  private readonly thresholds: Array<{ parsed: ParsedThreshold; spec: Plan['thresholds'][number]; state: ThresholdSnapshot; breachedSince?: number }>;
  private readonly history: HistoryPoint[] = [];
  private historyStride = 1;
  private historyTick = 0;
  private readonly startedAt = Date.now();
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
  private monitor?: DeploymentMonitor;
  private readonly random: () => number;
  readonly events: RunEvent[] = [];
  private readonly reportDir: string;
  private lastBytes = new Map<StageName, number>();
  private lastBytesAt = Date.now();
  /** Set once cleanup is over: a later abort changes nothing. */
  private settled = false;
  private readonly detachSignal: () => void;

  constructor(
    readonly plan: Plan,
    readonly runId: string,
    private readonly options: StartRunOptions,
  ) {
    this.random = seededRandom(plan.seed);
    // Every connection of every stage listens for the one abort signal.
    setMaxListeners(0, this.controller.signal);
    this.reportDir = path.join(options.outDir, runId);
    for (const stage of allStages()) {
      const planned = findTrafficStage(stage.id) ? stageWindowMs(plan, stage.id) : undefined;
      this.stages.set(stage.id, new StageMetrics(stage.id, stage.title, planned, stage.color));
    }
    this.thresholds = plan.thresholds.map((spec) => {
      const parsed = parseThreshold(spec.expression);
      return {
        parsed,
        spec,
        state: { expression: spec.expression, metric: parsed.metric, observed: null, observedText: 'no data', verdict: 'pending', abortOnFail: spec.abortOnFail },
      };
    });
    // A signal aborted before the start raises no event: check it here.
    // A string reason (e.g. "stopped by SIGTERM") names the cause in the verdict and report.
    const onAbort = () => this.abort(typeof options.signal?.reason === 'string' ? options.signal.reason : 'aborted by the user', true);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    this.detachSignal = () => options.signal?.removeEventListener('abort', onAbort);
  }

  subscribe(listener: (snapshot: RunSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  abort(reason: string, byUser: boolean): void {
    if (this.controller.signal.aborted || this.settled) return;
    this.userAborted = byUser;
    this.reason = reason;
    this.log('warn', `aborting: ${reason}`);
    this.controller.abort();
  }

  private log(level: RunEvent['level'], message: string, stage?: StageName): void {
    const event: RunEvent = { level, time: Date.now(), stage, message };
    this.events.push(event);
    if (this.events.length > EVENTS_KEPT) this.events.shift();
    this.options.log?.(event);
  }

  private stage(name: StageName): StageMetrics {
    return this.stages.get(name)!;
  }

  async execute(): Promise<RunResult> {
    const signal = this.controller.signal;
    const owner = new CoderClient(this.options.connection, { bypassRateLimit: true, onRequest: this.api.onRequest });
    const monitorClient = new CoderClient(this.options.connection, { retry: { retries: 0 }, timeoutMs: 3000 });
    const created: CreatedResources = { users: new Map(), workspaces: new Map() };
    let cleanup: CleanupOutcome = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] };
    let accessFailed = false;
    this.runner.start();
    const ticker = setInterval(() => this.tick(), this.options.snapshotIntervalMs ?? 1000);
    this.log('info', `run ${this.runId} of "${this.plan.name}" against ${this.options.connection.url}: ${this.plan.users} users`);
    try {
      // Access first: wrong URL, wrong token and non-owner each get their own message.
      let ownerUser;
      try {
        if (!this.options.connection.token) {
          throw new DeploymentAccessError('no-token', 'No session token: pass --token or set CODER_SESSION_TOKEN to an owner\'s token.');
        }
        // Without the rate-limit bypass header, which coderd refuses (428) for non-owners.
        const probe = new CoderClient(this.options.connection, { onRequest: this.api.onRequest });
        try {
          ownerUser = await probe.requireOwner();
          // The version decides nothing here (the client detects features); outside the supported range it says so.
          const { warning } = await probe.versionCheck();
          if (warning) this.log('warn', warning);
        } finally {
          probe.close();
        }
      } catch (error) {
        accessFailed = true;
        throw classifyAccessError(error, this.options.connection.url);
      }
      this.monitor = new DeploymentMonitor(monitorClient, this.options.connection.url, this.plan.deployment.prometheusUrl, (why) =>
        this.log('error', `deployment restart detected: ${why}`),
      );
      this.monitor.start();

      await this.prepare(owner, ownerUser.organization_ids ?? [], created).then((users) => (signal.aborted ? undefined : this.traffic(users, owner)));
    } catch (error) {
      if (!signal.aborted || !this.reason) this.reason = (error as Error).message;
      this.planMismatch = error instanceof PlanMismatchError;
      this.errored = true;
      this.status = 'error';
      this.log('error', (error as Error).message);
    } finally {
      for (const stage of this.stages.values()) if (stage.name !== 'cleanup' && stage.state === 'waiting') stage.state = 'skipped';
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

    this.finish(accessFailed, cleanup);
    const snapshot = this.snapshot();
    const exitCode = accessFailed ? 3 : this.userAborted ? 130 : this.planMismatch ? 2 : this.verdict === 'pass' ? 0 : 1;
    const result: RunResult = { verdict: this.verdict, exitCode, reportDir: this.reportDir, snapshot, cleanup };
    try {
      await writeReports({ dir: this.reportDir, plan: this.plan, result, stages: this.stages, api: this.api, events: this.events });
      this.log('info', `reports written to ${this.reportDir}`);
    } catch (error) {
      this.log('error', `could not write the reports to ${this.reportDir}: ${(error as Error).message}`);
    }
    this.publish(snapshot);
    return result;
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
    const failing = this.errored || this.controller.signal.aborted || this.thresholds.some((t) => t.state.verdict === 'fail');
    const wanted = strategy === 'always' || (strategy === 'on-success' && !failing) || (strategy === 'on-failure' && failing);
    const empty = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] as string[] };
    if (created.users.size === 0 && created.workspaces.size === 0) {
      metrics.state = 'skipped';
      return empty;
    }
    if (!wanted) {
      metrics.state = 'skipped';
      const kept = [...created.workspaces.values()].map((n) => `workspace ${n}`).concat([...created.users.values()].map((n) => `user ${n}`));
      this.log('info', `cleanup strategy "${strategy}": keeping ${kept.length} resources; remove them later with: coder-scaletest cleanup --run-id ${this.runId}`, 'cleanup');
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
      log: (level, message) => this.log(level, message, 'cleanup'),
    });
    metrics.state = 'done';
    metrics.endedAt = Date.now();
    if (outcome.leftovers.length > 0) {
      this.log('warn', `${outcome.leftovers.length} resources left behind; retry with: coder-scaletest cleanup --run-id ${this.runId}`, 'cleanup');
    }
    return outcome;
  }

  /** Once a second: roll intervals, evaluate thresholds live, record history, publish. */
  private tick(): void {
    for (const stage of this.stages.values()) {
      stage.rollInterval();
    }
    this.api.rollInterval();
    const wasOverloaded = this.runner.latest().overloaded;
    const runner = this.runner.sample();
    if (runner.overloaded && !wasOverloaded && this.status === 'running') this.log('warn', runner.warning!);
    const snapshot = this.snapshot();
    this.evaluate(snapshot, false);
    snapshot.thresholds = this.thresholds.map((t) => ({ ...t.state }));
    this.recordHistory(snapshot);
    snapshot.history = this.history.map((point) => ({ ...point }));
    this.publish(snapshot);
  }

  private evaluate(snapshot: RunSnapshot, final: boolean): void {
    const now = Date.now();
    for (const threshold of this.thresholds) {
      Object.assign(threshold.state, { reason: undefined }, evaluateThreshold(threshold.parsed, snapshot, final));
      if (final || threshold.state.verdict !== 'fail') {
        threshold.breachedSince = undefined;
        continue;
      }
      threshold.breachedSince ??= now;
      const trafficPhase = this.status === 'preparing' || this.status === 'running';
      if (trafficPhase && threshold.spec.abortOnFail && now - threshold.breachedSince >= threshold.spec.abortAfterSeconds * 1000) {
        this.abort(`threshold "${threshold.spec.expression}" breached (${threshold.state.reason})`, false);
      }
    }
  }

  private finish(accessFailed: boolean, cleanup: CleanupOutcome): void {
    const snapshot = this.snapshot();
    this.evaluate(snapshot, true);
    const failed = this.thresholds.filter((t) => t.state.verdict === 'fail');
    for (const threshold of failed) {
      const suspicion = runnerSuspicion(threshold.parsed, this.history);
      if (!suspicion) continue;
      threshold.state.runnerSuspect = suspicion.explanation;
      this.runnerSuspect ??= suspicion.explanation;
      this.log('warn', `${threshold.spec.expression}: ${suspicion.explanation}`);
    }
    for (const stage of this.stages.values()) {
      if (stage.state === 'skipped') {
        stage.verdict = 'skipped';
        continue;
      }
      const own = failed.filter((t) => t.parsed.metric.split('.')[0] === stage.name);
      const problems = own.map((t) => t.state.reason ?? t.parsed.expression);
      if (stage.name === 'cleanup' && (stage.progress?.failed ?? 0) > 0) problems.push(`${stage.progress!.failed} deletion(s) failed`);
      if (stage.reason) problems.unshift(stage.reason);
      stage.verdict = problems.length ? 'fail' : 'pass';
      stage.reason = problems.length ? problems.join('; ') : undefined;
    }
    if (accessFailed || this.errored) {
      this.verdict = 'fail';
    } else {
      this.verdict = failed.length > 0 || this.controller.signal.aborted ? 'fail' : 'pass';
      if (!this.reason && failed.length > 0) {
        this.reason = `${failed.length} threshold(s) failed: ${failed.map((t) => t.state.reason).join('; ')}`;
        if (this.runnerSuspect) this.reason += `. Runner suspect: ${this.runnerSuspect}`;
      }
    }
    // Resources the run meant to delete but could not: the run did not end cleanly, whatever
    // the thresholds say (a kept run under strategy "never" etc. is not a failure).
    const cleanupFailed = this.stage('cleanup').state !== 'skipped' && cleanup.leftovers.length > 0;
    if (cleanupFailed) {
      this.verdict = 'fail';
      const what = `cleanup left ${cleanup.leftovers.length} resource(s) behind; remove them with: coder-scaletest cleanup --run-id ${this.runId}`;
      this.reason = this.reason ? `${this.reason}; ${what}` : what;
    }
    this.status = this.controller.signal.aborted ? 'aborted' : this.errored ? 'error' : 'finished';
  }

  private recordHistory(snapshot: RunSnapshot): void {
    if (this.historyTick++ % this.historyStride !== 0) return;
    const seconds = Math.max(0.001, (Date.now() - this.lastBytesAt) / 1000) * this.historyStride;
    this.lastBytesAt = Date.now();
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
        bytesPerSecond: Math.round((bytes - (this.lastBytes.get(stage.name) ?? 0)) / seconds),
        errors: Object.values(stage.errors).reduce((a, b) => a + b, 0),
        disconnects: stage.disconnects,
      };
      this.lastBytes.set(stage.name, bytes);
    }
    this.history.push({
      t: snapshot.now - snapshot.startedAt,
      stages,
      apiP95Ms: this.api.recent.p95Ms,
      apiRequestsPerSecond: Math.round(this.api.recent.requestsPerSecond * 10) / 10,
      runnerCpuPercent: snapshot.runner.cpuPercent,
      eventLoopLagMs: snapshot.runner.eventLoopLagP99Ms,
      deploymentHealthy: snapshot.deployment.healthy,
      deploymentCpuCores: snapshot.deployment.prometheus?.cpuCores,
      deploymentWebsockets: snapshot.deployment.prometheus?.concurrentWebsockets,
    });
    if (this.history.length > HISTORY_LIMIT) {
      // Keep every other point and sample half as often from now on: bounded, evenly spaced.
      const kept = this.history.filter((_, index) => index % 2 === 0);
      this.history.splice(0, this.history.length, ...kept);
      this.historyStride *= 2;
    }
  }

  snapshot(): RunSnapshot {
    const running = trafficStages().find((stage) => this.stage(stage.id).state === 'running')?.id;
    const currentStage: StageName | undefined =
      this.status === 'preparing' ? 'prepare' : this.status === 'cleaning' ? 'cleanup' : running;
    return {
      schemaVersion: 1,
      runId: this.runId,
      planName: this.plan.name,
      deploymentUrl: this.options.connection.url,
      status: this.status,
      startedAt: this.startedAt,
      now: Date.now(),
      timelineStartedAt: this.timelineStartedAt,
      timelineMs: timelineMs(this.plan),
      slotMs: this.plan.timeline.slotSeconds * 1000,
      currentStage,
      stages: [...this.stages.values()].map((stage) => stage.snapshot()),
      thresholds: this.thresholds.map((t) => ({ ...t.state })),
      api: this.api.snapshot(),
      deployment: this.monitor?.snapshot() ?? { url: this.options.connection.url, healthy: false, restarts: 0 },
      runner: this.runner.latest(),
      history: this.history.map((point) => ({ ...point })),
      verdict: this.verdict,
      reason: this.reason,
      runnerSuspect: this.runnerSuspect,
      reportDir: this.reportDir,
    };
  }

  private publish(snapshot: RunSnapshot): void {
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (error) {
        this.log('warn', `a snapshot listener failed: ${(error as Error).message}`);
      }
    }
  }
}
