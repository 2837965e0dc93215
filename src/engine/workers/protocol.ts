// The messages between a stage's coordinator (the runner's main thread) and its worker
// threads. Workers boot before T0 (the stage's set-up), so their start-up is not traffic
// time. A worker gets its share of the stage's users in workerData, runs the stage's own
// traffic code on them with metrics of its own, and reports them once a second.
import type { TlsOptions } from '../../coder/connection';
import type { Plan } from '../plan/plan';
import type { PreparedUser, StageUser } from '../prepare/prepare';
import type { WorkerStageReport } from './stageReport';

/** A prepared user without its client (a worker makes its own); with its workspace when the stage asked for one. */
export type WorkerUser = Omit<StageUser, 'client'> & Partial<Omit<PreparedUser, keyof StageUser>>;

export interface EchoWorkerData {
  runId: string;
  stageId: string;
  /** For a stage registered at run time: the module exporting its definition, registered in the worker too. */
  stageModule?: string;
  /** 0-based, of `workerCount`. */
  workerIndex: number;
  workerCount: number;
  plan: Plan;
  connection: { url: string; token?: string; tls?: TlsOptions };
  users: WorkerUser[];
  /** Seeds this worker's payload pool (different per worker: echoes stay checkable per connection). */
  seed: number;
  cacheDir?: string;
  coderBinaryPath?: string;
  reportIntervalMs: number;
}

/** Once booted a worker waits for `start` (the stage's window has begun) or `stop`. */
export type ToWorker =
  | {
      type: 'start';
      /** Epoch ms at which the stage's window ends. */
      endAt: number;
      /** Epoch ms of the stage's tick schedule start (each thread has its own performance.now() origin). */
      scheduleStartEpochMs: number;
    }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'report'; report: WorkerStageReport }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** The stage's traffic is over on this worker; `report` is its final one. */
  | { type: 'done'; report: WorkerStageReport; error?: string };
