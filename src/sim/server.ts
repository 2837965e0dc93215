// The simulated coderd: one HTTP(S) server that serves Coder's API paths, status codes and
// JSON shapes (routes from src/coder/routes.ts), WebSockets via `ws` in noServer mode, the
// dashboard pages, and hands agent traffic (PTY, apps, CLI binary, tunnel) to the data plane.
import * as crypto from 'crypto';
import * as http from 'http';
import * as https from 'https';
import type { AddressInfo, Socket } from 'net';
import type { Duplex } from 'stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { matchApiRoute, type RouteMatch, type RouteName } from '../coder/routes';
import { endpointClasses, type EndpointClass } from '../coder/endpointClass';
import * as S from '../coder/schemas';
import { parseAs, SchemaMismatchError } from '../coder/validate';
import { createAgentServices } from './agent';
import { CountedSelector } from './agent/liveConnections';
import type { AgentServices, SessionKind } from './agentServices';
import { renderDashboardPage } from './dashboard';
import type { FaultsConfig } from './faults';
import { validateFaults } from './faultsFile';
import { SimMetrics } from './metrics';
import { APP_SLUG, hashSecret, randomAlphanumeric, SimStore, type SimBuild, type SimUser, type SimWorkspace } from './store';

export const SIM_BUILD_VERSION = 'v2.24.1+sim';

export interface SimDeploymentOptions {
  /** Listen address; loopback by default. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  faults?: FaultsConfig;
  /** Build duration from pending to succeeded (default 2000 ms; the `buildDurationMs` fault overrides). */
  buildDurationMs?: number;
  /** From build success until the agent connects (default 500 ms). */
  agentConnectDelayMs?: number;
  /** The template's agent connection timeout, whole seconds (default 120, as coderd): a slower agent shows `timeout` until it connects. */
  agentConnectionTimeoutSeconds?: number;
  /** Requests per minute per user and path (coderd's default 512). */
  rateLimitPerMinute?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Also serve SSH directly on a TCP port (for the direct SSH transport). */
  directSsh?: boolean;
  /** Passed to the data plane: lifetime of a detached reconnecting-PTY session. */
  ptyDetachedTtlMs?: number;
  /** Lifecycle messages (never secrets). */
  log?(line: string): void;
}

export interface SimStats {
  users: number;
  workspaces: number;
  activeBuilds: number;
  sessions: Record<SessionKind, number>;
  requests: number;
  openWebSockets: number;
  restarts: number;
  down: boolean;
}

export interface SimDeployment {
  url: string;
  /** The owner's session token. A secret: print it only where the user asked for it. */
  ownerToken: string;
  ownerEmail: string;
  organizationId: string;
  templateId: string;
  /** coderd-style Prometheus endpoint on its own listener. */
  prometheusUrl: string;
  /** Set when started with `directSsh`. */
  directSsh?: { host: string; port: number };
  /** Replaces the fault configuration (validated); a `restart` is scheduled from now. */
  setFaults(faults: FaultsConfig): void;
  faults(): FaultsConfig;
  stats(): SimStats;
  close(): Promise<void>;
}

const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';
const NOT_FOUND = 'Resource not found or you do not have access to this resource';
const NAME_PATTERN = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_BODY_BYTES = 1 << 20;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * coderd rejects weak passwords (userpassword.Validate: at least 52 bits of entropy as
 * go-password-validator estimates it, at most 64 characters). Same estimate: log2 of the
 * character pool in use times the length, counting runs of one character at most twice.
 */
function passwordWeakness(password: string): string | undefined {
  if (password.length > 64) return 'password must be no more than 64 characters';
  const pools: [RegExp, number][] = [[/[a-z]/, 26], [/[A-Z]/, 26], [/[0-9]/, 10], [/[ !"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/, 33]];
  let pool = pools.reduce((sum, [pattern, size]) => sum + (pattern.test(password) ? size : 0), 0);
  pool += new Set([...password].filter((c) => !pools.some(([pattern]) => pattern.test(c)))).size;
  const effectiveLength = password.replace(/(.)\1{2,}/g, '$1$1').length;
  const bits = pool > 0 ? Math.log2(pool) * effectiveLength : 0;
  return bits >= 52 ? undefined : 'insecure password, try including more special characters, using uppercase letters, using numbers or using a longer password';
}

/** An error answer in coderd's `{message, detail, validations}` shape. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
    readonly validations?: S.ValidationError[],
  ) {
    super(message);
  }
}

const validationFailed = (validations: S.ValidationError[]) => new HttpError(400, 'Validation failed.', undefined, validations);
const requiredField = (field: string) => ({ field, detail: `Validation failed for tag "required" with value: ""` });
const forbidden = () => new HttpError(403, 'Forbidden.');
const notFound = () => new HttpError(404, NOT_FOUND);

interface RequestContext {
  req: http.IncomingMessage;
  url: URL;
  user?: SimUser;
}

type ApiHandler = (ctx: RequestContext, params: Record<string, string>) => Promise<{ status: number; body?: unknown }>;

/** Splits a search query into terms, keeping `key:"quoted value"` together. */
function searchTerms(q: string): { key?: string; value: string }[] {
  const terms: { key?: string; value: string }[] = [];
  for (const token of q.match(/(?:[^\s"]+:)?"[^"]*"|\S+/g) ?? []) {
    const colon = token.indexOf(':');
    const unquote = (text: string) => text.replace(/^"(.*)"$/, '$1');
    if (colon > 0 && !token.startsWith('"')) terms.push({ key: token.slice(0, colon).toLowerCase(), value: unquote(token.slice(colon + 1)) });
    else terms.push({ value: unquote(token) });
  }
  return terms;
}

function paging(url: URL): { offset: number; limit: number } {
  const read = (name: string) => {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === '') return 0;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) {
      throw new HttpError(400, 'Query parameters have invalid values.', undefined, [
        { field: name, detail: `Query param "${name}" must be a valid non-negative integer (${raw})` },
      ]);
    }
    return value;
  };
  return { offset: read('offset'), limit: read('limit') };
}

function page<T>(items: T[], { offset, limit }: { offset: number; limit: number }): T[] {
  return items.slice(offset, limit > 0 ? offset + limit : undefined);
}

/** The session token from the header, the cookie or the query parameter (coderd accepts all three). */
function tokenOf(req: http.IncomingMessage, url: URL): string | undefined {
  const header = req.headers['coder-session-token'];
  if (typeof header === 'string' && header) return header;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'coder_session_token') return decodeURIComponent(value.join('='));
  }
  return url.searchParams.get('coder_session_token') ?? undefined;
}

async function readJsonBody<T extends Parameters<typeof parseAs>[0]>(req: http.IncomingMessage, schema: T) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request body is too large.');
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch (error) {
    throw new HttpError(400, 'Request body must be valid JSON.', (error as Error).message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'Request body must be valid JSON.', 'expected a JSON object');
  }
  try {
    return parseAs(schema, value, 'request body');
  } catch (error) {
    if (!(error instanceof SchemaMismatchError)) throw error;
    throw validationFailed([{ field: error.field || 'body', detail: `Validation failed: ${error.problem}` }]);
  }
}

export async function startSimDeployment(options: SimDeploymentOptions = {}): Promise<SimDeployment> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const rateLimit = options.rateLimitPerMinute ?? 512;
  const deploymentId = crypto.randomUUID();
  let faults: FaultsConfig = validateFaults(options.faults ?? {});
  let down = false;
  let restarts = 0;
  let restartTimers: NodeJS.Timeout[] = [];
  let requestCount = 0;
  const sessions: Record<SessionKind, number> = { ssh: 0, reconnecting_pty: 0, app: 0 };
  const rateWindows = new Map<string, { start: number; count: number }>();
  const sockets = new Set<Socket>();
  const openWebSockets = new Set<Duplex>();
  const metrics = new SimMetrics();
  // Exact fractions, evenly spread (rate 0.1 fails every 10th request), so runs are repeatable.
  const errorSelectors = Object.fromEntries(endpointClasses.map((name) => [name, new CountedSelector()])) as Record<
    EndpointClass,
    CountedSelector
  >;

  // Declared first: the store reports deleted agents to it, and it resolves workspaces in the store.
  let agentServices: AgentServices;
  const store = new SimStore({
    faults: () => faults,
    buildDurationMs: options.buildDurationMs ?? 2000,
    agentConnectDelayMs: options.agentConnectDelayMs ?? 500,
    agentConnectionTimeoutSeconds: options.agentConnectionTimeoutSeconds,
    onAgentGone: (agentId) => agentServices.forgetAgent(agentId),
  });
  agentServices = createAgentServices({
    faults: () => faults,
    onSessionChange: (kind, delta) => {
      sessions[kind] = Math.max(0, sessions[kind] + delta);
    },
    resolveWorkspace: (owner, name) => {
      const user = store.findUser(owner);
      const workspace = user && store.findWorkspace(user, name);
      return workspace ? store.agentRef(workspace) : undefined;
    },
    ...(options.ptyDetachedTtlMs !== undefined ? { ptyDetachedTtlMs: options.ptyDetachedTtlMs } : {}),
  });
  const apiSockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  apiSockets.on('headers', (headers) => headers.push(`X-Coder-Build-Version: ${SIM_BUILD_VERSION}`));

  const ownerEmail = 'admin@coder.local';
  const owner = store.addUser({
    username: 'admin',
    email: ownerEmail,
    name: 'Admin',
    password: randomAlphanumeric(24),
    loginType: 'password',
    owner: true,
  });
  const ownerToken = store.issueToken(owner, 365 * 24 * 3600_000);

  // ---- access control helpers ----

  const canSee = (user: SimUser | undefined, workspace: SimWorkspace) => !!user && (user.owner || workspace.owner.id === user.id);
  const requireOwnerRole = (ctx: RequestContext) => {
    if (!ctx.user?.owner) throw forbidden();
  };
  const userParam = (ctx: RequestContext, ref: string) => {
    const user = store.findUser(ref, ctx.user);
    if (!user || (!ctx.user?.owner && user.id !== ctx.user?.id)) throw notFound();
    return user;
  };
  const visibleWorkspace = (ctx: RequestContext, id: string, includeDeleted = false) => {
    const workspace = store.workspaces.get(id);
    if (!workspace || !canSee(ctx.user, workspace)) throw notFound();
    if (workspace.deleted && !includeDeleted) {
      throw new HttpError(
        410,
        `Workspace "${workspace.id}" was deleted, you can view this workspace by specifying '?deleted=true' and trying again.`,
      );
    }
    return workspace;
  };
  const visibleBuild = (ctx: RequestContext, id: string): SimBuild => {
    const build = store.findBuild(id);
    if (!build || !canSee(ctx.user, build.workspace)) throw notFound();
    return build;
  };
  const organizationParam = (ref: string) => {
    const org = store.organization;
    if (ref !== org.id && ref.toLowerCase() !== org.name) throw notFound();
    return org;
  };

  // ---- API handlers, keyed by the route table's names ----

  const handlers: Record<RouteName, ApiHandler> = {
    buildInfo: async () => ({
      status: 200,
      body: {
        version: SIM_BUILD_VERSION,
        external_url: 'https://github.com/coder/coder',
        dashboard_url: baseUrl,
        deployment_id: deploymentId,
        agent_api_version: '2.6',
      } satisfies S.BuildInfoResponse,
    }),
    login: async (ctx) => {
      const body = await readJsonBody(ctx.req, S.LoginWithPasswordRequest);
      const user = store.findUserByEmail(body.email);
      if (!user || !user.passwordHash || user.passwordHash !== hashSecret(body.password)) {
        throw new HttpError(401, 'Incorrect email or password.');
      }
      return { status: 201, body: { session_token: store.issueToken(user) } satisfies S.LoginWithPasswordResponse };
    },
    getUser: async (ctx, params) => ({ status: 200, body: store.userJson(userParam(ctx, params.user!)) }),
    listUsers: async (ctx) => {
      let users = [...store.users.values()].filter((user) => ctx.user!.owner || user.id === ctx.user!.id);
      for (const term of searchTerms(ctx.url.searchParams.get('q') ?? '')) {
        const value = term.value.toLowerCase();
        if (!term.key) users = users.filter((u) => u.username.toLowerCase().includes(value) || u.email.toLowerCase().includes(value));
        else if (term.key === 'status') users = users.filter(() => value === 'active');
        else if (term.key === 'role') users = users.filter((u) => (value === 'owner' ? u.owner : !u.owner && value === 'member'));
        else throw new HttpError(400, 'Invalid user search query.', undefined, [{ field: term.key, detail: `"${term.key}" is not a valid query param` }]);
      }
      users.sort((a, b) => a.username.toLowerCase().localeCompare(b.username.toLowerCase()));
      return {
        status: 200,
        body: { users: page(users, paging(ctx.url)).map((u) => store.userJson(u)), count: users.length } satisfies S.GetUsersResponse,
      };
    },
    createUser: async (ctx) => {
      requireOwnerRole(ctx);
      const body = await readJsonBody(ctx.req, S.CreateUserRequestWithOrgs);
      const problems: S.ValidationError[] = [];
      if (!EMAIL_PATTERN.test(body.email)) problems.push({ field: 'email', detail: `Validation failed for tag "email" with value: "${body.email}"` });
      if (!NAME_PATTERN.test(body.username) || body.username.length > 32) {
        problems.push({ field: 'username', detail: `Validation failed for tag "username" with value: "${body.username}"` });
      }
      const loginType = body.login_type || 'password';
      if (loginType === 'password' && !body.password) problems.push(requiredField('password'));
      if (problems.length) throw validationFailed(problems);
      if (loginType !== 'password' && body.password) {
        throw new HttpError(400, `Password cannot be set for non-password ("${loginType}") authentication.`);
      }
      if (!body.organization_ids?.length) {
        throw new HttpError(
          400,
          'No organization specified to place the user as a member of. It is required to specify at least one organization id to place the user in.',
          "required at least 1 value for the array 'organization_ids'",
          [{ field: 'organization_ids', detail: 'Missing values, this cannot be empty' }],
        );
      }
      if (store.findUser(body.username) || store.findUserByEmail(body.email)) throw new HttpError(409, 'User already exists.');
      for (const orgId of body.organization_ids) {
        if (orgId !== store.organization.id && orgId !== NIL_UUID) {
          throw new HttpError(404, `Organization does not exist with the provided id "${orgId}".`);
        }
      }
      const weakness = loginType === 'password' ? passwordWeakness(body.password ?? '') : undefined;
      if (weakness) throw new HttpError(400, 'Password not strong enough!', undefined, [{ field: 'password', detail: weakness }]);
      const user = store.addUser({ username: body.username, email: body.email, name: body.name, password: body.password, loginType });
      return { status: 201, body: store.userJson(user) };
    },
    deleteUser: async (ctx, params) => {
      requireOwnerRole(ctx);
      const user = userParam(ctx, params.user!);
      if (user.id === ctx.user!.id) throw new HttpError(403, 'You cannot delete yourself!');
      if ([...store.workspaces.values()].some((w) => !w.deleted && w.owner.id === user.id)) {
        throw new HttpError(417, 'You cannot delete a user that has workspaces. Delete their workspaces and try again!');
      }
      store.deleteUser(user);
      return { status: 200, body: { message: 'User has been deleted!' } satisfies S.Response };
    },
    createToken: async (ctx, params) => {
      const user = userParam(ctx, params.user!);
      const body = await readJsonBody(ctx.req, S.CreateTokenRequest);
      if (body.lifetime !== undefined && body.lifetime < 0) {
        throw validationFailed([{ field: 'lifetime', detail: 'lifetime must be positive' }]);
      }
      const lifetimeMs = body.lifetime ? body.lifetime / 1e6 : 30 * 24 * 3600_000;
      return { status: 201, body: { key: store.issueToken(user, lifetimeMs) } satisfies S.GenerateAPIKeyResponse };
    },
    listOrganizations: async () => ({ status: 200, body: [store.organization] }),
    getOrganization: async (_ctx, params) => ({ status: 200, body: organizationParam(params.organization!) }),
    listTemplates: async (_ctx, params) => {
      organizationParam(params.organization!);
      return { status: 200, body: [store.template] };
    },
    getTemplateByName: async (_ctx, params) => {
      organizationParam(params.organization!);
      if (params.templatename!.toLowerCase() !== store.template.name) throw notFound();
      return { status: 200, body: store.template };
    },
    listAllTemplates: async () => ({ status: 200, body: [store.template] }),
    getTemplate: async (_ctx, params) => {
      if (params.template !== store.template.id) throw notFound();
      return { status: 200, body: store.template };
    },
    createWorkspace: async (ctx, params) => {
      organizationParam(params.organization!);
      const target = store.findUser(params.user!, ctx.user);
      if (!target) throw new HttpError(400, `"user" must be an existing uuid or username.`);
      if (!ctx.user!.owner && target.id !== ctx.user!.id) throw forbidden();
      const body = await readJsonBody(ctx.req, S.CreateWorkspaceRequest);
      if (!NAME_PATTERN.test(body.name) || body.name.length > 32 || body.name === 'new' || body.name === 'create') {
        throw validationFailed([{ field: 'name', detail: `Validation failed for tag "workspace_name" with value: "${body.name}"` }]);
      }
      if (!body.template_id === !body.template_version_id) {
        throw new HttpError(400, 'Exactly one of TemplateID or TemplateVersionID must be specified.');
      }
      if (body.template_id ? body.template_id !== store.template.id : body.template_version_id !== store.template.active_version_id) {
        const field = body.template_id ? 'template_id' : 'template_version_id';
        throw new HttpError(400, `Template does not exist.`, undefined, [{ field, detail: 'template not found' }]);
      }
      if (store.findWorkspace(target, body.name)) {
        throw new HttpError(409, `Workspace "${body.name}" already exists.`, undefined, [
          { field: 'name', detail: 'This value is already in use and should be unique.' },
        ]);
      }
      return { status: 201, body: store.workspaceJson(store.createWorkspace(target, body.name, ctx.user!)) };
    },
    listWorkspaces: async (ctx) => {
      let workspaces = [...store.workspaces.values()].filter((w) => !w.deleted && canSee(ctx.user, w));
      for (const term of searchTerms(ctx.url.searchParams.get('q') ?? '')) {
        const value = term.value.toLowerCase();
        const ownerMatches = (w: SimWorkspace) => (value === 'me' ? w.owner.id === ctx.user!.id : w.owner.username.toLowerCase() === value);
        if (!term.key && value.includes('/')) {
          const [ownerName, name] = value.split('/', 2) as [string, string];
          workspaces = workspaces.filter((w) => w.owner.username.toLowerCase() === ownerName && w.name.toLowerCase().includes(name));
        } else if (!term.key || term.key === 'name') workspaces = workspaces.filter((w) => w.name.toLowerCase().includes(value));
        else if (term.key === 'owner') workspaces = workspaces.filter(ownerMatches);
        else if (term.key === 'template') workspaces = workspaces.filter(() => value === store.template.name);
        else if (term.key === 'status') workspaces = workspaces.filter((w) => store.latestBuild(w).status === value);
        else throw new HttpError(400, 'Invalid workspace search query.', undefined, [{ field: term.key, detail: `"${term.key}" is not a valid query param` }]);
      }
      workspaces.sort(
        (a, b) => a.owner.username.localeCompare(b.owner.username) || a.name.localeCompare(b.name),
      );
      return {
        status: 200,
        body: {
          workspaces: page(workspaces, paging(ctx.url)).map((w) => store.workspaceJson(w)),
          count: workspaces.length,
        } satisfies S.WorkspacesResponse,
      };
    },
    getWorkspace: async (ctx, params) => {
      const includeDeleted = ctx.url.searchParams.get('include_deleted') ?? '';
      if (!['', 'true', 'false', '1', '0'].includes(includeDeleted)) {
        throw new HttpError(400, `Invalid boolean value "${includeDeleted}" for "include_deleted" query param.`, undefined, [
          { field: 'deleted', detail: 'Must be a valid boolean' },
        ]);
      }
      const workspace = visibleWorkspace(ctx, params.workspace!, includeDeleted === 'true' || includeDeleted === '1');
      return { status: 200, body: store.workspaceJson(workspace) };
    },
    getWorkspaceByOwnerAndName: async (ctx, params) => {
      const user = store.findUser(params.user!, ctx.user);
      const workspace = user && store.findWorkspace(user, params.workspacename!);
      if (!workspace || !canSee(ctx.user, workspace)) throw notFound();
      return { status: 200, body: store.workspaceJson(workspace) };
    },
    watchWorkspace: async () => {
      throw new HttpError(400, 'This endpoint requires a WebSocket upgrade.');
    },
    listWorkspaceBuilds: async (ctx, params) => {
      const workspace = visibleWorkspace(ctx, params.workspace!, true);
      return { status: 200, body: [...workspace.builds].reverse().map((b) => store.buildJson(b)) };
    },
    createBuild: async (ctx, params) => {
      const workspace = visibleWorkspace(ctx, params.workspace!);
      const body = await readJsonBody(ctx.req, S.CreateWorkspaceBuildRequest);
      if (store.isActive(store.latestBuild(workspace))) throw new HttpError(409, 'A workspace build is already active.');
      return { status: 201, body: store.buildJson(store.startBuild(workspace, body.transition, ctx.user!)) };
    },
    getBuild: async (ctx, params) => ({ status: 200, body: store.buildJson(visibleBuild(ctx, params.workspacebuild!)) }),
    getBuildByNumber: async (ctx, params) => {
      const user = store.findUser(params.user!, ctx.user);
      const workspace = user && store.findWorkspace(user, params.workspacename!);
      const build = workspace?.builds[Number(params.buildnumber) - 1];
      if (!workspace || !build || !canSee(ctx.user, workspace)) throw notFound();
      return { status: 200, body: store.buildJson(build) };
    },
    cancelBuild: async (ctx, params) => {
      const build = visibleBuild(ctx, params.workspacebuild!);
      if (build.job.status === 'canceling') throw new HttpError(400, 'Job has already been marked as canceled!');
      if (!store.isActive(build)) throw new HttpError(400, 'Job has already completed!');
      store.cancelBuild(build);
      return { status: 200, body: { message: 'Job has been marked as canceled...' } satisfies S.Response };
    },
    buildLogs: async (ctx, params) => {
      const build = visibleBuild(ctx, params.workspacebuild!);
      if (ctx.url.searchParams.has('follow')) throw new HttpError(400, 'Follow requires a WebSocket upgrade.');
      const after = Number(ctx.url.searchParams.get('after') ?? 0);
      return { status: 200, body: build.logs.filter((entry) => entry.id > after) };
    },
    deploymentStats: async (ctx) => {
      requireOwnerRole(ctx);
      return { status: 200, body: deploymentStats() };
    },
    appHost: async () => ({ status: 200, body: { host: '' } satisfies S.AppHostResponse }),
    agentPty: async () => {
      throw new HttpError(400, 'This endpoint requires a WebSocket upgrade.');
    },
  };

  function deploymentStats(): S.DeploymentStats {
    const counts = { pending: 0, building: 0, running: 0, failed: 0, stopped: 0 };
    for (const workspace of store.workspaces.values()) {
      if (workspace.deleted) continue;
      const status = store.latestBuild(workspace).status;
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
      session_count: { vscode: 0, jetbrains: 0, ssh: sessions.ssh, reconnecting_pty: sessions.reconnecting_pty },
    };
  }

  // ---- request classification ----

  type Target =
    | { kind: 'api'; match: RouteMatch }
    | { kind: 'healthz' }
    | { kind: 'binary'; fileName: string }
    | { kind: 'app'; owner: string; workspace: string; agent: string; slug: string; rest?: string }
    | { kind: 'tunnel'; owner: string; workspace: string }
    | { kind: 'root' }
    | { kind: 'dashboard'; html: string }
    | { kind: 'methodNotAllowed' }
    | { kind: 'notFound' };

  function classify(method: string, pathname: string): Target {
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

  function endpointClassOf(target: Target): EndpointClass {
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
  function metricPath(target: Target): string {
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

  // ---- faults ----

  /** Applies injected latency; true when this request should fail with an injected 500. */
  async function injectFaults(endpointClass: EndpointClass): Promise<boolean> {
    const latency = faults.latency?.[endpointClass] ?? faults.latency?.all;
    if (latency && (latency.ms > 0 || (latency.jitterMs ?? 0) > 0)) {
      const jitter = latency.jitterMs ? (Math.random() * 2 - 1) * latency.jitterMs : 0;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, latency.ms + jitter)));
    }
    const rate = faults.errorRates?.[endpointClass] ?? faults.errorRates?.all ?? 0;
    return rate > 0 && errorSelectors[endpointClass].next(rate);
  }

  const INJECTED_ERROR = new HttpError(500, 'An internal server error occurred.', 'simulated fault (errorRates)');

  function scheduleRestart(): void {
    for (const timer of restartTimers) clearTimeout(timer);
    restartTimers = [];
    const restart = faults.restart;
    if (!restart) return;
    restartTimers.push(
      setTimeout(() => {
        down = true;
        restarts++;
        log(`sim: restart fault: coderd down for ${restart.downForMs} ms`);
        agentServices.resetAll();
        for (const socket of sockets) socket.destroy();
        for (const socket of openWebSockets) socket.destroy();
        restartTimers.push(
          setTimeout(() => {
            down = false;
            metrics.markRestarted();
            log('sim: restart fault: coderd back up');
          }, restart.downForMs),
        );
      }, restart.atMs),
    );
  }

  // ---- authentication and rate limiting ----

  function authenticate(req: http.IncomingMessage, url: URL): SimUser | undefined {
    const token = tokenOf(req, url);
    return token ? store.userForToken(token) : undefined;
  }

  function unauthorized(req: http.IncomingMessage, url: URL): HttpError {
    return tokenOf(req, url)
      ? new HttpError(401, SIGNED_OUT, 'API key is invalid or has expired.')
      : new HttpError(401, SIGNED_OUT, 'Cookie "coder_session_token" or header "Coder-Session-Token" must be provided.');
  }

  /**
   * coderd's API rate limit (httprate): per user (per IP when anonymous) and per request path
   * (KeyByEndpoint), in one-minute windows; owners may bypass it with the header.
   */
  function rateLimited(req: http.IncomingMessage, url: URL, user: SimUser | undefined, res?: http.ServerResponse): HttpError | undefined {
    if (rateLimit <= 0) return undefined;
    if (user && req.headers['x-coder-bypass-ratelimit'] === 'true') {
      if (user.owner) return undefined;
      return new HttpError(428, '"X-Coder-Bypass-Ratelimit" provided but user is not owner');
    }
    const key = `${user?.id ?? req.socket.remoteAddress ?? 'unknown'} ${url.pathname}`;
    const nowMs = Date.now();
    if (rateWindows.size > 10_000) {
      // Keys include the path (build ids, ...): drop finished windows so long runs stay bounded.
      for (const [staleKey, stale] of rateWindows) if (nowMs - stale.start >= 60_000) rateWindows.delete(staleKey);
    }
    let window = rateWindows.get(key);
    if (!window || nowMs - window.start >= 60_000) {
      window = { start: nowMs, count: 0 };
      rateWindows.set(key, window);
    }
    window.count++;
    const resetSeconds = Math.ceil((window.start + 60_000 - nowMs) / 1000);
    res?.setHeader('X-Ratelimit-Limit', String(rateLimit));
    res?.setHeader('X-Ratelimit-Remaining', String(Math.max(0, rateLimit - window.count)));
    res?.setHeader('X-Ratelimit-Reset', String(Math.ceil((window.start + 60_000) / 1000)));
    if (window.count <= rateLimit) return undefined;
    res?.setHeader('Retry-After', String(resetSeconds));
    return new HttpError(429, `You've been rate limited for sending more than ${rateLimit} requests in 1m0s.`);
  }

  // ---- HTTP ----

  function sendJson(res: http.ServerResponse, status: number, body?: unknown): void {
    if (res.headersSent) return;
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
  }

  function errorBody(error: HttpError): S.Response {
    return {
      message: error.message,
      ...(error.detail ? { detail: error.detail } : {}),
      ...(error.validations ? { validations: error.validations } : {}),
    };
  }

  function sendError(res: http.ServerResponse, error: unknown): void {
    if (error instanceof HttpError) {
      if (error.status === 428) {
        res.writeHead(428, { 'Content-Type': 'text/plain; charset=utf-8' }).end(error.message);
        return;
      }
      sendJson(res, error.status, errorBody(error));
      return;
    }
    log(`sim: internal error: ${(error as Error).message}`);
    sendJson(res, 500, { message: 'An internal server error occurred.', detail: (error as Error).message });
  }

  /** Resolves the agent behind an app or tunnel URL, checking access. */
  function agentFor(user: SimUser, ownerName: string, workspaceName: string, agentName?: string): SimWorkspace {
    const workspaceOwner = store.findUser(ownerName, user);
    const workspace = workspaceOwner && store.findWorkspace(workspaceOwner, workspaceName);
    if (!workspace || !canSee(user, workspace) || (agentName !== undefined && agentName !== workspace.agent.name)) throw notFound();
    if (workspace.agent.status !== 'connected') {
      throw new HttpError(502, `Agent state is "${workspace.agent.status}", it must be in the "connected" state.`);
    }
    return workspace;
  }

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    requestCount++;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    res.setHeader('X-Coder-Build-Version', SIM_BUILD_VERSION);
    const target = classify(method, url.pathname);
    const path = metricPath(target);
    const started = performance.now();
    metrics.concurrentRequests.inc({ method, path });
    res.once('close', () => {
      metrics.concurrentRequests.dec({ method, path });
      metrics.requestsProcessed.inc({ code: String(res.statusCode), method, path });
      metrics.requestLatencies.observe({ method, path }, (performance.now() - started) / 1000);
    });
    try {
      if (down) {
        if (target.kind === 'healthz') res.writeHead(503, { 'Content-Type': 'text/plain' }).end('coderd is restarting');
        else sendJson(res, 503, { message: 'Service Unavailable: coderd is restarting.' });
        return;
      }
      if (await injectFaults(endpointClassOf(target))) throw INJECTED_ERROR;
      switch (target.kind) {
        case 'healthz':
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('OK');
          return;
        case 'api': {
          const user = authenticate(req, url);
          if (target.match.route.auth && !user) throw unauthorized(req, url);
          const limited = rateLimited(req, url, user, res);
          if (limited) throw limited;
          const result = await handlers[target.match.name]({ req, url, user }, target.match.params);
          sendJson(res, result.status, result.body);
          return;
        }
        case 'binary':
          agentServices.handleCoderBinary(req, res, target.fileName);
          return;
        case 'app': {
          const user = authenticate(req, url);
          if (!user) throw unauthorized(req, url);
          if (target.rest === undefined) {
            // coderd redirects to the slug's directory: relative links inside the app depend on it.
            res.writeHead(307, { Location: `${url.pathname}/${url.search}` }).end();
            return;
          }
          const workspace = agentFor(user, target.owner, target.workspace, target.agent);
          if (target.slug !== APP_SLUG) throw notFound();
          agentServices.handleAppRequest(req, res, store.agentRef(workspace), target.slug, target.rest);
          return;
        }
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
      sendError(res, error);
    }
  }

  // ---- upgrades (WebSockets and the tunnel) ----

  function rejectUpgrade(socket: Duplex, error: unknown): void {
    const httpError = error instanceof HttpError ? error : new HttpError(500, 'An internal server error occurred.');
    const body = JSON.stringify(errorBody(httpError));
    socket.end(
      `HTTP/1.1 ${httpError.status} ${http.STATUS_CODES[httpError.status] ?? ''}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Coder-Build-Version: ${SIM_BUILD_VERSION}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  function trackWebSocket(socket: Duplex, path: string): void {
    const opened = performance.now();
    openWebSockets.add(socket);
    metrics.concurrentWebsockets.inc({ path });
    socket.once('close', () => {
      openWebSockets.delete(socket);
      metrics.concurrentWebsockets.dec({ path });
      metrics.websocketDurations.observe({ path }, (performance.now() - opened) / 1000);
    });
  }

  /** Streams a build's logs after id `after` (one JSON per text frame); closes when the job ends. */
  function followLogs(build: SimBuild, ws: WebSocket, after: number): void {
    const send = (entry: S.ProvisionerJobLog) => ws.send(JSON.stringify(entry));
    for (const entry of build.logs) if (entry.id > after) send(entry);
    if (!store.isActive(build)) {
      ws.close(1000);
      return;
    }
    const onDone = () => ws.close(1000);
    store.events.on(`log:${build.id}`, send);
    store.events.once(`done:${build.id}`, onDone);
    ws.once('close', () => {
      store.events.off(`log:${build.id}`, send);
      store.events.off(`done:${build.id}`, onDone);
    });
  }

  /** coderd's live workspace updates: the workspace now and after every change, pings every 15 s. */
  function watchWorkspace(workspace: SimWorkspace, ws: WebSocket): void {
    const send = (event: S.ServerSentEvent) => ws.send(JSON.stringify(event));
    const sendWorkspace = () => send({ type: 'data', data: store.workspaceJson(workspace) });
    sendWorkspace();
    store.events.on(`workspace:${workspace.id}`, sendWorkspace);
    const ping = setInterval(() => send({ type: 'ping' }), 15_000);
    ws.once('close', () => {
      clearInterval(ping);
      store.events.off(`workspace:${workspace.id}`, sendWorkspace);
    });
  }

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    requestCount++;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const target = classify(method, url.pathname);
    const path = metricPath(target);
    socket.on('error', () => socket.destroy());
    try {
      if (down) throw new HttpError(503, 'Service Unavailable: coderd is restarting.');
      if (await injectFaults(endpointClassOf(target))) throw INJECTED_ERROR;
      const user = authenticate(req, url);
      if (!user && target.kind !== 'binary') throw unauthorized(req, url);
      if (target.kind === 'api' && target.match.name === 'buildLogs') {
        const build = (() => {
          const found = store.findBuild(target.match.params.workspacebuild!);
          if (!found || !canSee(user, found.workspace)) throw notFound();
          return found;
        })();
        const limited = rateLimited(req, url, user);
        if (limited) throw limited;
        trackWebSocket(socket, path);
        const after = Number(url.searchParams.get('after') ?? 0) || 0;
        apiSockets.handleUpgrade(req, socket, head, (ws) => followLogs(build, ws, after));
      } else if (target.kind === 'api' && target.match.name === 'watchWorkspace') {
        const workspace = visibleWorkspace({ req, url, user }, target.match.params.workspace!);
        const limited = rateLimited(req, url, user);
        if (limited) throw limited;
        trackWebSocket(socket, path);
        apiSockets.handleUpgrade(req, socket, head, (ws) => watchWorkspace(workspace, ws));
      } else if (target.kind === 'api' && target.match.name === 'agentPty') {
        const limited = rateLimited(req, url, user);
        if (limited) throw limited;
        const workspace = store.findAgent(target.match.params.workspaceagent!);
        if (!workspace || !canSee(user, workspace)) throw notFound();
        const reconnect = url.searchParams.get('reconnect') ?? '';
        if (!UUID_PATTERN.test(reconnect)) {
          throw new HttpError(400, 'Query parameters have invalid values.', undefined, [
            { field: 'reconnect', detail: `Query param "reconnect" must be a valid UUID (${reconnect})` },
          ]);
        }
        if (workspace.agent.status !== 'connected') {
          throw new HttpError(400, `Agent state is "${workspace.agent.status}", it must be in the "connected" state.`);
        }
        const dimension = (name: string) => {
          const value = Number(url.searchParams.get(name) ?? 0);
          return Number.isInteger(value) && value >= 0 && value <= 65535 ? value : 0;
        };
        trackWebSocket(socket, path);
        agentServices.handlePtyUpgrade(req, socket, head, store.agentRef(workspace), {
          reconnect,
          width: dimension('width'),
          height: dimension('height'),
          command: url.searchParams.get('command') ?? '',
        });
      } else if (target.kind === 'app' && target.rest !== undefined) {
        const workspace = agentFor(user!, target.owner, target.workspace, target.agent);
        if (target.slug !== APP_SLUG) throw notFound();
        trackWebSocket(socket, path);
        agentServices.handleAppUpgrade(req, socket, head, store.agentRef(workspace), target.slug, target.rest);
      } else if (target.kind === 'tunnel') {
        if ((req.headers.upgrade ?? '').toLowerCase() !== 'coder-sim-tunnel') {
          throw new HttpError(400, 'The simulator tunnel needs "Upgrade: coder-sim-tunnel".');
        }
        const workspace = agentFor(user!, target.owner, target.workspace, url.searchParams.get('agent') ?? undefined);
        trackWebSocket(socket, path);
        agentServices.handleTunnelUpgrade(req, socket, head, store.agentRef(workspace));
      } else {
        throw new HttpError(404, 'Route not found.');
      }
      metrics.requestsProcessed.inc({ code: '101', method, path });
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      metrics.requestsProcessed.inc({ code: String(status), method, path });
      rejectUpgrade(socket, error);
    }
  }

  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key })
    : http.createServer();
  server.on('request', (req, res) => void handleRequest(req, res));
  server.on('upgrade', (req, socket, head) => void handleUpgrade(req, socket, head));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const prometheus = await metrics.listen(host);
  const directSsh = options.directSsh ? await agentServices.listenDirectSsh(host, 0) : undefined;
  scheduleRestart();
  log(`sim: serving ${baseUrl} (Prometheus ${prometheus.url})`);

  let closed = false;
  return {
    url: baseUrl,
    ownerToken,
    ownerEmail,
    organizationId: store.organization.id,
    templateId: store.template.id,
    prometheusUrl: prometheus.url,
    ...(directSsh ? { directSsh } : {}),
    setFaults(next) {
      faults = validateFaults(next);
      scheduleRestart();
    },
    faults: () => faults,
    stats: () => ({
      users: store.users.size,
      workspaces: [...store.workspaces.values()].filter((w) => !w.deleted).length,
      activeBuilds: [...store.workspaces.values()].filter((w) => store.isActive(store.latestBuild(w))).length,
      sessions: { ...sessions },
      requests: requestCount,
      openWebSockets: openWebSockets.size,
      restarts,
      down,
    }),
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of restartTimers) clearTimeout(timer);
      store.dispose();
      for (const client of apiSockets.clients) client.terminate();
      apiSockets.close();
      await agentServices.close();
      for (const socket of sockets) socket.destroy();
      for (const socket of openWebSockets) socket.destroy();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), prometheus.close()]);
    },
  };
}
