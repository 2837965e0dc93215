// The simulated coderd's lifecycle executor, as far as autostart goes
// (coderd/autobuild/lifecycle_executor.go): a ticker (`--autobuild-poll-interval`, hidden,
// default one minute, counted from start-up, not aligned to the wall-clock minute); each tick
// truncates its time to the minute and starts every workspace that is due:
// isEligibleForAutostart (owner active, latest build a stop whose job did not fail, a
// schedule) and `currentTick >= NextAllowedAutostart(latestBuild.created_at, schedule)`, as
// long as a provisioner daemon was seen within the stale interval (hasValidProvisioner,
// coderd issue #17941). Workspaces are handled ten at a time (coderd's errgroup limit); the
// build's reason is `autostart`.
import { Cron } from 'croner';
import type { SimBuild, SimWorkspace } from './store';

/** coderd's `--autobuild-poll-interval` default. */
export const AUTOBUILD_POLL_MS = 60_000;
const MINUTE = 60_000;
/** coderd's errgroup.SetLimit(10) in runOnce. */
const CONCURRENCY = 10;

export interface ParsedSchedule {
  /** The 5-field cron spec without the CRON_TZ prefix. */
  cron: string;
  /** IANA zone (UTC when the schedule has no CRON_TZ prefix). */
  timezone: string;
  next(after: number): number | undefined;
}

/**
 * coderd's cron.Weekly (coderd/schedule/cron/cron.go): five fields with an optional
 * `CRON_TZ=<IANA zone>` prefix; day-of-month and month must be `*`. Throws coderd's messages.
 */
export function parseWeeklySchedule(raw: string): ParsedSchedule {
  let parts = raw.trim().split(/\s+/);
  if (parts.length < 5)
    throw new Error('validate weekly schedule: expected schedule to consist of 5 fields with an optional CRON_TZ=<timezone> prefix');
  let timezone = 'UTC';
  if (parts[0]!.startsWith('CRON_TZ=')) {
    timezone = parts[0]!.slice('CRON_TZ='.length);
    parts = parts.slice(1);
  }
  if (parts.length !== 5)
    throw new Error('parse schedule: expected exactly 5 fields, found ' + parts.length + ': [' + parts.join(' ') + ']');
  if (parts[2] !== '*' || parts[3] !== '*') throw new Error('validate weekly schedule: expected day-of-month and month to be *');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new Error(`parse schedule: provided bad location ${timezone}: unknown time zone ${timezone}`);
  }
  const cron = parts.join(' ');
  let job: Cron;
  try {
    job = new Cron(cron, { timezone, paused: true });
  } catch (error) {
    throw new Error(`parse schedule: ${(error as Error).message}`);
  }
  return {
    cron,
    timezone,
    next: (after) => job.nextRun(new Date(after))?.getTime(),
  };
}

/** coderd's schedule.NextAllowedAutostart with every day allowed: the next time after `at`, truncated to the minute. */
export function nextAutostart(at: number, schedule: string): number | undefined {
  const next = parseWeeklySchedule(schedule).next(at);
  return next === undefined ? undefined : Math.floor(next / MINUTE) * MINUTE;
}

/** What the executor reads and does; the store and the daemons provide it. */
export interface AutobuildTarget {
  workspaces(): Iterable<SimWorkspace>;
  latestBuild(workspace: SimWorkspace): SimBuild;
  isActive(build: SimBuild): boolean;
  /** A daemon seen within the stale interval (coderd's hasValidProvisioner). */
  hasValidProvisioner(at: number): boolean;
  startAutostart(workspace: SimWorkspace): void;
  log(line: string): void;
}

/** coderd's isEligibleForAutostart (every day allowed by the template, as the simulator's template says). */
export function isEligibleForAutostart(workspace: SimWorkspace, latest: SimBuild, currentTick: number): boolean {
  if (workspace.deleted || workspace.owner.status !== 'active') return false;
  if (latest.job.status === 'failed') return false;
  if (latest.transition !== 'stop') return false;
  if (!workspace.autostartSchedule) return false;
  let next: number | undefined;
  try {
    next = nextAutostart(Date.parse(latest.createdAt), workspace.autostartSchedule);
  } catch {
    return false;
  }
  return next !== undefined && currentTick >= next;
}

export class AutobuildExecutor {
  private readonly timer: NodeJS.Timeout;
  private running = false;
  /** Ticks run so far, and workspaces started by them. */
  ticks = 0;
  started = 0;

  constructor(
    private readonly target: AutobuildTarget,
    pollMs = AUTOBUILD_POLL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => void this.runOnce(this.now()), pollMs);
    this.timer.unref();
  }

  /** One tick of coderd's runOnce: returns how many workspaces it started. */
  async runOnce(t: number): Promise<number> {
    if (this.running) return 0; // Go's ticker drops the ticks a busy receiver misses
    this.running = true;
    this.ticks++;
    try {
      const currentTick = Math.floor(t / MINUTE) * MINUTE;
      const due = [...this.target.workspaces()].filter((workspace) =>
        isEligibleForAutostart(workspace, this.target.latestBuild(workspace), currentTick),
      );
      let started = 0;
      for (let i = 0; i < due.length; i += CONCURRENCY) {
        for (const workspace of due.slice(i, i + CONCURRENCY)) {
          // Re-checked per workspace, as coderd does inside each one's transaction.
          const latest = this.target.latestBuild(workspace);
          if (this.target.isActive(latest) || !isEligibleForAutostart(workspace, latest, currentTick)) continue;
          if (!this.target.hasValidProvisioner(t)) {
            this.target.log(`autobuild: skipping autostart of ${workspace.owner.username}/${workspace.name} - no available provisioners`);
            continue;
          }
          this.target.startAutostart(workspace);
          started++;
        }
        // Yield between batches of ten, as coderd's workers hand back to the database.
        await new Promise((resolve) => setImmediate(resolve));
      }
      this.started += started;
      return started;
    } finally {
      this.running = false;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
