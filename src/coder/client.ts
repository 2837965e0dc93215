// REST + WebSocket client for coderd's API v2. Every response is checked against the project's
// schemas; every request (failures and retries included) is reported through `onRequest`, which
// the engine turns into API latency per endpoint class and 4xx/5xx counts.
import { CoderApiTransport, sleep, type CoderClientOptions } from './apiTransport';
import type { DeploymentConnection } from './connection';
import type { RateLimitGate } from './rateLimitGate';
import { routeTemplate } from './routes';
import * as S from './schemas';
import { parseAs } from './validate';
import { versionWarning } from './versions';
import { BuildFailedError, CoderApiError } from './errors';

export type { CoderClientOptions, RequestInfo, RetryPolicy } from './apiTransport';

export interface WaitForBuildOptions {
  signal?: AbortSignal;
  onLog?(log: S.ProvisionerJobLog): void;
  /** Called with the job status each time the build is read (pending = queued for a provisioner). */
  onJobStatus?(status: S.ProvisionerJob['status']): void;
  /** Poll interval while the job is pending (reference: 500 ms). */
  pollMs?: number;
}

export interface WaitForAgentsOptions {
  signal?: AbortSignal;
  /** Give up after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Poll interval (reference: 1 s). */
  pollMs?: number;
}

/** coderd's answer to GET /deployment/stats until its first stats collection after start. */
const STATS_NOT_YET = /still processing/i;
const terminalJobStatuses = new Set(['succeeded', 'failed', 'canceled']);

export class CoderClient {
  /** The plumbing under every call (apiTransport.ts): held, not inherited, so each reads alone. */
  readonly transport: CoderApiTransport;

  constructor(connection: DeploymentConnection, options?: CoderClientOptions);
  /** A client over a transport already made (withToken()'s). */
  constructor(transport: CoderApiTransport);
  constructor(target: DeploymentConnection | CoderApiTransport, options: CoderClientOptions = {}) {
    this.transport = target instanceof CoderApiTransport ? target : new CoderApiTransport(target, options);
  }

  /** A client acting as another user (e.g. a scale-test user), sharing options and connections. */
  withToken(token: string): CoderClient {
    return new CoderClient(this.transport.withToken(token));
  }

  /** The deployment and the token this client acts with. */
  get connection(): DeploymentConnection {
    return this.transport.connection;
  }

  /** What the client learnt about the deployment's rate limits, and how long they held it back. */
  get rateLimits(): RateLimitGate {
    return this.transport.rateLimits;
  }

  /** Releases pooled keep-alive sockets. */
  close(): void {
    this.transport.close();
  }

  // ---- authentication and identity ----

  /** POST /users/login (201); returns the session token. */
  async login(email: string, password: string): Promise<string> {
    const body: S.LoginWithPasswordRequest = { email, password };
    const response = await this.transport.call('login', { body });
    return response.session_token;
  }

  buildInfo(): Promise<S.BuildInfoResponse> {
    return this.transport.call('buildInfo');
  }

  /** The deployment's version (from buildinfo) and a warning when it is outside the supported range. */
  async versionCheck(): Promise<{ version: string; warning?: string }> {
    const { version } = await this.buildInfo();
    const warning = versionWarning(version);
    return { version, ...(warning ? { warning } : {}) };
  }

  me(): Promise<S.User> {
    return this.transport.call('getUser', { params: { user: 'me' } });
  }

  /** Resolves with the current user when it has the site-wide `owner` role. */
  async requireOwner(): Promise<S.User> {
    const user = await this.me();
    if (!(user.roles ?? []).some((role) => role.name === 'owner' && !role.organization_id)) {
      throw new Error(`user ${user.username} lacks the owner role; scale tests need an owner (log in as a Coder owner).`);
    }
    return user;
  }

  createApiKey(user: string, request: S.CreateTokenRequest): Promise<S.GenerateAPIKeyResponse> {
    return this.transport.call('createToken', { params: { user }, body: request });
  }

  /** The deployment's token limits for `user`; undefined on a coderd without the endpoint. */
  async tokenConfig(user: string): Promise<S.TokenConfig | undefined> {
    try {
      return await this.transport.call('tokenConfig', { params: { user } });
    } catch (error) {
      if (error instanceof CoderApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Mints an API token for `user` that lives `lifetimeMs` or, when the deployment allows less
   * (`--max-token-lifetime`), as long as it allows: coderd refuses longer lifetimes with 400.
   */
  async mintToken(user: string, tokenName: string, lifetimeMs: number): Promise<string> {
    const config = await this.tokenConfig(user);
    const maxNs = config?.max_token_lifetime ?? 0;
    // 0 means "no limit" in older coderd versions; the limit is inclusive.
    const lifetimeNs = maxNs > 0 ? Math.min(lifetimeMs * 1e6, maxNs) : lifetimeMs * 1e6;
    const { key } = await this.createApiKey(user, { lifetime: Math.floor(lifetimeNs), token_name: tokenName });
    return key;
  }

  // ---- users ----

  createUser(request: S.CreateUserRequestWithOrgs): Promise<S.User> {
    return this.transport.call('createUser', { body: request });
  }

  listUsers(query: { q?: string; offset?: number; limit?: number } = {}): Promise<S.GetUsersResponse> {
    return this.transport.call('listUsers', { query });
  }

  getUser(user: string): Promise<S.User> {
    return this.transport.call('getUser', { params: { user } });
  }

  async deleteUser(user: string): Promise<void> {
    await this.transport.call('deleteUser', { params: { user } });
  }

  // ---- organizations and templates ----

  organizations(): Promise<S.Organization[]> {
    return this.transport.call('listOrganizations');
  }

  templates(organizationId: string): Promise<S.Template[]> {
    return this.transport.call('listTemplates', { params: { organization: organizationId } });
  }

  templateByName(organizationId: string, name: string): Promise<S.Template> {
    return this.transport.call('getTemplateByName', { params: { organization: organizationId, templatename: name } });
  }

  // ---- workspaces and builds ----

  /**
   * Creates a workspace for `user` (username, id or `me`) the way coderd's frontend does:
   * POST /users/{user}/workspaces. A coderd from before that route answers 404; then (and from
   * then on, for this client and its withToken() siblings) the deprecated organization-member
   * route is used.
   */
  async createWorkspace(organizationId: string, user: string, request: S.CreateWorkspaceRequest): Promise<S.Workspace> {
    if (!this.transport.support.legacyCreateWorkspace) {
      try {
        return await this.transport.call('createUserWorkspace', { params: { user }, body: request });
      } catch (error) {
        if (!(error instanceof CoderApiError) || error.status !== 404 || !/route not found/i.test(error.apiMessage)) throw error;
        this.transport.support.legacyCreateWorkspace = true;
      }
    }
    return this.transport.call('createWorkspace', { params: { organization: organizationId, user }, body: request });
  }

  getWorkspace(id: string, options: { includeDeleted?: boolean; signal?: AbortSignal } = {}): Promise<S.Workspace> {
    return this.transport.call('getWorkspace', {
      params: { workspace: id },
      query: { include_deleted: options.includeDeleted ? true : undefined },
      signal: options.signal,
    });
  }

  workspaceByOwnerAndName(owner: string, name: string): Promise<S.Workspace> {
    return this.transport.call('getWorkspaceByOwnerAndName', { params: { user: owner, workspacename: name } });
  }

  /** `q` uses coderd's search syntax, e.g. `name:"scaletest-" owner:me`. */
  listWorkspaces(query: { q?: string; offset?: number; limit?: number } = {}): Promise<S.WorkspacesResponse> {
    return this.transport.call('listWorkspaces', { query });
  }

  getBuild(id: string, signal?: AbortSignal): Promise<S.WorkspaceBuild> {
    return this.transport.call('getBuild', { params: { workspacebuild: id }, signal });
  }

  createBuild(workspaceId: string, request: S.CreateWorkspaceBuildRequest): Promise<S.WorkspaceBuild> {
    return this.transport.call('createBuild', { params: { workspace: workspaceId }, body: request });
  }

  /** PUT /workspaces/{id}/autostart (204); an empty schedule clears it. */
  async updateWorkspaceAutostart(workspaceId: string, schedule: string): Promise<void> {
    await this.transport.call('updateWorkspaceAutostart', { params: { workspace: workspaceId }, body: { schedule } });
  }

  /** GET /organizations/{org}/provisionerdaemons: the daemons the caller may see, with status (2.18+). */
  provisionerDaemons(organizationId: string): Promise<S.ProvisionerDaemon[]> {
    return this.transport.call('listProvisionerDaemons', { params: { organization: organizationId } });
  }

  /** GET /organizations/{org}/provisionerjobs, newest first (coderd's default limit 50). */
  provisionerJobs(
    organizationId: string,
    query: { status?: string; limit?: number } = {},
    signal?: AbortSignal,
  ): Promise<S.ProvisionerJob[]> {
    return this.transport.call('listProvisionerJobs', { params: { organization: organizationId }, query, signal });
  }

  cancelBuild(id: string): Promise<S.Response> {
    return this.transport.call('cancelBuild', { params: { workspacebuild: id } });
  }

  /**
   * Follows a build's logs over WebSocket (one ProvisionerJobLog JSON per text frame) until the
   * server closes the socket (the job finished) or `signal` aborts.
   */
  followBuildLogs(buildId: string, onLog: (log: S.ProvisionerJobLog) => void, signal?: AbortSignal): Promise<void> {
    return this.followJobLogs('buildLogs', { workspacebuild: buildId }, onLog, signal);
  }

  /** A template version's import job logs, the same way (closes when the import job ends). */
  followTemplateVersionLogs(versionId: string, onLog: (log: S.ProvisionerJobLog) => void, signal?: AbortSignal): Promise<void> {
    return this.followJobLogs('templateVersionLogs', { templateversion: versionId }, onLog, signal);
  }

  private followJobLogs(
    routeName: 'buildLogs' | 'templateVersionLogs',
    params: Record<string, string>,
    onLog: (log: S.ProvisionerJobLog) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const frame = `GET ${routeTemplate(routeName)} (log frame)`;
    return this.transport.follow(routeName, params, (text) => onLog(parseAs(S.ProvisionerJobLog, JSON.parse(text), frame)), signal);
  }

  /**
   * Waits for a build to finish, the reference way: poll every 500 ms while the job is pending,
   * follow the logs until the socket closes, then read the build again (polling on if the
   * socket closed early). Resolves with the succeeded build; throws BuildFailedError otherwise.
   */
  async waitForBuild(buildId: string, options: WaitForBuildOptions = {}): Promise<S.WorkspaceBuild> {
    const { signal, onLog, onJobStatus } = options;
    const pollMs = options.pollMs ?? 500;
    const read = async () => {
      const latest = await this.getBuild(buildId, signal);
      onJobStatus?.(latest.job.status);
      return latest;
    };
    let build = await read();
    while (build.job.status === 'pending') {
      await sleep(pollMs, signal);
      build = await read();
    }
    if (!terminalJobStatuses.has(build.job.status)) {
      await this.followBuildLogs(buildId, (log) => onLog?.(log), signal).catch((error: Error) => {
        // Logs are a convenience; the build's own status decides the outcome.
        if (signal?.aborted) throw error;
      });
      build = await read();
      while (!terminalJobStatuses.has(build.job.status)) {
        await sleep(pollMs, signal);
        build = await read();
      }
    }
    if (build.job.status !== 'succeeded') throw new BuildFailedError(buildId, build.job.status, build.job.error);
    return build;
  }

  /** Polls the workspace until every agent of its latest build is connected (or the timeout passes). */
  async waitForAgents(workspaceId: string, options: WaitForAgentsOptions = {}): Promise<S.Workspace> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? 600_000;
    const pollMs = options.pollMs ?? 1000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const workspace = await this.getWorkspace(workspaceId, { signal });
      const job = workspace.latest_build.job;
      if (job.status === 'failed' || job.status === 'canceled') {
        throw new BuildFailedError(workspace.latest_build.id, job.status, job.error);
      }
      // Agents (resources) appear only once the build's job has succeeded.
      const built = job.status === 'succeeded';
      const agents = (workspace.latest_build.resources ?? []).flatMap((resource) => resource.agents ?? []);
      // `timeout` and `disconnected` are not final in coderd (an agent may still connect), so
      // keep waiting like the reference runner; the deadline message names the last status.
      // Connected is not ready: the startup script (which starts the template's apps) has
      // finished when lifecycle_state is `ready`, or ended badly (`start_error`,
      // `start_timeout`); the caller decides what those mean (cli/cliui/agent.go does the same).
      if (built && agents.every((agent) => agent.status === 'connected' && startupFinished(agent.lifecycle_state))) return workspace;
      if (Date.now() + pollMs > deadline) {
        const states = built
          ? agents.map((agent) => `${agent.name}: ${agent.status}${agent.lifecycle_state ? `, ${agent.lifecycle_state}` : ''}`).join('; ')
          : `build ${job.status}`;
        throw new Error(
          `agents of workspace ${workspace.owner_name}/${workspace.name} not ready after ${Math.round(timeoutMs / 1000)} s (${states})`,
        );
      }
      await sleep(pollMs, signal);
    }
  }

  // ---- deployment ----

  /**
   * Deployment-wide stats; undefined until coderd's first stats collection after it started
   * (coderd answers 400 "Deployment stats are still processing!" until then).
   */
  async deploymentStats(): Promise<S.DeploymentStats | undefined> {
    try {
      return await this.transport.call('deploymentStats');
    } catch (error) {
      if (error instanceof CoderApiError && error.status === 400 && STATS_NOT_YET.test(error.apiMessage)) return undefined;
      throw error;
    }
  }

  /** GET /entitlements: the licence's features; undefined on a coderd without a licence route (AGPL: 404). */
  async entitlements(): Promise<S.Entitlements | undefined> {
    try {
      return await this.transport.call('entitlements');
    } catch (error) {
      if (error instanceof CoderApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  // ---- templates: files, versions, import jobs ----

  /** POST /files with a tar archive; `existed` when coderd already had these bytes from this user (200, not 201). */
  async uploadFile(data: Buffer, contentType = 'application/x-tar'): Promise<{ id: string; existed: boolean }> {
    let status = 0;
    const { hash } = await this.transport.call('uploadFile', { raw: { contentType, data }, onStatus: (answered) => (status = answered) });
    return { id: hash, existed: status === 200 };
  }

  createTemplateVersion(organizationId: string, request: S.CreateTemplateVersionRequest): Promise<S.TemplateVersion> {
    return this.transport.call('createTemplateVersion', { params: { organization: organizationId }, body: request });
  }

  templateVersion(id: string, signal?: AbortSignal): Promise<S.TemplateVersion> {
    return this.transport.call('getTemplateVersion', { params: { templateversion: id }, signal });
  }

  cancelTemplateVersion(id: string): Promise<S.Response> {
    return this.transport.call('cancelTemplateVersion', { params: { templateversion: id } });
  }

  templateVersionExternalAuth(id: string): Promise<S.TemplateVersionExternalAuth[]> {
    return this.transport.call('templateVersionExternalAuth', { params: { templateversion: id } });
  }

  createTemplate(organizationId: string, request: S.CreateTemplateRequest): Promise<S.Template> {
    return this.transport.call('createTemplate', { params: { organization: organizationId }, body: request });
  }

  async promoteTemplateVersion(templateId: string, versionId: string): Promise<void> {
    await this.transport.call('updateActiveTemplateVersion', { params: { template: templateId }, body: { id: versionId } });
  }

  appHost(): Promise<S.AppHostResponse> {
    return this.transport.call('appHost');
  }

  /** GET /regions: the primary region (path app URL, wildcard host), as the dashboard reads it. */
  regions(): Promise<S.RegionsResponse> {
    return this.transport.call('regions');
  }

  /** GET /templateversions/{id}/resources: what the version's import found (agents and their apps). */
  templateVersionResources(templateVersionId: string): Promise<S.WorkspaceResource[]> {
    return this.transport.call('templateVersionResources', { params: { templateversion: templateVersionId } });
  }

  /** GET /templateversions/{id}/rich-parameters: the version's parameters (required ones have no default). */
  templateVersionParameters(templateVersionId: string): Promise<S.TemplateVersionParameter[]> {
    return this.transport.call('templateVersionRichParameters', { params: { templateversion: templateVersionId } });
  }

  /** GET /templateversions/{id}/presets; a coderd from before presets answers 404: none. */
  async templateVersionPresets(templateVersionId: string): Promise<S.Preset[]> {
    try {
      return await this.transport.call('templateVersionPresets', { params: { templateversion: templateVersionId } });
    } catch (error) {
      if (error instanceof CoderApiError && error.status === 404) return [];
      throw error;
    }
  }

  /** GET /healthz (outside /api/v2, no auth): "OK" when coderd is healthy. Not retried. */
  async healthz(signal?: AbortSignal): Promise<string> {
    const route = '/healthz';
    const response = await this.transport.attempt('GET', route, route, 'health', undefined, 1, signal);
    if (response.status !== 200) throw this.transport.apiError(response.status, 'GET', route, response.body);
    return response.body;
  }
}

/** The startup script has ended (coderd's agent lifecycle): ready, or failed / timed out. An agent without a lifecycle (very old) counts as ready once connected. */
export function startupFinished(lifecycle: string | undefined): boolean {
  return lifecycle === undefined || lifecycle === 'ready' || lifecycle === 'start_error' || lifecycle === 'start_timeout';
}
