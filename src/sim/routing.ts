// Which part of coderd a request is for: the API (by the shared route table), the health
// check, CLI binaries, path-based apps, the simulator's tunnel or a dashboard page; with the
// endpoint class faults act on and the `path` label coderd's metrics use.
import { matchApiRoute, type RouteMatch } from '../coder/routes';
import type { EndpointClass } from '../coder/endpointClass';
import { renderDashboardPage } from './dashboard';

export type Target =
  | { kind: 'api'; match: RouteMatch }
  | { kind: 'healthz' }
  | { kind: 'binary'; fileName: string }
  | { kind: 'app'; owner: string; workspace: string; agent?: string; slug: string; rest?: string }
  | { kind: 'tunnel'; owner: string; workspace: string }
  | { kind: 'root' }
  | { kind: 'dashboard'; html: string }
  | { kind: 'methodNotAllowed' }
  | { kind: 'notFound' };

/** The wildcard app host the simulator serves subdomain apps on (`*.` + this, plus the port). */
export const SIM_APP_HOST_SUFFIX = 'apps.localhost';

/**
 * A subdomain app request: `{slug}--{workspace}--{owner}` (or with `--{agent}` after the slug,
 * coderd's older form) as the first label of the wildcard app host (coderd/workspaceapps/appurl).
 */
function subdomainApp(host: string | undefined, pathname: string): Target | undefined {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!hostname.endsWith(`.${SIM_APP_HOST_SUFFIX}`)) return undefined;
  const parts = hostname.slice(0, -SIM_APP_HOST_SUFFIX.length - 1).split('--');
  if (parts.length !== 3 && parts.length !== 4) return { kind: 'notFound' };
  const [slug, ...rest] = parts as [string, ...string[]];
  const [agent, workspace, owner] = rest.length === 3 ? rest : [undefined, ...rest];
  return { kind: 'app', owner: owner!, workspace: workspace!, agent, slug, rest: pathname };
}

export function classify(method: string, pathname: string, host?: string): Target {
  const onAppHost = subdomainApp(host, pathname);
  if (onAppHost) return onAppHost;
  if (pathname.startsWith('/api/')) {
    const { match, methodMismatch } = matchApiRoute(method, pathname);
    if (match) return { kind: 'api', match };
    return { kind: methodMismatch ? 'methodNotAllowed' : 'notFound' };
  }
  if (pathname === '/healthz') return { kind: 'healthz' };
  const binary = /^\/bin\/(coder-[a-z0-9]+-[a-z0-9]+(?:\.exe)?)$/.exec(pathname);
  if (binary) return { kind: 'binary', fileName: binary[1]! };
  const app = /^\/@([^/]+)\/([^/.]+)\.([^/]+)\/apps\/([^/]+)(\/.*)?$/.exec(pathname);
  if (app) {
    const [, owner, workspace, agent, slug, rest] = app.map((part) => (part === undefined ? part : decodeURIComponent(part)));
    return { kind: 'app', owner: owner!, workspace: workspace!, agent: agent!, slug: slug!, rest };
  }
  const tunnel = /^\/_sim\/tunnel\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (tunnel) return { kind: 'tunnel', owner: decodeURIComponent(tunnel[1]!), workspace: decodeURIComponent(tunnel[2]!) };
  if (pathname === '/') return { kind: 'root' };
  const html = method === 'GET' ? renderDashboardPage(pathname) : undefined;
  return html ? { kind: 'dashboard', html } : { kind: 'notFound' };
}

export function endpointClassOf(target: Target): EndpointClass {
  switch (target.kind) {
    case 'api':
      return target.match.route.endpointClass;
    case 'healthz':
      return 'health';
    case 'app':
      return 'apps';
    case 'tunnel':
      return 'pty';
    case 'root':
    case 'dashboard':
      return 'dashboard';
    default:
      return 'other';
  }
}

/** The `path` label, like coderd's chi route patterns. */
export function metricPath(target: Target): string {
  switch (target.kind) {
    case 'api':
      return `/api/v2${target.match.route.path}`;
    case 'healthz':
      return '/healthz';
    case 'binary':
      return '/bin/*';
    case 'app':
      return '/@{user}/{workspace_and_agent}/apps/{workspaceapp}/*';
    case 'tunnel':
      return '/_sim/tunnel/{owner}/{workspace}';
    case 'root':
    case 'dashboard':
      return '/*';
    default:
      return '';
  }
}
