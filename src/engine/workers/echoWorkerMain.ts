// An echo worker thread (bundled as dist/echoWorker.js): runs one traffic stage's own code on
// its share of the users, with a StageMetrics of its own, and hands the coordinator a report
// once a second plus a final one. Boots before T0 and waits for the stage's window; stops at
// the window's end, or when the coordinator says so.
import { parentPort, workerData } from 'worker_threads';
import { CoderClient } from '../../coder/client';
import { StageMetrics } from '../metrics/stageMetrics';
import type { PreparedUser } from '../prepare/prepare';
import { seededRandom } from '../common/random';
import { BUILTIN_TRAFFIC_STAGES } from '../stages/registry';
import type { TrafficStageDefinition } from '../stages/definition';
import { userConnection } from '../stages/echo/transports';
import type { EchoWorkerData, FromWorker, ToWorker } from './protocol';
import { takeWorkerReport } from './stageReport';

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

async function main(): Promise<void> {
  const stage = (BUILTIN_TRAFFIC_STAGES as readonly TrafficStageDefinition[]).find((candidate) => candidate.id === data.stageId);
  if (!stage?.runsOnWorkers) throw new Error(`stage "${data.stageId}" cannot run in a worker thread (not a built-in echo stage)`);
  const controller = new AbortController();
  const started = waitForStart(controller);
  const owner = new CoderClient(data.connection, { bypassRateLimit: true });
  const users = data.users.map((user) => {
    let client: CoderClient | undefined;
    // The echo openers never call the user's client; made on demand should one ever be needed.
    return Object.defineProperty({ ...user }, 'client', {
      get: () => (client ??= new CoderClient(userConnection(data.connection, user as PreparedUser))),
    }) as PreparedUser;
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
  };
  const metrics = new StageMetrics(stage.id, stage.title);
  let error: string | undefined;
  try {
    // The plan says one thread here: the stage sets up to run on this one.
    const ready = stage.setUp ? await stage.setUp(context) : { run: stage.run! };
    post({ type: 'ready' });
    const window = await started;
    if (window) {
      const reporter = setInterval(() => post({ type: 'report', report: takeWorkerReport(metrics) }), data.reportIntervalMs);
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
        await ('close' in ready ? ready.close?.() : undefined);
      }
    }
  } catch (caught) {
    error = (caught as Error).message;
  } finally {
    owner.close();
  }
  post({ type: 'done', report: takeWorkerReport(metrics), error });
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
