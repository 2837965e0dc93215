// An echo traffic stage (SSH, web terminal, apps): one connection per workspace, opened at its
// planned time of the stage's ramp (./ramp.ts) and closed at the window's end. Every
// connection's tick schedule starts within one tick interval of its planned open (phases spread
// over the interval, see tickPhaseMs), so time spent waiting to connect counts as latency, and
// a connection ready later than planned shows it as open lag too.
import { performance } from 'perf_hooks';
import { EchoSession } from './session';
import type { StageMetrics } from '../../metrics/stageMetrics';
import { RampPacer } from './pacing';
import { firstTickAt, planRamp, type RampSettings } from './ramp';
import type { Plan } from '../../plan/plan';
import type { PreparedUser } from '../../prepare/prepare';
import { PayloadPool } from '../../common/random';
import { sleepUntil } from '../../common/sleep';
import { TickScheduler, tickPhaseMs } from './tickScheduler';
import type { Opener } from './transports';
import { echoWorkerCount, EchoWorkerSet, workersUnavailable } from '../../workers/coordinator';
import type { StageRunContext, StageRunner } from '../definition';
import type { EchoSettings, OpenerFactory } from './descriptor';

export interface EchoStageOptions {
  plan: Plan;
  /** The stage's plan fragment (`plan.traffic.<id>`). */
  settings: { bytesPerTick: number; tickIntervalMs: number } & RampSettings;
  /** Resolves what the stage needs once (the coder CLI, the app host), then one opener per user. */
  openers(): Promise<(user: PreparedUser) => Opener>;
  signal: AbortSignal;
  users: PreparedUser[];
  metrics: StageMetrics;
  /** Epoch ms at which to stop. */
  endAt: number;
  random: () => number;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Worker threads booted at the stage's set-up to run its connections; absent: this thread runs them. */
  workers?: EchoWorkerSet;
  /** Epoch ms of the tick schedule's start (a worker thread's is the stage's); default: now. */
  scheduleStartEpochMs?: number;
}

/** The stage's connections on the worker threads booted at its set-up, or on this thread. */
export async function runEchoStage(options: EchoStageOptions): Promise<void> {
  return options.workers ? options.workers.run(options) : runEchoStageHere(options);
}

/** The stage's connections on this thread. */
async function runEchoStageHere(options: EchoStageOptions): Promise<void> {
  const { users, metrics, plan, signal, log, settings: traffic } = options;
  const scheduleStart =
    options.scheduleStartEpochMs === undefined ? performance.now() : options.scheduleStartEpochMs - performance.timeOrigin;
  metrics.targetConnections = users.length;
  const openerFor = await options.openers();
  // Shared by the stage's connections: one payload pool, one timer per tick of the schedule.
  const pool = new PayloadPool(options.random);
  const scheduler = new TickScheduler();
  const workspaces = metrics.workspaces.track(
    users.map((user) => ({ index: user.index, user: user.username, workspace: user.workspaceName, agent: user.agentName })),
  );
  const sessions = users.map(
    (user, index) =>
      new EchoSession({
        open: openerFor(user),
        bytesPerTick: traffic.bytesPerTick,
        tickIntervalMs: traffic.tickIntervalMs,
        echoTimeoutMs: plan.timeouts.echoSeconds * 1000,
        metrics,
        workspace: workspaces[index],
        random: options.random,
        pool,
        scheduler,
        onProblem: (message) => log('warn', `${user.workspaceName}: ${message}`),
      }),
  );
  let firstFailure: string | undefined;
  // The planned ramp: connection i opens at its planned time, whatever the others are doing —
  // how many are opening at once follows from the rate and the handshake time. The lag pacer
  // stays as a guard: a burst of handshakes (SSH key exchange, CLI start-up) that stalls the
  // runner would show up as latency on every connection already running, so while the event
  // loop lags, the next open waits (and opens late: open lag says so, and the stage reports
  // how long the pacer held the ramp back).
  const ramp = planRamp(traffic, plan.users);
  const rampFigures = {
    description: ramp.description,
    connectionsPerSecond: Number.isFinite(ramp.connectionsPerSecond) ? ramp.connectionsPerSecond : null,
    heldBackMs: 0,
    startedLateMs: 0,
  };
  const startLags: number[] = [];
  metrics.ramp = rampFigures;
  const pacer = new RampPacer();
  const starts: Array<Promise<void>> = [];
  let notOpened = 0;
  // A runner that reaches the stage after its window (a shard not ready by the agreed start)
  // opens nothing: that is its lateness, not the event loop's.
  const enteredAfterWindow = Date.now() >= options.endAt;
  for (let index = 0; index < sessions.length; index++) {
    const plannedOpen = scheduleStart + ramp.openOffsetMs(users[index].index);
    await sleepUntilTime(plannedOpen, signal);
    if (!signal.aborted) await pacer.beforeConnect(signal);
    rampFigures.heldBackMs = pacer.heldBackMs();
    if (signal.aborted) break;
    // A ramp slowed by the runner's lag must not carry the stage past its window.
    if (Date.now() >= options.endAt) {
      notOpened = sessions.length - index;
      break;
    }
    // How late this thread itself started the open (its pacer, its own lagging loop).
    startLags.push(Math.max(0, performance.now() - plannedOpen));
    startLags.sort((a, b) => a - b);
    rampFigures.startedLateMs = Math.round(startLags[Math.ceil(startLags.length * 0.95) - 1]);
    const firstTick = firstTickAt(
      plannedOpen,
      scheduleStart,
      tickPhaseMs(index, sessions.length, traffic.tickIntervalMs),
      traffic.tickIntervalMs,
    );
    starts.push(
      sessions[index].start(firstTick, plannedOpen).catch((error: Error) => {
        metrics.countError('connect');
        workspaces[index].countError('connect');
        firstFailure ??= error.message;
        log('warn', `${users[index].workspaceName}: cannot connect: ${error.message}`);
      }),
    );
  }
  if (rampFigures.heldBackMs > 0) {
    log(
      'warn',
      `the lag pacer held the ramp back ${(rampFigures.heldBackMs / 1000).toFixed(1)} s in all: the runner's event loop lagged, so connections opened later than planned (see the open lag)`,
    );
  }
  if (notOpened > 0) {
    for (let i = 0; i < notOpened; i++) metrics.countError('not_opened');
    for (const workspace of workspaces.slice(sessions.length - notOpened)) workspace.countError('not_opened');
    log(
      'warn',
      enteredAfterWindow
        ? `${notOpened} of ${users.length} connections were not opened: this runner reached the stage after its window had ended (not ready by the agreed start: its prepare or set-up ran late; give shards a longer --start-delay)`
        : `${notOpened} of ${users.length} connections were not opened before the stage's end: the ramp, held back by the runner's event-loop lag, ran out of time (an overloaded runner)`,
    );
  }
  void Promise.all(starts).then(() => {
    if (firstFailure && metrics.activeConnections === 0) log('error', `no connection could be opened: ${firstFailure}`);
  });
  await sleepUntil(options.endAt, signal);
  metrics.state = 'stopping';
  await Promise.all(sessions.map((session) => session.stop()));
}

/** Resolves once `performance.now()` reaches `time`, or as soon as `signal` aborts. */
function sleepUntilTime(time: number, signal: AbortSignal): Promise<void> {
  const wait = time - performance.now();
  if (wait <= 0 || signal.aborted) return Promise.resolve();
  return sleepUntil(Date.now() + wait, signal);
}

/**
 * An echo stage's runner around how it opens connections: worker threads (plan.workers) boot at
 * set-up, before T0, so their start-up is not traffic time; on a worker thread itself, or with
 * one thread, the connections run here.
 */
export function echoStageRunner<Settings>(stageId: string, openers: OpenerFactory<Settings>): StageRunner<Settings> {
  return {
    async setUp(context) {
      const run = (workers?: EchoWorkerSet) => (runContext: StageRunContext<Settings>) =>
        runEchoStage({
          ...runContext,
          settings: runContext.settings as unknown as EchoSettings,
          openers: () => openers(runContext),
          workers,
        });
      const count = context.onWorkerThread ? 1 : echoWorkerCount(context.plan.workers, context.users.length);
      const unavailable = count > 1 ? workersUnavailable(context.connection) : undefined;
      if (unavailable) context.log('info', `connections on the main thread: ${unavailable}`);
      if (count <= 1 || unavailable) return { connections: context.users.length, run: run() };
      // What the stage resolves once (the coder CLI, the app host) first, so no worker races for it.
      await openers(context as StageRunContext<Settings>);
      const workers = await EchoWorkerSet.boot({ ...context, stageId, random: Math.random }, count);
      return { connections: context.users.length, run: run(workers), close: () => workers.close() };
    },
  };
}
