// The simulated deployment's provisioner daemons and their job queue, as coderd runs them:
// every provisioner job (workspace builds of any transition, template imports) waits in one
// queue; each daemon runs one job at a time and, when idle, acquires the oldest pending job
// (coderd/database/queries/provisionerjobs.sql, AcquireProvisionerJob: human-initiated jobs
// before prebuild jobs, then created_at). Queue figures follow
// GetProvisionerJobsByIDsWithQueuePosition: rank among pending jobs for the online daemons,
// 0/0 once started or when no daemon is online. A daemon is online while its last heartbeat is
// younger than coderd's StaleInterval (90 s, coderd/provisionerdserver/provisionerdserver.go);
// daemons heartbeat every minute (DefaultHeartbeatInterval) and on every acquire and completion.
import * as crypto from 'crypto';
import type * as S from '../coder/schemas';

/** coderd's provisionerdserver.StaleInterval. */
export const STALE_INTERVAL_MS = 90_000;
/** coderd's provisionerdserver.DefaultHeartbeatInterval. */
export const HEARTBEAT_INTERVAL_MS = 60_000;
/** database.PrebuildsSystemUserID: its jobs sort after everyone else's. */
export const PREBUILDS_SYSTEM_USER_ID = 'c42fdf75-3097-471c-8c33-fb52454d81c0';

export type ProvisionerJobKind = 'workspace_build' | 'template_version_import' | 'template_version_dry_run';

/** The job fields the queue reads and writes; the owner (a build, a template version) keeps the rest. */
export interface QueuedJob {
  id: string;
  status: S.ProvisionerJobStatusValue;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  canceledAt?: string;
  error?: string;
  workerId?: string;
}

export interface JobWork {
  kind: ProvisionerJobKind;
  initiatorId: string;
  /** How long a daemon works on the job once acquired (ms). */
  durationMs: number;
  /** Called when a daemon acquires the job (status running, started_at and worker set already). */
  onStart(daemon: SimDaemon): void;
  /** Called when the work is done; the owner sets the final status. The daemon then takes the next job. */
  onFinish(): void;
}

export interface SimDaemon {
  id: string;
  name: string;
  createdAt: string;
  lastSeenAt: number;
  /** The job it is running, if any. */
  current?: { job: QueuedJob; work: JobWork; timer: NodeJS.Timeout };
  previous?: { job: QueuedJob; work: JobWork };
  /** A stalled daemon neither heartbeats nor acquires jobs (fault `stalledProvisioners`). */
  stalled: boolean;
}

export interface ProvisionerOptions {
  /** Number of daemons (coderd's built-in default is 3; the reference deployment runs 50). */
  count: number;
  /** From a job becoming available to an idle daemon acquiring it (provisionerd's pubsub wake-up). */
  acquireDelayMs?: number;
  /** How many daemons are stalled (fault). */
  stalled?(): number;
  now?(): number;
}

interface Pending {
  job: QueuedJob;
  work: JobWork;
  seq: number;
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fancy', 'gentle', 'happy', 'jolly', 'kind', 'lucid', 'merry'];
const NAMES = ['turing', 'hopper', 'lovelace', 'knuth', 'ritchie', 'thompson', 'liskov', 'dijkstra', 'hamilton', 'kay'];

export class SimProvisioners {
  private readonly daemons: SimDaemon[] = [];
  private pending: Pending[] = [];
  private seq = 0;
  private acquireScheduled = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly now: () => number;
  /** Highest number of pending jobs seen, for the simulator's own figures. */
  peakPending = 0;

  constructor(private readonly options: ProvisionerOptions) {
    this.now = options.now ?? Date.now;
    const created = new Date(this.now()).toISOString();
    for (let i = 0; i < options.count; i++) {
      const name = `${ADJECTIVES[i % ADJECTIVES.length]}_${NAMES[Math.floor(i / ADJECTIVES.length) % NAMES.length]}${i >= 100 ? i : ''}`;
      this.daemons.push({ id: crypto.randomUUID(), name, createdAt: created, lastSeenAt: this.now(), stalled: false });
    }
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /** Queues a job; an idle daemon takes it after the acquire delay. */
  submit(job: QueuedJob, work: JobWork): void {
    job.status = 'pending';
    this.pending.push({ job, work, seq: this.seq++ });
    this.peakPending = Math.max(this.peakPending, this.pending.length);
    this.scheduleAcquire();
  }

  /**
   * Cancels a job: a pending one leaves the queue at once (coderd completes a canceled pending
   * job immediately); a running one stops its work and frees its daemon. Returns whether it was pending.
   */
  cancel(job: QueuedJob): 'pending' | 'running' | 'none' {
    const index = this.pending.findIndex((entry) => entry.job === job);
    if (index >= 0) {
      this.pending.splice(index, 1);
      return 'pending';
    }
    const daemon = this.daemons.find((d) => d.current?.job === job);
    if (!daemon?.current) return 'none';
    clearTimeout(daemon.current.timer);
    this.release(daemon);
    return 'running';
  }

  /** coderd's queue figures for a job (1-based rank, pending count); 0/0 when not pending or no daemon is online. */
  queueOf(job: QueuedJob): { position: number; size: number } {
    if (job.status !== 'pending' || this.online().length === 0) return { position: 0, size: 0 };
    const order = this.ordered();
    const position = order.findIndex((entry) => entry.job === job) + 1;
    return position > 0 ? { position, size: order.length } : { position: 0, size: 0 };
  }

  /** codersdk.MatchedProvisioners (every daemon has the tags our jobs carry). */
  matched(at = this.now()): { count: number; available: number; most_recently_seen?: string } {
    const latest = Math.max(...this.daemons.map((d) => d.lastSeenAt));
    return {
      count: this.daemons.length,
      available: this.online(at).length,
      ...(this.daemons.length ? { most_recently_seen: new Date(latest).toISOString() } : {}),
    };
  }

  pendingCount(): number {
    return this.pending.length;
  }

  runningCount(): number {
    return this.daemons.filter((d) => d.current).length;
  }

  list(): readonly SimDaemon[] {
    this.applyStalls();
    return this.daemons;
  }

  /** Daemons seen within the stale interval (coderd's "online"). */
  online(at = this.now()): SimDaemon[] {
    this.applyStalls();
    return this.daemons.filter((d) => this.seen(d, at));
  }

  /** A running daemon heartbeats every minute, within the 90 s stale interval: only a stalled one goes stale. */
  private seen(daemon: SimDaemon, at: number): boolean {
    return !daemon.stalled || at - daemon.lastSeenAt <= STALE_INTERVAL_MS;
  }

  status(daemon: SimDaemon, at = this.now()): 'offline' | 'busy' | 'idle' {
    if (!this.seen(daemon, at)) return 'offline';
    return daemon.current ? 'busy' : 'idle';
  }

  /** Pending jobs in acquisition order: human-initiated before prebuilds, then oldest first. */
  ordered(): readonly Pending[] {
    const prebuild = (entry: Pending) => (entry.work.initiatorId === PREBUILDS_SYSTEM_USER_ID ? 1 : 0);
    return [...this.pending].sort((a, b) => prebuild(a) - prebuild(b) || a.seq - b.seq);
  }

  /** Stops the heartbeat and every running job's timer (the deployment is closing). */
  dispose(): void {
    clearInterval(this.heartbeat);
    for (const daemon of this.daemons) if (daemon.current) clearTimeout(daemon.current.timer);
    this.pending = [];
  }

  private applyStalls(): void {
    const stalled = Math.min(this.options.stalled?.() ?? 0, this.daemons.length);
    this.daemons.forEach((daemon, index) => {
      const wasStalled = daemon.stalled;
      daemon.stalled = index < stalled;
      if (wasStalled && !daemon.stalled) {
        daemon.lastSeenAt = this.now();
        this.scheduleAcquire();
      }
    });
  }

  private beat(): void {
    this.applyStalls();
    for (const daemon of this.daemons) if (!daemon.stalled) daemon.lastSeenAt = this.now();
    this.scheduleAcquire();
  }

  private scheduleAcquire(): void {
    if (this.acquireScheduled) return;
    this.acquireScheduled = true;
    const timer = setTimeout(() => {
      this.acquireScheduled = false;
      this.acquire();
    }, this.options.acquireDelayMs ?? 50);
    timer.unref?.();
  }

  private acquire(): void {
    this.applyStalls();
    for (const daemon of this.daemons) {
      if (daemon.current || daemon.stalled) continue;
      const next = this.ordered()[0];
      if (!next) return;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.start(daemon, next);
    }
  }

  private start(daemon: SimDaemon, { job, work }: Pending): void {
    daemon.lastSeenAt = this.now();
    job.status = 'running';
    job.startedAt = new Date(this.now()).toISOString();
    job.workerId = daemon.id;
    const timer = setTimeout(
      () => {
        this.release(daemon);
        work.onFinish();
      },
      Math.max(0, work.durationMs),
    );
    daemon.current = { job, work, timer };
    work.onStart(daemon);
  }

  private release(daemon: SimDaemon): void {
    if (daemon.current) daemon.previous = { job: daemon.current.job, work: daemon.current.work };
    daemon.current = undefined;
    if (!daemon.stalled) daemon.lastSeenAt = this.now();
    this.scheduleAcquire();
  }
}
