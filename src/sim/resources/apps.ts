// Workspace apps (coderd/workspaceapps): the app host and path-based app traffic, proxied to
// the simulated agent; plus the simulator's SSH tunnel, which stands in for tailnet.
import type * as http from 'http';
import type { Duplex } from 'stream';
import type * as S from '../../coder/schemas';
import { connectedAgentFor } from '../access';
import { trackWebSocket, type ApiCall, type ApiHandlers, type SimContext } from '../context';
import { HttpError, notFound } from '../http/errors';
import { SIM_APP_HOST_SUFFIX } from '../routing';
import type { SimUser, SimWorkspace } from '../store';

/** Like coderd (appurl.SubdomainAppHost), the wildcard host carries the access URL's port; empty without one. */
function wildcardHost(sim: SimContext): string {
  return sim.options.subdomainApps ? `*.${SIM_APP_HOST_SUFFIX}:${new URL(sim.baseUrl).port}` : '';
}

export const appHandlers = {
  appHost: async ({ sim }) => ({ status: 200, body: { host: wildcardHost(sim) } satisfies S.AppHostResponse }),
  // coderd's AGPL api.regions (enterprise adds workspace proxies): the primary region only;
  // today's dashboard reads the path app URL and the wildcard host from it.
  regions: async ({ sim }) => ({
    status: 200,
    body: {
      regions: [
        {
          id: sim.deploymentId,
          name: 'primary',
          display_name: 'Default',
          icon_url: '/emojis/1f3e1.png',
          healthy: true,
          path_app_url: sim.baseUrl,
          wildcard_hostname: wildcardHost(sim),
        },
      ],
    } satisfies S.RegionsResponse,
  }),
} satisfies ApiHandlers;

export interface AppTarget {
  owner: string;
  workspace: string;
  /** Absent in coderd's shorter subdomain form. */
  agent?: string;
  slug: string;
  /** The path after `/apps/{slug}`; undefined when the URL stops at the slug. */
  rest?: string;
}

type AuthenticatedCall = ApiCall & { user: SimUser };

/** The workspace's template version declares the app for its agent (coderd answers 404 otherwise). */
function declaresApp(call: ApiCall, workspace: SimWorkspace, slug: string): boolean {
  const agent = call.sim.store.versionOf(workspace).agents.find((spec) => spec.name === workspace.agent.name);
  return agent?.apps.some((app) => app.slug === slug) ?? false;
}

/**
 * The echo app listens once the startup script has started it: before that (and after the
 * script failed) coderd's proxy cannot dial it and answers 502 (workspaceapps/proxy.go,
 * "Failed to proxy request to application", as an HTML error page in coderd).
 */
function appRunning(workspace: SimWorkspace): void {
  const lifecycle = workspace.agent.lifecycle;
  if (lifecycle === 'ready' || lifecycle === 'start_timeout') return;
  throw new HttpError(502, 'Failed to proxy request to application: dial tcp 127.0.0.1:8080: connect: connection refused');
}

export function serveApp(call: AuthenticatedCall, res: http.ServerResponse, target: AppTarget): void {
  if (target.rest === undefined) {
    // coderd redirects to the slug's directory: relative links inside the app depend on it.
    res.writeHead(307, { Location: `${call.url.pathname}/${call.url.search}` }).end();
    return;
  }
  const workspace = connectedAgentFor(call, target.owner, target.workspace, target.agent);
  if (!declaresApp(call, workspace, target.slug)) throw notFound();
  appRunning(workspace);
  call.sim.agents.handleAppRequest(call.req, res, call.sim.store.agentRef(workspace), target.slug, target.rest);
}

export function upgradeApp(call: AuthenticatedCall, target: AppTarget, socket: Duplex, head: Buffer, path: string): void {
  if (target.rest === undefined) throw new HttpError(404, 'Route not found.');
  const workspace = connectedAgentFor(call, target.owner, target.workspace, target.agent);
  if (!declaresApp(call, workspace, target.slug)) throw notFound();
  appRunning(workspace);
  trackWebSocket(call.sim, socket, path);
  call.sim.agents.handleAppUpgrade(call.req, socket, head, call.sim.store.agentRef(workspace), target.slug, target.rest);
}

export function upgradeTunnel(
  call: AuthenticatedCall,
  target: { owner: string; workspace: string },
  socket: Duplex,
  head: Buffer,
  path: string,
): void {
  if ((call.req.headers.upgrade ?? '').toLowerCase() !== 'coder-sim-tunnel') {
    throw new HttpError(400, 'The simulator tunnel needs "Upgrade: coder-sim-tunnel".');
  }
  const workspace = connectedAgentFor(call, target.owner, target.workspace, call.url.searchParams.get('agent') ?? undefined);
  trackWebSocket(call.sim, socket, path);
  // The CLI says whether it may go peer to peer; the tunnel carries the bytes either way.
  if (call.url.searchParams.get('direct') === '0') call.sim.sshPaths.relayed++;
  else call.sim.sshPaths.direct++;
  call.sim.agents.handleTunnelUpgrade(call.req, socket, head, call.sim.store.agentRef(workspace));
}
