// An echo traffic stage (SSH, web terminal, apps): one connection per workspace, opened at
// the stage's slot and closed at its end. Every connection's tick schedule starts within one
// tick interval of the stage's start (phases spread over the interval, see tickPhaseMs), so
// time spent waiting to connect counts as latency.
import { performance } from 'perf_hooks';
import { EchoSession } from './session';
import type { StageMetrics } from '../../metrics/stageMetrics';
import { RampPacer } from './pacing';
import { runPool } from '../../common/pool';
import type { Plan } from '../../plan/plan';
import type { PreparedUser } from '../../prepare/prepare';
import { PayloadPool } from '../../common/random';
import { TickScheduler, tickPhaseMs } from './tickScheduler';
import type { Opener } from './transports';
import type { EchoWorkerSet } from '../../workers/coordinator';

const RAMP_UP_CONCURRENCY = 4;

export interface EchoStageOptions {
  plan: Plan;
  /** The stage's plan fragment (`plan.traffic.<id>`). */
  settings: { bytesPerTick: number; tickIntervalMs: number };
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
  const sessions = users.map(
    (user) =>
      new EchoSession({
        open: openerFor(user),
        bytesPerTick: traffic.bytesPerTick,
        tickIntervalMs: traffic.tickIntervalMs,
        echoTimeoutMs: plan.timeouts.echoSeconds * 1000,
        metrics,
        random: options.random,
        pool,
        scheduler,
        onProblem: (message) => log('warn', `${user.workspaceName}: ${message}`),
      }),
  );
  let firstFailure: string | undefined;
  // Ramp up a few connections at a time, and only while the event loop keeps up: a burst of
  // handshakes (SSH key exchange, CLI start-up) would stall the runner and show up as latency
  // on every connection already running.
  const pacer = new RampPacer();
  let notOpened = 0;
  await runPool(
    sessions,
    RAMP_UP_CONCURRENCY,
    async (session, index) => {
      await pacer.beforeConnect(signal);
      if (signal.aborted) return;
      // A ramp-up slowed by the runner's lag must not carry the stage past its window.
      if (Date.now() >= options.endAt) {
        notOpened++;
        return;
      }
      await session.start(scheduleStart + tickPhaseMs(index, sessions.length, traffic.tickIntervalMs)).catch((error: Error) => {
        metrics.countError('connect');
        firstFailure ??= error.message;
        log('warn', `${users[index].workspaceName}: cannot connect: ${error.message}`);
      });
    },
    signal,
  );
  if (notOpened > 0) {
    for (let i = 0; i < notOpened; i++) metrics.countError('not_opened');
    log(
      'warn',
      `${notOpened} of ${users.length} connections were not opened before the stage's end: the ramp-up, paced by the runner's event-loop lag, ran out of time (an overloaded runner)`,
    );
  }
  if (firstFailure && metrics.activeConnections === 0) log('error', `no connection could be opened: ${firstFailure}`);
  await sleepUntil(options.endAt, signal);
  metrics.state = 'stopping';
  await Promise.all(sessions.map((session) => session.stop()));
}

/** Resolves at `epochMs` or as soon as `signal` aborts. */
export function sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, epochMs - Date.now()));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
