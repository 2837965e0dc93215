// Deployment-wide endpoints: build info (coderd/buildinfo.go) and deployment stats
// (coderd/deployment.go), which coderd serves from a periodic collection (coderd/metricscache):
// 400 "Deployment stats are still processing!" until the first one, then the latest snapshot.
import type * as S from '../../coder/schemas';
import { requireOwnerRole } from '../access';
import type { ApiHandlers, SimContext } from '../context';
import { HttpError } from '../http/errors';

/** coderd's default stats refresh interval. */
export const DEPLOYMENT_STATS_INTERVAL_MS = 30_000;
/** The first collection after start: coderd runs it at once, and it takes a moment. */
const FIRST_COLLECTION_MS = 1000;

function collect(sim: SimContext, intervalMs: number): S.DeploymentStats {
  const counts = { pending: 0, building: 0, running: 0, failed: 0, stopped: 0 };
  for (const workspace of sim.store.workspaces.values()) {
    if (workspace.deleted) continue;
    const status = sim.store.latestBuild(workspace).status;
    if (status === 'pending') counts.pending++;
    else if (status === 'starting' || status === 'stopping' || status === 'deleting') counts.building++;
    else if (status === 'running') counts.running++;
    else if (status === 'failed') counts.failed++;
    else if (status === 'stopped') counts.stopped++;
  }
  const collected = new Date();
  return {
    aggregated_from: new Date(collected.getTime() - intervalMs).toISOString(),
    collected_at: collected.toISOString(),
    next_update_at: new Date(collected.getTime() + intervalMs).toISOString(),
    // Go field names without JSON tags: coderd sends P50/P95 (its swagger spec says p50/p95).
    workspaces: { ...counts, connection_latency_ms: { P50: 0, P95: 0 }, rx_bytes: 0, tx_bytes: 0 },
    session_count: { vscode: 0, jetbrains: 0, ssh: sim.sessions.ssh, reconnecting_pty: sim.sessions.reconnecting_pty },
  };
}

/** Collects stats on coderd's schedule; `current()` is what GET /deployment/stats serves. */
export class DeploymentStatsCollector {
  private latest: S.DeploymentStats | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = DEPLOYMENT_STATS_INTERVAL_MS) {}

  start(sim: SimContext): void {
    const tick = (delayMs: number) => {
      this.timer = setTimeout(() => {
        this.latest = collect(sim, this.intervalMs);
        tick(this.intervalMs);
      }, delayMs);
    };
    tick(Math.min(FIRST_COLLECTION_MS, this.intervalMs));
  }

  current(): S.DeploymentStats | undefined {
    return this.latest;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

export const deploymentHandlers = {
  buildInfo: async ({ sim }) => {
    const body = {
      external_url: 'https://github.com/coder/coder',
      version: sim.buildVersion,
      dashboard_url: sim.baseUrl,
      telemetry: false,
      workspace_proxy: false,
      agent_api_version: '2.6',
      provisioner_api_version: '1.6',
      upgrade_message: '',
      deployment_id: sim.deploymentId,
    };
    return { status: 200, body: body satisfies S.BuildInfoResponse };
  },
  // Enterprise coderd (enterprise/coderd/license): the user limit with the active users; AGPL coderd has no such route.
  entitlements: async ({ sim }) => {
    const licence = sim.options.licence;
    if (!licence) throw new HttpError(404, 'Route not found.');
    const actual = [...sim.store.users.values()].filter((user) => user.status === 'active').length;
    const warnings =
      actual > licence.userLimit ? [`Your deployment has ${actual} active users but is only licensed for ${licence.userLimit}.`] : [];
    return {
      status: 200,
      body: {
        features: { user_limit: { entitlement: 'entitled', enabled: true, limit: licence.userLimit, actual } },
        warnings,
        errors: [],
        has_license: true,
        trial: false,
        require_telemetry: false,
        refreshed_at: new Date().toISOString(),
      },
    };
  },
  deploymentStats: async (call) => {
    requireOwnerRole(call);
    const stats = call.sim.deploymentStats.current();
    if (!stats) throw new HttpError(400, 'Deployment stats are still processing!');
    return { status: 200, body: stats };
  },
} satisfies ApiHandlers;
