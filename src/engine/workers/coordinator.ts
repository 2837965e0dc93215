// The coordinator's half of an echo stage spread over worker threads: at the stage's set-up
// (before T0) it shares the stage's users out and boots one worker per share
// (src/engine/workers/echoWorkerMain.ts); in the stage's window it starts them and folds their
// once-a-second reports into the stage's one StageMetrics (so snapshots, thresholds, history
// and reports read merged figures exactly as they read a single thread's), and waits for
// them to end. A worker that crashes or exits early ends the stage with an error naming it;
// the others are stopped; none can keep the run waiting past a bounded grace period.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { Worker } from 'worker_threads';
import type { DeploymentConnection } from '../../coder/connection';
import type { StageMetrics } from '../metrics/stageMetrics';
import type { Plan } from '../plan/plan';
import type { StageUser } from '../prepare/prepare';
import { findTrafficStage } from '../stages/registry';
import type { EchoWorkerData, FromWorker, ToWorker, WorkerUser } from './protocol';
import { WorkerReportMerger } from './stageReport';

const REPORT_INTERVAL_MS = 1000;
/** After the stage's end (or a stop), how long workers get to drain and report before they are terminated. */
const FINISH_GRACE_MS = 15_000;
/** A worker that has not booted by then is terminated (and its share of the stage fails). */
const BOOT_TIMEOUT_MS = 60_000;

/** How many worker threads a stage of `connections` uses: 0 or 1 = none (the main thread). */
export function echoWorkerCount(planned: number | undefined, connections: number): number {
  const wanted = planned ?? Math.max(1, os.availableParallelism() - 1);
  return Math.max(0, Math.min(wanted, connections));
}

/** The worker's script: dist/echoWorker.js beside the bundle, or the TypeScript source under tsx (tests, the bench). */
export function echoWorkerScript(): { file: string; eval: boolean } | undefined {
  const bundled = path.join(__dirname, 'echoWorker.js');
  if (fs.existsSync(bundled)) return { file: bundled, eval: false };
  const source = path.join(__dirname, 'echoWorkerMain.ts');
  if (!fs.existsSync(source) || !resolvable('tsx/cjs')) return undefined;
  // A worker cannot start a .ts file itself: it registers tsx's loader first.
  return { file: `require('tsx/cjs'); require(${JSON.stringify(source)});`, eval: true };
}

/** What the coordinator needs to boot a stage's workers before T0. */
export interface EchoWorkerSetUp {
  stageId: string;
  resources: { runId: string };
  plan: Plan;
  users: readonly StageUser[];
  connection: DeploymentConnection;
  cacheDir?: string;
  coderBinaryPath?: string;
  random: () => number;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

function resolvable(request: string): boolean {
  try {
    require.resolve(request);
    return true;
  } catch {
    return false;
  }
}

/** Why a stage cannot use worker threads (then it runs on the main thread), or undefined. */
export function workersUnavailable(connection: DeploymentConnection): string | undefined {
  if (connection.lookup) return 'the connection resolves names with a custom lookup, which cannot cross to a thread';
  if (!echoWorkerScript()) return 'the worker script (echoWorker.js) is not beside the bundle';
  return undefined;
}

/** The user as data: everything prepare found out, without the client (a worker makes its own). */
function workerUser(user: StageUser): WorkerUser {
  const { client: _client, ...data } = user;
  return data;
}

/** The stage's window as the worker set runs it. */
export interface WorkerStageWindow {
  metrics: StageMetrics;
  users: readonly StageUser[];
  /** Epoch ms at which the stage's window ends. */
  endAt: number;
  signal: AbortSignal;
}

/** A stage's worker threads: booted at set-up, started in the stage's window, each ending exactly once. */
export class EchoWorkerSet {
  private readonly failures: string[] = [];
  private merger?: WorkerReportMerger;

  private constructor(
    private readonly runs: WorkerRun[],
    private readonly log: EchoWorkerSetUp['log'],
  ) {}

  /** Boots `count` workers with their shares of the users; resolves once each is ready (or has failed, reported at run). */
  static async boot(setUp: EchoWorkerSetUp, count: number): Promise<EchoWorkerSet> {
    const script = echoWorkerScript()!;
    const baseSeed = setUp.plan.seed ?? Math.floor(setUp.random() * 2 ** 31);
    const plan = { ...setUp.plan, workers: 1 };
    const runs: WorkerRun[] = [];
    const set = new EchoWorkerSet(runs, setUp.log);
    for (let worker = 0; worker < count; worker++) {
      const share = setUp.users.filter((_, index) => index % count === worker);
      const data: EchoWorkerData = {
        runId: setUp.resources.runId,
        stageId: setUp.stageId,
        stageModule: findTrafficStage(setUp.stageId)?.module,
        workerIndex: worker,
        workerCount: count,
        plan,
        connection: { url: setUp.connection.url, token: setUp.connection.token, tls: setUp.connection.tls },
        users: share.map(workerUser),
        seed: baseSeed + worker + 1,
        cacheDir: setUp.cacheDir,
        coderBinaryPath: setUp.coderBinaryPath,
        reportIntervalMs: REPORT_INTERVAL_MS,
      };
      const name = `worker ${worker + 1}/${count}`;
      runs.push(
        runWorker(script, data, {
          onMessage: (message) => set.received(worker, name, message),
          onFailure: (why) => set.failed(`${name} (${share.length} connections) ${why}`),
          onEnd: () => set.merger?.closed(worker),
        }),
      );
    }
    const bootTimer = setTimeout(() => {
      for (const run of runs) if (!run.booted) run.terminate(`did not start within ${BOOT_TIMEOUT_MS / 1000} s`);
    }, BOOT_TIMEOUT_MS);
    await Promise.all(runs.map((run) => run.ready)).finally(() => clearTimeout(bootTimer));
    return set;
  }

  private received(worker: number, name: string, message: FromWorker): void {
    if (message.type === 'log') this.log(message.level, `${name}: ${message.message}`);
    else if (message.type === 'report' || message.type === 'done') this.merger?.apply(worker, message.report);
    if (message.type === 'done' && message.error) this.failures.push(`${name}: ${message.error}`);
  }

  private failed(why: string): void {
    this.merger?.countError('worker_crash');
    this.failures.push(why);
    this.stop();
  }

  private stop(): void {
    for (const run of this.runs) run.worker.postMessage({ type: 'stop' } satisfies ToWorker);
  }

  /** The stage's window: starts every worker, folds their reports into `options.metrics`, rejects if one failed. */
  async run(options: WorkerStageWindow): Promise<void> {
    const { metrics, signal } = options;
    metrics.targetConnections = options.users.length;
    this.merger = new WorkerReportMerger(metrics, this.runs.length);
    // Workers that failed before the window count now that the stage's metrics are known.
    this.failures.forEach(() => this.merger!.countError('worker_crash'));
    const start: ToWorker = { type: 'start', endAt: options.endAt, scheduleStartEpochMs: performance.timeOrigin + performance.now() };
    for (const run of this.runs) run.worker.postMessage(start);
    this.log('info', `${options.users.length} connections over ${this.runs.length} worker threads`);
    const onAbort = () => this.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    // Past the stage's end plus a grace period, a worker that has not finished is terminated.
    const deadline = setTimeout(
      () => {
        for (const run of this.runs) run.terminate(`did not finish within ${FINISH_GRACE_MS / 1000} s of the stage's end`);
      },
      Math.max(0, options.endAt - Date.now()) + FINISH_GRACE_MS,
    );
    try {
      await Promise.all(this.runs.map((run) => run.done));
    } finally {
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
    }
    metrics.state = 'stopping';
    if (this.failures.length > 0) throw new Error(`the stage's worker threads failed: ${this.failures.join('; ')}`);
  }

  /** Ends whatever is still running (a stage that never started, or an aborted set-up). */
  async close(): Promise<void> {
    await Promise.all(this.runs.map((run) => (run.finished ? undefined : run.worker.terminate())));
  }
}

interface WorkerRun {
  worker: Worker;
  /** Resolves once the worker has booted, or has ended before that. */
  ready: Promise<void>;
  booted: boolean;
  done: Promise<void>;
  finished: boolean;
  terminate(why: string): void;
}

/** One worker: its messages, and exactly one end (done, crash, early exit or termination). */
function runWorker(
  script: { file: string; eval: boolean },
  data: EchoWorkerData,
  handlers: { onMessage(message: FromWorker): void; onFailure(why: string): void; onEnd(): void },
): WorkerRun {
  const worker = new Worker(script.file, { eval: script.eval, workerData: data });
  let resolveDone!: () => void;
  let resolveReady!: () => void;
  let completed = false;
  const run: WorkerRun = {
    worker,
    ready: new Promise<void>((resolve) => (resolveReady = resolve)),
    booted: false,
    done: new Promise<void>((resolve) => (resolveDone = resolve)),
    finished: false,
    terminate: (why) => {
      if (run.finished) return;
      fail(why);
      void worker.terminate();
    },
  };
  const finish = () => {
    if (run.finished) return;
    run.finished = true;
    handlers.onEnd();
    resolveReady();
    resolveDone();
  };
  const fail = (why: string) => {
    if (run.finished || completed) return;
    handlers.onFailure(why);
    finish();
  };
  worker.on('message', (message: FromWorker) => {
    if (message.type === 'ready') {
      run.booted = true;
      resolveReady();
    }
    handlers.onMessage(message);
    if (message.type === 'done') completed = true;
  });
  worker.on('error', (error) => fail(`crashed: ${error.message}`));
  worker.on('exit', (code) => {
    if (!completed) fail(`exited before the stage's end (exit code ${code})`);
    finish();
  });
  return run;
}
