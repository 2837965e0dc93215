// Workspace updates: every user watches its own workspaces while builds happen on them, and the
// stage times how long an update takes to reach the watcher. Coder's runner
// (scaletest/workspaceupdates/run.go) watches over the tailnet control protocol
// (`/api/v2/tailnet`: yamux + dRPC + protobuf, the stream Coder Desktop uses); this stage watches
// over `watch-ws`, the dashboard's stream — docs/stages/workspace-updates.md says why. Both are
// fed by the same coderd publisher (wspubsub.WorkspaceEventChannel of the owner). A watcher
// cannot watch a workspace before it exists, so the builds timed are the stage's own builds on
// workspaces it created for the purpose: latency = build requested → the first update that
// carries that build.
import type WebSocket from 'ws';
import { watchWorkspace, type schemas as S } from '../../../coder';
import { runPool } from '../../common/pool';
import type { PreparedUser } from '../../prepare/prepare';
import type { StageRunContext, StageRunner } from '../definition';
import type { WorkspaceUpdatesSettings } from './descriptor';
import { userConnection } from '../echo/transports';

interface Watched {
  user: PreparedUser;
  id: string;
  name: string;
  socket?: WebSocket;
  transition: 'start' | 'stop';
  /** When each build id was first seen by the watcher (performance.now()). */
  seen: Map<string, number>;
  /** Terminal job status per build id, as the watcher saw it. */
  done: Map<string, string>;
  closing: boolean;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

async function until(check: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (signal.aborted || performance.now() >= deadline) return false;
    await sleep(50, signal);
  }
  return true;
}

export async function runWorkspaceUpdates(context: StageRunContext<WorkspaceUpdatesSettings>): Promise<void> {
  const { users, settings, metrics, signal, endAt, random, plan, log, resources } = context;
  const jobTimeoutMs = plan.timeouts.connectSeconds * 1000 * 10;
  const watched: Watched[] = [];
  metrics.targetConnections = users.length * settings.workspacesPerUser;
  const figures = Object.assign(metrics.figures, { builds: 0, seen: 0, missed: 0 });

  const watch = async (item: Watched) => {
    item.socket = await watchWorkspace({
      connection: userConnection(context.connection, item.user),
      workspaceId: item.id,
      signal,
      onFrame: (frame, at) => {
        if (frame.type === 'error') metrics.countError('watch_error');
        if (frame.type !== 'data' || !frame.data) return;
        const build = (frame.data as S.Workspace).latest_build;
        metrics.bytesReceived += 1;
        if (!item.seen.has(build.id)) item.seen.set(build.id, at);
        if (['succeeded', 'failed', 'canceled'].includes(build.job.status)) item.done.set(build.id, build.job.status);
      },
      onBadFrame: () => metrics.countError('frame'),
      onClose: () => {
        metrics.activeConnections = Math.max(0, metrics.activeConnections - 1);
        if (!item.closing && !signal.aborted) {
          metrics.disconnects++;
          item.socket = undefined;
        }
      },
    });
    metrics.activeConnections++;
  };

  try {
    // The workspaces to watch: created by this stage through the run's resources (journaled, named like the run's).
    const slots = users.flatMap((user) => Array.from({ length: settings.workspacesPerUser }, () => user));
    log('info', `creating ${slots.length} workspace(s) to watch`);
    await runPool(
      slots,
      plan.concurrency.prepare,
      async (user) => {
        try {
          const own = await user.client.getWorkspace(user.workspaceId, { signal });
          const created = await resources.createWorkspace(user, own.organization_id, { template_id: own.template_id });
          const item: Watched = {
            user,
            id: created.id,
            name: created.name,
            transition: 'start',
            seen: new Map(),
            done: new Map(),
            closing: false,
          };
          watched.push(item);
          await user.client.waitForBuild(created.latest_build.id, { signal });
          await watch(item);
        } catch (error) {
          if (!signal.aborted) metrics.countError('create');
          log('warn', `${user.username}: ${(error as Error).message}`);
        }
      },
      signal,
    );

    // Builds on every watched workspace, one at a time each, timed to the update that shows them.
    await Promise.all(
      watched.map(async (item) => {
        while (!signal.aborted && Date.now() < endAt) {
          const wait = (settings.intervalSeconds + (random() * 2 - 1) * settings.jitterSeconds) * 1000;
          await sleep(Math.min(wait, endAt - Date.now()), signal);
          if (signal.aborted || Date.now() >= endAt) break;
          if (!item.socket) {
            metrics.reconnects++;
            await watch(item).catch(() => metrics.countError('watch'));
            if (!item.socket) continue;
          }
          item.transition = item.transition === 'start' ? 'stop' : 'start';
          const sentAt = performance.now();
          let build: S.WorkspaceBuild;
          try {
            build = await item.user.client.createBuild(item.id, { transition: item.transition });
          } catch (error) {
            metrics.countError('build');
            log('warn', `${item.name}: ${(error as Error).message}`);
            continue;
          }
          metrics.sent++;
          figures.builds++;
          if (await until(() => item.seen.has(build.id), plan.timeouts.connectSeconds * 1000, signal)) {
            metrics.completed++;
            figures.seen++;
            metrics.latency.record(item.seen.get(build.id)! - sentAt);
          } else if (!signal.aborted) {
            metrics.countError('missed');
            figures.missed++;
          }
          // The next build only once this one is over (coderd refuses a second active build).
          await until(() => item.done.has(build.id), jobTimeoutMs, signal);
        }
      }),
    );
  } finally {
    for (const item of watched) {
      item.closing = true;
      item.socket?.close();
    }
    // The stage's own workspaces go when it ends; after an abort, or where a deletion fails, the
    // run's cleanup deletes them (they are in its list and its journal).
    if (!signal.aborted) {
      await runPool(watched, plan.concurrency.cleanup, async (item) => {
        try {
          await resources.deleteWorkspace(item.id);
        } catch (error) {
          log('warn', `could not delete ${item.name} (the run's cleanup will try again): ${(error as Error).message}`);
        }
      });
    }
  }
}

export const workspaceUpdatesRunner: StageRunner<WorkspaceUpdatesSettings> = { run: runWorkspaceUpdates };
