// The morning rush: every user's workspace starts at once, as on Monday 9:00. Follows Coder's
// own runner (scaletest/autostart/run.go): stop the run's workspaces, give them all one
// autostart schedule a short while ahead, and time each one from the scheduled minute; the
// manual variant requests the start builds itself at a plan-given rate. Per workspace:
// scheduled → build created → job started (a provisioner took it) → build succeeded → agent
// ready, watched over watch-ws as the dashboard does; the provisioner queue (jobs pending)
// is read once a second. Its figures, charts and sentence are declared in ./descriptor.ts.
import type WebSocket from 'ws';
import { watchWorkspace, type schemas as S } from '../../../coder';
import { runPool } from '../../common/pool';
import type { StageRunContext, StageRunner } from '../definition';
import type { MorningRushSettings } from './descriptor';
import { userConnection } from '../echo/transports';
import type { PreparedUser } from '../../prepare/prepare';

const MINUTE = 60_000;

interface Rush {
  user: PreparedUser;
  /** Epoch ms the start was due (the scheduled minute, or the manual request's send time). */
  scheduledAt?: number;
  stopBuildNumber: number;
  /** When the watcher saw each step (epoch ms, this machine's clock, like scheduledAt). */
  createdAt?: number;
  startedAt?: number;
  succeededAt?: number;
  readyAt?: number;
  failed?: string;
  socket?: WebSocket;
}

function agentsReady(workspace: S.Workspace): boolean {
  const agents = (workspace.latest_build.resources ?? []).flatMap((resource) => resource.agents ?? []);
  return (
    agents.length > 0 && agents.every((agent) => (agent.lifecycle_state ? agent.lifecycle_state === 'ready' : agent.status === 'connected'))
  );
}

const workspaceOf = (rush: Rush) => ({ id: rush.user.workspaceId, name: rush.user.workspaceName });

/** The UTC schedule of the minute `at` (coderd's cron.Weekly form). */
export function scheduleFor(at: number): string {
  const date = new Date(at);
  return `CRON_TZ=UTC ${date.getUTCMinutes()} ${date.getUTCHours()} * * *`;
}

export async function runMorningRush(context: StageRunContext<MorningRushSettings>): Promise<void> {
  const { users, settings, metrics, signal, owner, log, plan } = context;
  const rushes: Rush[] = users.map((user) => ({ user, stopBuildNumber: 0 }));
  const concurrency = plan.concurrency.prepare;
  metrics.targetConnections = users.length;
  metrics.progress = { done: 0, total: users.length, failed: 0 };
  const progress = metrics.progress;
  const organizationId = (await owner.me()).organization_ids?.[0];
  if (!organizationId) throw new Error('the owner belongs to no organization: cannot read the provisioner queue');

  // 1. Stop every workspace (the reference runner stops them, then waits for all at a barrier).
  log('info', `stopping ${users.length} workspace(s) before the rush`);
  await runPool(
    rushes,
    concurrency,
    async (rush) => {
      try {
        const stop = await rush.user.client.createBuild(rush.user.workspaceId, { transition: 'stop' });
        rush.stopBuildNumber = stop.build_number;
        // Bounded like the reference runner's workspace_job_timeout: a stuck stop must not hold the run.
        await rush.user.client.waitForBuild(stop.id, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutSeconds * 1000)]),
        });
      } catch (error) {
        rush.failed = `stop: ${(error as Error).message}`;
        metrics.countError('stop');
        progress.failed++;
      }
    },
    signal,
  );
  if (signal.aborted) return;

  // 2. Watch every workspace over watch-ws, as the dashboard does.
  const figures = metrics.figures;
  Object.assign(figures, { queued: 0, building: 0, started: 0, succeeded: 0, ready: 0, queue_peak: 0 });
  const notePeak = (depth: number) => (figures.queue_peak = Math.max(figures.queue_peak ?? 0, depth));
  const sinceScheduled = (rush: Rush, at: number) => Math.max(0, at - rush.scheduledAt!);
  const onWorkspace = (rush: Rush, workspace: S.Workspace, at: number) => {
    const build = workspace.latest_build;
    const job = build.job;
    if (rush.failed || build.transition !== 'start' || build.build_number <= rush.stopBuildNumber || rush.scheduledAt === undefined) return;
    if (rush.createdAt === undefined) {
      rush.createdAt = at;
      metrics.latencyOf('build_created').record(sinceScheduled(rush, at));
    }
    // coderd's queue_size on a pending job: every job waiting for a daemon that could take it.
    if (job.status === 'pending') notePeak(job.queue_size ?? 0);
    if (job.status !== 'pending' && rush.startedAt === undefined) {
      rush.startedAt = at;
      figures.started++;
      metrics.latencyOf('build_started').record(sinceScheduled(rush, at));
      // Both ends on coderd's clock when it gives them; else as the watcher saw them.
      const created = Date.parse(job.created_at ?? '');
      const started = Date.parse(job.started_at ?? '');
      metrics.latencyOf('queue_wait').record(Number.isFinite(created + started) ? Math.max(0, started - created) : at - rush.createdAt);
    }
    if (job.status === 'succeeded' && rush.succeededAt === undefined) {
      rush.succeededAt = at;
      figures.succeeded++;
      metrics.latencyOf('build_succeeded').record(sinceScheduled(rush, at));
    }
    if (job.status === 'failed' || job.status === 'canceled') {
      rush.failed = `build ${job.status}${job.error ? `: ${job.error}` : ''}`;
      metrics.countError('build_failed');
      progress.failed++;
      return;
    }
    if (rush.readyAt === undefined && job.status === 'succeeded' && agentsReady(workspace)) {
      rush.readyAt = at;
      metrics.latency.record(sinceScheduled(rush, at));
      metrics.activeConnections++;
      figures.ready++;
      progress.done++;
    }
  };
  await runPool(
    rushes.filter((rush) => !rush.failed),
    concurrency,
    async (rush) => {
      try {
        rush.socket = await watchWorkspace({
          connection: userConnection(context.connection, rush.user),
          workspaceId: rush.user.workspaceId,
          signal,
          onFrame: (frame) => {
            if (frame.type === 'data' && frame.data) onWorkspace(rush, frame.data as S.Workspace, Date.now());
          },
          onBadFrame: () => metrics.countError('watch_frame'),
          onClose: () => {
            if (rush.readyAt === undefined && !rush.failed && !signal.aborted && rush.socket) metrics.disconnects++;
          },
        });
      } catch (error) {
        rush.failed = `watch: ${(error as Error).message}`;
        metrics.countError('watch');
        progress.failed++;
      }
    },
    signal,
  );

  // 3. The queue, once a second (owner: coderd lists jobs to those who may read them).
  const pollQueue = async () => {
    try {
      const jobs = await owner.provisionerJobs(organizationId, { status: 'pending', limit: Math.max(50, users.length * 4) }, signal);
      figures.queued = jobs.length;
    } catch {
      // An older coderd without the listing: the queue is read from the run's own builds.
      figures.queued = rushes.filter((rush) => rush.createdAt !== undefined && rush.startedAt === undefined).length;
    }
    notePeak(figures.queued);
    figures.building = rushes.filter((rush) => rush.startedAt !== undefined && rush.succeededAt === undefined && !rush.failed).length;
  };
  const queueTimer = setInterval(() => void pollQueue(), 1000);
  const schedules: Rush[] = [];
  try {
    // 4. The rush itself.
    const live = rushes.filter((rush) => !rush.failed);
    if (settings.mode === 'autostart') {
      const scheduledAt = Math.ceil((Date.now() + settings.delaySeconds * 1000) / MINUTE) * MINUTE;
      const schedule = scheduleFor(scheduledAt);
      log(
        'info',
        `autostart schedule "${schedule}" for ${live.length} workspace(s): the rush starts at ${new Date(scheduledAt).toISOString()}`,
      );
      await runPool(
        live,
        concurrency,
        async (rush) => {
          try {
            // Recorded with the run's resources: a schedule left behind is cleared by the run.
            schedules.push(rush);
            await context.resources.setAutostart(rush.user, workspaceOf(rush), schedule);
            rush.scheduledAt = scheduledAt;
          } catch (error) {
            rush.failed = `schedule: ${(error as Error).message}`;
            metrics.countError('schedule');
            progress.failed++;
          }
        },
        signal,
      );
      if (Date.now() >= scheduledAt) {
        throw new Error(
          `setting ${live.length} schedules took until after the scheduled minute; coderd would start them a day later: raise traffic.morning_rush.delaySeconds (the reference runner's minimum is 120)`,
        );
      }
    } else {
      const start = Date.now();
      const gapMs = settings.ratePerSecond > 0 ? 1000 / settings.ratePerSecond : 0;
      log('info', `requesting ${live.length} start build(s)${gapMs ? ` at ${settings.ratePerSecond}/s` : ' at once'}`);
      await Promise.all(
        live.map(async (rush, index) => {
          const due = start + index * gapMs;
          if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
          if (signal.aborted) return;
          rush.scheduledAt = Date.now();
          try {
            await rush.user.client.createBuild(rush.user.workspaceId, { transition: 'start' });
          } catch (error) {
            rush.failed = `start: ${(error as Error).message}`;
            metrics.countError('start');
            progress.failed++;
          }
        }),
      );
    }

    // 5. Until everyone is ready (or failed), the timeout, or an abort.
    const scheduled = rushes.filter((rush) => rush.scheduledAt !== undefined);
    const deadline = Math.max(...scheduled.map((rush) => rush.scheduledAt!), Date.now()) + settings.timeoutSeconds * 1000;
    while (!signal.aborted && Date.now() < deadline && rushes.some((rush) => rush.readyAt === undefined && !rush.failed)) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await pollQueue();
    const notReady = rushes.filter((rush) => rush.readyAt === undefined && !rush.failed);
    notReady.forEach(() => metrics.countError('not_ready'));
    if (notReady.length) {
      const waiting = notReady.filter((rush) => rush.createdAt !== undefined && rush.startedAt === undefined).length;
      const notCreated = notReady.filter((rush) => rush.createdAt === undefined).length;
      metrics.reason =
        `${notReady.length} of ${users.length} workspace(s) not ready after ${settings.timeoutSeconds}s` +
        (waiting ? `; ${waiting} build(s) still waiting for a provisioner (queue ${figures.queued})` : '') +
        (notCreated
          ? `; ${notCreated} never got a start build${settings.mode === 'autostart' ? ' (the autostart did not fire)' : ''}`
          : '');
    }
    try {
      figures.provisioners = (await owner.provisionerDaemons(organizationId)).filter((daemon) => daemon.status !== 'offline').length;
    } catch {
      // Listing daemons is newer than some coderd releases: the sentence says "an unknown number".
    }
  } finally {
    clearInterval(queueTimer);
    for (const rush of rushes) rush.socket?.close();
    // Leave nothing behind: the schedule this stage set would start the workspaces every day
    // (one it could not clear, the run clears once the timeline is over).
    await runPool(schedules, concurrency, async (rush) => {
      try {
        await context.resources.setAutostart(rush.user, workspaceOf(rush), null);
      } catch (error) {
        log('warn', `could not clear the autostart schedule of ${rush.user.workspaceName}: ${(error as Error).message}`);
      }
    });
  }
}

export const morningRushRunner: StageRunner<MorningRushSettings> = { run: runMorningRush };
