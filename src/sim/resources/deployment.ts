// Deployment-wide endpoints: build info (coderd/buildinfo.go) and deployment stats
// (coderd/deployment.go, from the periodic stats collection).
import type * as S from '../../coder/schemas';
import { requireOwnerRole } from '../access';
import type { ApiHandlers, SimContext } from '../context';

function deploymentStats(sim: SimContext): S.DeploymentStats {
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
    aggregated_from: new Date(collected.getTime() - 60_000).toISOString(),
    collected_at: collected.toISOString(),
    next_update_at: new Date(collected.getTime() + 30_000).toISOString(),
    workspaces: { ...counts, connection_latency_ms: { p50: 0, p95: 0 }, rx_bytes: 0, tx_bytes: 0 },
    session_count: { vscode: 0, jetbrains: 0, ssh: sim.sessions.ssh, reconnecting_pty: sim.sessions.reconnecting_pty },
  };
}

export const deploymentHandlers = {
  buildInfo: async ({ sim }) => ({
    status: 200,
    body: {
      version: sim.buildVersion,
      external_url: 'https://github.com/coder/coder',
      dashboard_url: sim.baseUrl,
      deployment_id: sim.deploymentId,
      agent_api_version: '2.6',
    } satisfies S.BuildInfoResponse,
  }),
  deploymentStats: async (call) => {
    requireOwnerRole(call);
    return { status: 200, body: deploymentStats(call.sim) };
  },
} satisfies ApiHandlers;
