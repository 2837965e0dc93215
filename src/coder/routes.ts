// The Coder API routes this project uses (client) and serves (simulator), in one table so
// both stay in step and `npm run check:swagger` can verify each against Coder's spec.
// Paths are the spec's templates, relative to the API base path /api/v2.
import type { EndpointClass } from './endpointClass';

export const API_BASE = '/api/v2';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRoute {
  method: HttpMethod;
  /** Spec path template under /api/v2, e.g. `/workspaces/{workspace}`. */
  path: string;
  endpointClass: EndpointClass;
  /** False for the few endpoints coderd serves without a session token. */
  auth: boolean;
  /** Served as a WebSocket upgrade (alone, or when `?follow` is set for build logs). */
  websocket?: boolean;
  /** Query parameters we send or serve (checked against the spec's parameters). */
  query?: readonly string[];
  /**
   * Query parameters coderd reads but its generated spec does not list (e.g. the PTY's
   * reconnect/width/height/command, parsed inside the handler). The spec check notes them.
   */
  queryMissingFromSpec?: readonly string[];
}

export const apiRoutes = {
  buildInfo: { method: 'GET', path: '/buildinfo', endpointClass: 'health', auth: false },
  login: { method: 'POST', path: '/users/login', endpointClass: 'auth', auth: false },
  getUser: { method: 'GET', path: '/users/{user}', endpointClass: 'users', auth: true },
  listUsers: { method: 'GET', path: '/users', endpointClass: 'users', auth: true, query: ['q', 'offset', 'limit'] },
  createUser: { method: 'POST', path: '/users', endpointClass: 'users', auth: true },
  deleteUser: { method: 'DELETE', path: '/users/{user}', endpointClass: 'users', auth: true },
  createToken: { method: 'POST', path: '/users/{user}/keys/tokens', endpointClass: 'auth', auth: true },
  tokenConfig: { method: 'GET', path: '/users/{user}/keys/tokens/tokenconfig', endpointClass: 'auth', auth: true },
  listOrganizations: { method: 'GET', path: '/organizations', endpointClass: 'other', auth: true },
  getOrganization: { method: 'GET', path: '/organizations/{organization}', endpointClass: 'other', auth: true },
  listTemplates: { method: 'GET', path: '/organizations/{organization}/templates', endpointClass: 'templates', auth: true },
  getTemplateByName: {
    method: 'GET',
    path: '/organizations/{organization}/templates/{templatename}',
    endpointClass: 'templates',
    auth: true,
  },
  listAllTemplates: { method: 'GET', path: '/templates', endpointClass: 'templates', auth: true },
  getTemplate: { method: 'GET', path: '/templates/{template}', endpointClass: 'templates', auth: true },
  createUserWorkspace: { method: 'POST', path: '/users/{user}/workspaces', endpointClass: 'workspaces', auth: true },
  /** Deprecated in coderd; the fallback for deployments that lack createUserWorkspace. */
  createWorkspace: {
    method: 'POST',
    path: '/organizations/{organization}/members/{user}/workspaces',
    endpointClass: 'workspaces',
    auth: true,
  },
  listWorkspaces: { method: 'GET', path: '/workspaces', endpointClass: 'workspaces', auth: true, query: ['q', 'offset', 'limit'] },
  getWorkspace: {
    method: 'GET',
    path: '/workspaces/{workspace}',
    endpointClass: 'workspaces',
    auth: true,
    query: ['include_deleted'],
  },
  getWorkspaceByOwnerAndName: {
    method: 'GET',
    path: '/users/{user}/workspace/{workspacename}',
    endpointClass: 'workspaces',
    auth: true,
  },
  watchWorkspace: {
    method: 'GET',
    path: '/workspaces/{workspace}/watch-ws',
    endpointClass: 'workspaces',
    auth: true,
    websocket: true,
  },
  listWorkspaceBuilds: { method: 'GET', path: '/workspaces/{workspace}/builds', endpointClass: 'builds', auth: true },
  createBuild: { method: 'POST', path: '/workspaces/{workspace}/builds', endpointClass: 'builds', auth: true },
  getBuild: { method: 'GET', path: '/workspacebuilds/{workspacebuild}', endpointClass: 'builds', auth: true },
  getBuildByNumber: {
    method: 'GET',
    path: '/users/{user}/workspace/{workspacename}/builds/{buildnumber}',
    endpointClass: 'builds',
    auth: true,
  },
  cancelBuild: { method: 'PATCH', path: '/workspacebuilds/{workspacebuild}/cancel', endpointClass: 'builds', auth: true },
  buildLogs: {
    method: 'GET',
    path: '/workspacebuilds/{workspacebuild}/logs',
    endpointClass: 'builds',
    auth: true,
    websocket: true,
    query: ['follow', 'after'],
  },
  updateWorkspaceAutostart: { method: 'PUT', path: '/workspaces/{workspace}/autostart', endpointClass: 'workspaces', auth: true },
  listProvisionerDaemons: {
    method: 'GET',
    path: '/organizations/{organization}/provisionerdaemons',
    endpointClass: 'other',
    auth: true,
    query: ['limit'],
  },
  listProvisionerJobs: {
    method: 'GET',
    path: '/organizations/{organization}/provisionerjobs',
    endpointClass: 'builds',
    auth: true,
    query: ['limit', 'status'],
  },
  dynamicParameters: {
    method: 'GET',
    path: '/templateversions/{templateversion}/dynamic-parameters',
    endpointClass: 'templates',
    auth: true,
    websocket: true,
    queryMissingFromSpec: ['user_id'],
  },
  deploymentStats: { method: 'GET', path: '/deployment/stats', endpointClass: 'stats', auth: true },
  uploadFile: { method: 'POST', path: '/files', endpointClass: 'templates', auth: true },
  entitlements: { method: 'GET', path: '/entitlements', endpointClass: 'other', auth: true },
  createTemplateVersion: {
    method: 'POST',
    path: '/organizations/{organization}/templateversions',
    endpointClass: 'templates',
    auth: true,
  },
  getTemplateVersion: { method: 'GET', path: '/templateversions/{templateversion}', endpointClass: 'templates', auth: true },
  cancelTemplateVersion: {
    method: 'PATCH',
    path: '/templateversions/{templateversion}/cancel',
    endpointClass: 'templates',
    auth: true,
  },
  templateVersionLogs: {
    method: 'GET',
    path: '/templateversions/{templateversion}/logs',
    endpointClass: 'templates',
    auth: true,
    websocket: true,
    query: ['follow', 'after'],
  },
  templateVersionExternalAuth: {
    method: 'GET',
    path: '/templateversions/{templateversion}/external-auth',
    endpointClass: 'templates',
    auth: true,
  },
  createTemplate: { method: 'POST', path: '/organizations/{organization}/templates', endpointClass: 'templates', auth: true },
  updateActiveTemplateVersion: { method: 'PATCH', path: '/templates/{template}/versions', endpointClass: 'templates', auth: true },
  appHost: { method: 'GET', path: '/applications/host', endpointClass: 'apps', auth: true },
  regions: { method: 'GET', path: '/regions', endpointClass: 'other', auth: true },
  templateVersionResources: {
    method: 'GET',
    path: '/templateversions/{templateversion}/resources',
    endpointClass: 'templates',
    auth: true,
  },
  templateVersionRichParameters: {
    method: 'GET',
    path: '/templateversions/{templateversion}/rich-parameters',
    endpointClass: 'templates',
    auth: true,
  },
  templateVersionPresets: { method: 'GET', path: '/templateversions/{templateversion}/presets', endpointClass: 'templates', auth: true },
  agentPty: {
    method: 'GET',
    path: '/workspaceagents/{workspaceagent}/pty',
    endpointClass: 'pty',
    auth: true,
    websocket: true,
    queryMissingFromSpec: ['reconnect', 'width', 'height', 'command'],
  },
} as const satisfies Record<string, ApiRoute>;

export type RouteName = keyof typeof apiRoutes;

/** Full templated path as coderd's metrics and our request hook name it, e.g. /api/v2/workspaces/{workspace}. */
export function routeTemplate(name: RouteName): string {
  return API_BASE + apiRoutes[name].path;
}

/** Fills a route's `{param}` placeholders, URL-encoding each value. */
export function routePath(name: RouteName, params: Record<string, string | number> = {}): string {
  return routeTemplate(name).replace(/\{(\w+)\}/g, (_match, key: string) => {
    const value = params[key];
    if (value === undefined || value === '') throw new Error(`route ${name}: missing path parameter "${key}"`);
    return encodeURIComponent(String(value));
  });
}

const compiledRoutes = (Object.entries(apiRoutes) as [RouteName, ApiRoute][]).map(([name, route]) => {
  const keys: string[] = [];
  const pattern = (API_BASE + route.path).replace(/\{(\w+)\}/g, (_match, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { name, route, keys, regex: new RegExp(`^${pattern}/?$`) };
});

export interface RouteMatch {
  name: RouteName;
  route: ApiRoute;
  params: Record<string, string>;
}

/**
 * Finds the API route for a request. `methodMismatch` is true when the path exists under
 * another method (coderd answers 405 then).
 */
export function matchApiRoute(method: string, pathname: string): { match?: RouteMatch; methodMismatch: boolean } {
  let methodMismatch = false;
  for (const candidate of compiledRoutes) {
    const found = candidate.regex.exec(pathname);
    if (!found) continue;
    if (candidate.route.method !== method) {
      methodMismatch = true;
      continue;
    }
    const params: Record<string, string> = {};
    candidate.keys.forEach((key, index) => (params[key] = decodeURIComponent(found[index + 1]!)));
    return { match: { name: candidate.name, route: candidate.route, params }, methodMismatch: false };
  }
  return { methodMismatch };
}
