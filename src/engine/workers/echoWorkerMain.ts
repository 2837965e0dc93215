// A stage's worker thread (bundled as dist/echoWorker.js): runs one traffic stage's own code on
// its share of the users, with a StageMetrics of its own, and hands the coordinator a report
// once a second plus a final one. Boots before T0 and waits for the stage's window; stops at
// the window's end, or when the coordinator says so.
import { parentPort, workerData } from 'worker_threads';
import { CoderClient } from '../../coder/client';
import { StageMetrics } from '../metrics/stageMetrics';
import type { StageUser } from '../prepare/prepare';
import { seededRandom } from '../common/random';
import { findTrafficStage, registerStage } from '../stages/registry';
import type { ReadyStage, TrafficStageDefinition } from '../stages/definition';
import type { EchoWorkerData, FromWorker, ToWorker } from './protocol';
import { reportsWorkspaces, takeWorkerReport } from './stageReport';
import { workerThreadResources } from '../run/stageResources';

const data = workerData as EchoWorkerData;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

/** Resolves with the stage's window once the coordinator starts it; undefined when it stops the worker first. */
function waitForStart(controller: AbortController): Promise<Extract<ToWorker, { type: 'start' }> | undefined> {
  return new Promise((resolve) => {
    port.on('message', (message: ToWorker) => {
      if (message.type === 'start') resolve(message);
      else {
        controller.abort();
        resolve(undefined);
      }
    });
  });
}

/** The stage, through the registry; a stage registered at run time is registered here from its module first. */
function lookUpStage(): TrafficStageDefinition {
  if (data.stageModule && !findTrafficStage(data.stageId)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plug-in's module, named at run time
    const exported = Object.values(require(data.stageModule) as Record<string, unknown>);
    const definition = exported.find(
      (value): value is TrafficStageDefinition => (value as TrafficStageDefinition | undefined)?.id === data.stageId,
    );
    if (definition) registerStage(definition);
  }
  const stage = findTrafficStage(data.stageId);
  if (!stage) throw new Error(`stage "${data.stageId}" is not registered in the worker thread (its definition's module is not known)`);
  if (!stage.runsOnWorkers) throw new Error(`stage "${data.stageId}" does not run on worker threads`);
  return stage;
}

async function main(): Promise<void> {
  const stage = lookUpStage();
  const controller = new AbortController();
  const started = waitForStart(controller);
  const owner = new CoderClient(data.connection, { bypassRateLimit: true });
  const users = data.users.map((user) => {
    let client: CoderClient | undefined;
    // The echo openers never call the user's client; made on demand should one ever be needed.
    return Object.defineProperty({ ...user }, 'client', {
      get: () => (client ??= new CoderClient({ ...data.connection, token: user.token })),
    }) as StageUser;
  });
  const context = {
    connection: data.connection,
    owner,
    signal: controller.signal,
    coderBinaryPath: data.coderBinaryPath,
    cacheDir: data.cacheDir,
    plan: data.plan,
    settings: (data.plan.traffic as Record<string, Record<string, unknown>>)[stage.id],
    users,
    log: (level: 'info' | 'warn' | 'error', message: string) => post({ type: 'log', level, message }),
    resources: workerThreadResources(data.runId),
  };
  const metrics = new StageMetrics(stage.id, stage.title, undefined, stage.color, stage);
  let error: string | undefined;
  try {
    // On this thread: the stage sets up to run its share here, not on workers of its own.
    const runner = await stage.load();
    const ready: Pick<ReadyStage<unknown, StageUser>, 'run' | 'close'> = runner.setUp
      ? await runner.setUp({ ...context, onWorkerThread: true } as never)
      : { run: runner.run! as ReadyStage<unknown, StageUser>['run'] };
    post({ type: 'ready' });
    const window = await started;
    if (window) {
      let reports = 0;
      const reporter = setInterval(
        () => post({ type: 'report', report: takeWorkerReport(metrics, reportsWorkspaces(++reports, metrics.workspaces.size)) }),
        data.reportIntervalMs,
      );
      try {
        await ready.run({
          ...context,
          metrics,
          endAt: window.endAt,
          random: seededRandom(data.seed),
          scheduleStartEpochMs: window.scheduleStartEpochMs,
        });
      } finally {
        clearInterval(reporter);
        await ready.close?.();
      }
    }
  } catch (caught) {
    error = (caught as Error).message;
  } finally {
    owner.close();
  }
  post({ type: 'done', report: takeWorkerReport(metrics, true), error });
}

main().then(
  () => port.close(),
  (error: Error) => {
    // Thrown again outside the promise: the coordinator sees the worker's 'error' event.
    setImmediate(() => {
      throw error;
    });
  },
);
