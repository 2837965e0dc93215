// The simulated coderd's request pipeline: metrics → restart/fault middleware → auth → rate
// limit → the resource module that owns the route. Plain requests and upgrades go through the
// same steps; an upgrade that is refused gets coderd's JSON error before any WebSocket exists.
import type * as http from 'http';
import type { Duplex } from 'stream';
import type { RouteName } from '../coder/routes';
import type { ApiCall, ApiHandler, SimContext, UpgradeHandler } from './context';
import { HttpError } from './http/errors';
import { rejectUpgrade, sendError, sendJson } from './http/io';
import { authenticate, unauthorized } from './middleware/auth';
import type { FaultInjector } from './middleware/faultInjection';
import type { RateLimiter } from './middleware/rateLimit';
import type { SimUser } from './store';
import { agentHandlers, agentUpgrades } from './resources/agents';
import { appHandlers, serveApp, upgradeApp, upgradeTunnel } from './resources/apps';
import { deploymentHandlers } from './resources/deployment';
import { organizationHandlers } from './resources/organizations';
import { parameterHandlers, parameterUpgrades } from './resources/parameters';
import { provisionerHandlers } from './resources/provisioners';
import { templateVersionHandlers } from './resources/templateVersions';
import { templateHandlers, templateUpgrades } from './resources/templates';
import { userHandlers } from './resources/users';
import { workspaceHandlers, workspaceUpgrades } from './resources/workspaces';
import { classify, endpointClassOf, metricPath, type Target } from './routing';
import { routeAvailable } from './versions';

const apiHandlers = {
  ...deploymentHandlers,
  ...userHandlers,
  ...organizationHandlers,
  ...templateHandlers,
  ...workspaceHandlers,
  ...agentHandlers,
  ...appHandlers,
  ...templateVersionHandlers,
  ...provisionerHandlers,
  ...parameterHandlers,
} satisfies Record<RouteName, ApiHandler>;

const apiUpgrades: Partial<Record<RouteName, UpgradeHandler>> = {
  ...workspaceUpgrades,
  ...agentUpgrades,
  ...parameterUpgrades,
  ...templateUpgrades,
};

export interface Router {
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  requests(): number;
}

/**
 * coderd's limiters, in its order: /api/v2's (and the workspace apps') limiter runs before the
 * API key is required (coderd.go); the login routes add their own. The key only picks the
 * bucket (see middleware/rateLimit.ts). Throws the refusal; returns the headers to send.
 */
function applyRateLimits(sim: SimContext, target: Target, req: http.IncomingMessage, url: URL, user: SimUser | undefined) {
  const limiters: RateLimiter[] = [];
  if (target.kind === 'api' || target.kind === 'app' || target.kind === 'tunnel') limiters.push(sim.apiRateLimiter);
  if (target.kind === 'api' && target.match.name === 'login') limiters.push(sim.loginRateLimiter);
  // The tunnel stands in for tailnet, whose coordination socket is /api/v2/tailnet for every agent.
  const limitedPath = target.kind === 'tunnel' ? '/api/v2/tailnet' : url.pathname;
  const headers: Record<string, string> = {};
  for (const limiter of limiters) {
    const verdict = limiter.check(req, limitedPath, user);
    if (verdict.error) throw verdict.error;
    Object.assign(headers, verdict.headers);
  }
  return headers;
}

export function createRouter(sim: SimContext, faults: FaultInjector): Router {
  let requestCount = 0;

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    requestCount++;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    res.setHeader('X-Coder-Build-Version', sim.buildVersion);
    const target = classify(method, url.pathname, req.headers.host);
    const path = metricPath(target);
    const started = performance.now();
    sim.metrics.concurrentRequests.inc({ method, path });
    faults.inFlight++;
    res.once('close', () => {
      faults.inFlight--;
      sim.metrics.concurrentRequests.dec({ method, path });
      sim.metrics.requestsProcessed.inc({ code: String(res.statusCode), method, path });
      sim.metrics.requestLatencies.observe({ method, path }, (performance.now() - started) / 1000);
    });
    try {
      if (faults.down) {
        if (target.kind === 'healthz') res.writeHead(503, { 'Content-Type': 'text/plain' }).end('coderd is restarting');
        else sendJson(res, 503, { message: 'Service Unavailable: coderd is restarting.' });
        return;
      }
      const injected = await faults.inject(endpointClassOf(target));
      if (injected) throw injected;
      const user = authenticate(sim.store, req, url);
      if (user) sim.store.users.markSeen(user);
      const call: ApiCall = { sim, req, url, user };
      for (const [name, value] of Object.entries(applyRateLimits(sim, target, req, url, user))) res.setHeader(name, value);
      switch (target.kind) {
        case 'healthz':
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('OK');
          return;
        case 'api': {
          if (!routeAvailable(target.match.name, sim.version)) throw new HttpError(404, 'Route not found.');
          if (target.match.route.auth && !user) throw unauthorized(req, url);
          const result = await apiHandlers[target.match.name](call, target.match.params);
          sendJson(res, result.status, result.body);
          return;
        }
        case 'binary':
          sim.agents.handleCoderBinary(req, res, target.fileName);
          return;
        case 'app':
          if (!user) throw unauthorized(req, url);
          serveApp({ ...call, user }, res, target);
          return;
        case 'tunnel':
          throw new HttpError(400, 'The simulator tunnel needs an HTTP upgrade to "coder-sim-tunnel".');
        case 'root':
          res.writeHead(307, { Location: '/workspaces' }).end();
          return;
        case 'dashboard':
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(target.html);
          return;
        case 'methodNotAllowed':
          throw new HttpError(405, 'Method not allowed.');
        case 'notFound':
          throw new HttpError(404, 'Route not found.');
      }
    } catch (error) {
      sendError(res, error, sim.log);
    }
  }

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    requestCount++;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const target = classify(method, url.pathname, req.headers.host);
    const path = metricPath(target);
    socket.on('error', () => socket.destroy());
    try {
      if (faults.down) throw new HttpError(503, 'Service Unavailable: coderd is restarting.');
      const injected = await faults.inject(endpointClassOf(target));
      if (injected) throw injected;
      const user = authenticate(sim.store, req, url);
      applyRateLimits(sim, target, req, url, user);
      if (!user && target.kind !== 'binary') throw unauthorized(req, url);
      const call = { sim, req, url, user: user! };
      if (target.kind === 'api' && apiUpgrades[target.match.name]) {
        apiUpgrades[target.match.name]!(call, target.match.params, socket, head, path);
      } else if (target.kind === 'app') {
        upgradeApp(call, target, socket, head, path);
      } else if (target.kind === 'tunnel') {
        upgradeTunnel(call, target, socket, head, path);
      } else {
        throw new HttpError(404, 'Route not found.');
      }
      sim.metrics.requestsProcessed.inc({ code: '101', method, path });
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      sim.metrics.requestsProcessed.inc({ code: String(status), method, path });
      rejectUpgrade(socket, error, sim.buildVersion);
    }
  }

  return { handleRequest, handleUpgrade, requests: () => requestCount };
}
