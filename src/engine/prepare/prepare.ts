// Prepare: users and workspaces with bounded concurrency. Everything created is recorded in
// the run's registry the moment it exists, so cleanup (also after an abort) deletes exactly it,
// and in the run's journal on disk before its create request is sent (run/journal.ts), so
// `cleanup --run-id` finds it even after the runner was killed.
import { CoderApiError } from '../../coder/errors';
import type { CoderClient } from '../../coder/client';
import type { Organization, Template, WorkspaceApp } from '../../coder/schemas';
import type { StageMetrics } from '../metrics/stageMetrics';
import { appLabelProblem, userIdentity, workspaceName } from '../run/naming';
import { APP_LABEL_WITHOUT_AGENT_SINCE, atLeastVersion } from '../../coder/versions';
import { enabledStages, type Plan } from '../plan/plan';
import { runPool } from '../common/pool';
import { shardUserIndexes } from './shardUsers';
import { withRetries } from '../common/retry';
import { recordCreate, type ResourceJournal } from '../run/journal';

export interface CreatedResources {
  users: Map<string, string>; // id → username
  workspaces: Map<string, string>; // id → name
}

/** A scale-test user as prepare leaves it for a stage that asked for users only. */
export interface StageUser {
  index: number;
  userId: string;
  username: string;
  /** The user's session token (minted by the owner, or from logging in). Never logged or reported. */
  token: string;
  client: CoderClient;
}

/** A user with a ready workspace (built, agent connected): what a stage gets that asked for workspaces. */
export interface PreparedUser extends StageUser {
  workspaceId: string;
  workspaceName: string;
  agentId: string;
  agentName: string;
  /** The agent's apps: whether each is a subdomain app, and its subdomain label, come from coderd. */
  agentApps: WorkspaceApp[];
}

export interface PrepareContext {
  plan: Plan;
  runId: string;
  owner: CoderClient;
  /** A client acting as a scale-test user (no owner-only headers such as the rate-limit bypass). */
  userClient(token: string): CoderClient;
  created: CreatedResources;
  metrics: StageMetrics;
  signal: AbortSignal;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** A shard prepares only these plan indexes (names keep the plan-wide index); all of them otherwise. */
  userIndexes?: number[];
  /** The run's journal: every create is recorded in it before it is sent (absent: not recorded). */
  journal?: ResourceJournal;
  /** Whether an enabled stage asked for workspaces (else only users are created). */
  workspaces: boolean;
}

/** Whether any stage the plan enables asked prepare for workspaces, not users alone. */
export function planNeedsWorkspaces(plan: Plan): boolean {
  return enabledStages(plan).some((stage) => (stage.prepares ?? 'workspaces') === 'workspaces');
}

/** The plan names an organization or template the deployment does not have: fix the plan. */
export class PlanMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanMismatchError';
  }
}

export async function resolveOrganizationAndTemplate(
  owner: CoderClient,
  plan: Plan,
  ownerOrganizationIds: string[],
): Promise<{ organization: Organization; template: Template }> {
  const organizations = await owner.organizations();
  const wanted = plan.deployment.organization;
  const organization = wanted
    ? organizations.find((org) => org.id === wanted || org.name === wanted)
    : (organizations.find((org) => ownerOrganizationIds.includes(org.id)) ?? organizations[0]);
  if (!organization) {
    const known = organizations.map((org) => org.name).join(', ') || 'none';
    throw new PlanMismatchError(
      `organization "${wanted ?? '(default)'}" not found on the deployment (organizations: ${known}); fix deployment.organization in the plan`,
    );
  }
  const templates = await owner.templates(organization.id);
  const wantedTemplate = plan.deployment.template;
  const template = wantedTemplate ? templates.find((t) => t.id === wantedTemplate || t.name === wantedTemplate) : templates[0];
  if (!template) {
    const known = templates.map((t) => t.name).join(', ') || 'none';
    throw new PlanMismatchError(
      wantedTemplate
        ? `template "${wantedTemplate}" not found in organization ${organization.name} (templates: ${known}); fix deployment.template in the plan`
        : `organization ${organization.name} has no templates: push one with an echo app (slug "wsec"), or set deployment.template`,
    );
  }
  return { organization, template };
}

/**
 * A subdomain app's label must fit in a DNS label as the deployment's release forms it — with
 * the agent's name before coder/coder PR #19750 — checked before anything is created (plan
 * validation can only check the newer, shorter form).
 */
export async function checkAppLabels(owner: CoderClient, plan: Plan, template: Template): Promise<void> {
  const apps = (plan.traffic as Record<string, { enabled?: boolean; slug?: string } | undefined>).apps;
  if (!apps?.enabled || !apps.slug) return;
  const host = (await owner.appHost().catch(() => ({ host: '' }))).host;
  if (!host) return; // path-based app URLs
  const resources = await owner.templateVersionResources(template.active_version_id).catch(() => undefined);
  const agent = resources?.flatMap((resource) => resource.agents ?? [])[0];
  const app = agent?.apps?.find((candidate) => candidate.slug === apps.slug);
  if (app && !app.subdomain) return;
  const { version } = await owner.buildInfo();
  const withAgent = !atLeastVersion(version, APP_LABEL_WITHOUT_AGENT_SINCE);
  const problem = appLabelProblem(apps.slug, plan.runIdPrefix, plan.users, {
    agentName: withAgent ? (agent?.name ?? 'main') : undefined,
    wildcardHost: host,
  });
  if (problem) throw new PlanMismatchError(`coderd ${version}: ${problem}`);
}

/** What every workspace is created with besides its name: parameter values and the preset. */
export interface WorkspaceInputs {
  rich_parameter_values: Array<{ name: string; value: string }>;
  template_version_preset_id?: string;
}

/**
 * The plan's parameter values and preset against the template's active version, before anything
 * is created: coderd (wsbuilder.getParameters) refuses a workspace whose required parameter (one
 * without a default) has no value — for every user of the run — so the run refuses first, naming them.
 */
export async function resolveWorkspaceInputs(owner: CoderClient, plan: Plan, template: Template): Promise<WorkspaceInputs> {
  const versionId = template.active_version_id;
  const parameters = await owner.templateVersionParameters(versionId);
  const given = plan.deployment.parameters ?? {};
  let preset: { ID: string; Parameters: Array<{ Name: string; Value: string }> } | undefined;
  if (plan.deployment.preset) {
    const presets = await owner.templateVersionPresets(versionId);
    preset = presets.find((candidate) => candidate.Name === plan.deployment.preset);
    if (!preset) {
      throw new PlanMismatchError(
        `template ${template.name} has no preset "${plan.deployment.preset}" (presets: ${presets.map((p) => p.Name).join(', ') || 'none'}); fix deployment.preset in the plan`,
      );
    }
  }
  const names = new Set(parameters.map((parameter) => parameter.name));
  const unknown = Object.keys(given).filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new PlanMismatchError(
      `template ${template.name} has no parameter ${unknown.map((name) => `"${name}"`).join(', ')} (its parameters: ${[...names].join(', ') || 'none'}); fix deployment.parameters in the plan`,
    );
  }
  const values = { ...Object.fromEntries((preset?.Parameters ?? []).map((p) => [p.Name, p.Value])), ...given };
  const missing = parameters.filter((parameter) => parameter.required && values[parameter.name] === undefined).map((p) => p.name);
  if (missing.length > 0) {
    throw new PlanMismatchError(
      `template ${template.name} requires a value for ${missing.map((name) => `"${name}"`).join(', ')}, which the plan does not give: ` +
        'add them to deployment.parameters (or choose a deployment.preset that sets them)',
    );
  }
  return {
    rich_parameter_values: Object.entries(values).map(([name, value]) => ({ name, value })),
    ...(preset ? { template_version_preset_id: preset.ID } : {}),
  };
}

/** Creates plan.users users (and workspaces, when asked); resolves with those that became ready. */
export async function prepareUsers(
  context: PrepareContext,
  organization: Organization,
  template: Template,
  inputs: WorkspaceInputs = { rich_parameter_values: [] },
): Promise<StageUser[]> {
  const { plan, runId, owner, userClient, created, metrics, signal, log } = context;
  const ready: StageUser[] = [];
  const indexes = context.userIndexes ?? Array.from({ length: plan.users }, (_, index) => index);
  const progress = { done: 0, total: indexes.length, failed: 0, queued: 0, building: 0, rateLimitedMs: 0, startTimeouts: 0 };
  metrics.progress = progress;
  metrics.targetConnections = indexes.length;
  // How long the deployment's rate limits held prepare back (the gate is shared by the run's clients).
  const heldBackAtStart = owner.rateLimits.state().heldBackMs;
  const noteRateLimits = () => (progress.rateLimitedMs = owner.rateLimits.state().heldBackMs - heldBackAtStart);
  const rateLimitTicker = setInterval(noteRateLimits, 1000);

  await runPool(
    indexes,
    plan.concurrency.prepare,
    async (index) => {
      metrics.activeConnections++;
      let step = 'create_user';
      // Which workspace (the report's per-workspace rows): named before it exists, its agent once seen.
      const who = { index, user: '', workspace: workspaceName(runId, index), agent: '' };
      try {
        const identity = userIdentity(runId);
        who.user = identity.username;
        const { journal } = context;
        const userIntent = {
          type: 'intent',
          kind: 'user',
          key: `user:${index}`,
          username: identity.username,
          email: identity.email,
        } as const;
        const user = await recordCreate(journal, userIntent, () =>
          owner.createUser({
            email: identity.email,
            username: identity.username,
            name: `Scale test user ${index}`,
            password: identity.password,
            login_type: 'password',
            organization_ids: [organization.id],
          }),
        );
        created.users.set(user.id, user.username);
        step = 'login';
        const token = await userToken(owner, user.id, identity, runId);
        const client = userClient(token);
        if (!context.workspaces) {
          ready.push({ index, userId: user.id, username: user.username, token, client });
          progress.done++;
          return;
        }
        step = 'create_workspace';
        const started = Date.now();
        const name = workspaceName(runId, index);
        const workspaceIntent = {
          type: 'intent',
          kind: 'workspace',
          key: `workspace:${index}`,
          owner: user.username,
          ownerId: user.id,
          name,
        } as const;
        // The user's own path, not `me`: before coderd keyed rate limits by user, every
        // `/users/me/workspaces` request from this runner shared one bucket (512/min).
        const workspace = await recordCreate(journal, workspaceIntent, () =>
          client.createWorkspace(organization.id, user.id, {
            name,
            template_id: template.id,
            ...inputs,
          }),
        );
        created.workspaces.set(workspace.id, workspace.name);
        step = 'build';
        const buildSignal = AbortSignal.any([signal, AbortSignal.timeout(plan.timeouts.buildSeconds * 1000)]);
        const queue = new BuildQueueTracker(progress);
        // Reading a build is idempotent: a 5xx or a dropped connection is retried, not a failure.
        await withRetries(
          () => client.waitForBuild(workspace.latest_build.id, { signal: buildSignal, onJobStatus: (status) => queue.update(status) }),
          buildSignal,
        )
          .catch((error: Error) => {
            if (buildSignal.aborted && !signal.aborted) throw new Error(`build did not finish within ${plan.timeouts.buildSeconds} s`);
            throw error;
          })
          .finally(() => queue.update(undefined));
        const built = Date.now();
        metrics.latency.record(built - started);
        metrics.workspaces.prepared(who, { buildMs: built - started });
        step = 'agent';
        const agentMs = plan.timeouts.agentSeconds * 1000;
        const agentEnd = Date.now() + agentMs;
        const agentDeadline = AbortSignal.any([signal, AbortSignal.timeout(agentMs)]);
        const withAgents = await withRetries(
          () => client.waitForAgents(workspace.id, { signal, timeoutMs: Math.max(1, agentEnd - Date.now()) }),
          agentDeadline,
        );
        const agent = (withAgents.latest_build.resources ?? []).flatMap((resource) => resource.agents ?? [])[0];
        if (!agent) throw new Error(`workspace ${workspace.name} has no agent; the template must define one`);
        // Connected is not ready: the startup script starts the template's apps (coderd's
        // lifecycle_state; cli/cliui/agent.go words the two bad endings like this).
        if (agent.lifecycle_state === 'start_error') {
          throw new Error(
            `the agent's startup script exited with an error (lifecycle start_error): the template's apps may not be running; see the workspace's agent logs`,
          );
        }
        if (agent.lifecycle_state === 'start_timeout') {
          progress.startTimeouts++;
          log(
            'warn',
            `user ${index + 1}/${plan.users}: a startup script timed out (lifecycle start_timeout); the workspace may be incomplete`,
          );
        }
        metrics.workspaces.prepared({ ...who, agent: agent.name }, { agentReadyMs: Date.now() - built });
        const prepared: PreparedUser = {
          index,
          userId: user.id,
          username: user.username,
          token,
          client,
          workspaceId: workspace.id,
          workspaceName: workspace.name,
          agentId: agent.id,
          agentName: agent.name,
          agentApps: agent.apps ?? [],
        };
        ready.push(prepared);
        progress.done++;
      } catch (error) {
        if (signal.aborted) return;
        progress.failed++;
        const kind = step === 'build' && !(error instanceof CoderApiError) ? 'build_failed' : step;
        metrics.countError(kind);
        if (context.workspaces) metrics.workspaces.prepared(who, { error: kind });
        log('warn', `user ${index + 1}/${plan.users}: ${step.replace('_', ' ')} failed: ${(error as Error).message}`);
      } finally {
        metrics.activeConnections--;
      }
    },
    signal,
  ).finally(() => clearInterval(rateLimitTicker));
  noteRateLimits();
  if (progress.rateLimitedMs > 0) {
    const limits = owner.rateLimits.state();
    const paths = limits.limitedPaths.map((p) => `${p.path} (${p.limit}/${Math.round(p.windowMs / 1000)} s)`).join(', ');
    log(
      'warn',
      `the deployment's rate limits held prepare back for ${(progress.rateLimitedMs / 1000).toFixed(1)} s ` +
        `(${limits.refusals} request(s) refused; paced: ${paths || 'none'}). For a scale test, run coderd with ` +
        "CODER_DANGEROUS_DISABLE_RATE_LIMITS=true (or CODER_API_RATE_LIMIT=-1), as Coder's own scale-test environment does.",
    );
  }
  ready.sort((a, b) => a.index - b.index);
  return ready;
}

/** What a UserPool needs beyond a PrepareContext: who the owner is a member of, the shard, a start hook. */
export interface UserPoolContext extends Omit<PrepareContext, 'plan' | 'userIndexes' | 'workspaces'> {
  ownerOrganizationIds: string[];
  /** A sharded run prepares only its share of every count. */
  shard?: { index: number; count: number };
  /** Called before users are created (the run shows it is preparing). */
  onPrepare(): void;
}

/**
 * The run's users and workspaces, grown to a count: a fixed run grows it once to plan.users; a
 * capacity search step by step, creating only the users the pool lacks (a smaller count reuses
 * the pool). Everything created is in `context.created` the moment it exists.
 */
export class UserPool {
  private readonly ready: StageUser[] = [];
  private preparedUpTo = 0;
  private target?: { organization: Organization; template: Template; inputs: WorkspaceInputs };

  constructor(private readonly context: UserPoolContext) {}

  /** Grows the pool to `plan.users`; resolves with every ready user, by index. */
  async grow(plan: Plan): Promise<StageUser[]> {
    const { metrics, signal, log } = this.context;
    const wanted = shardUserIndexes(plan.users, this.context.shard ?? { index: 0, count: 1 }).filter((index) => index >= this.preparedUpTo);
    this.preparedUpTo = Math.max(this.preparedUpTo, plan.users);
    // Within the pool nothing is created (prepare's progress stays that of the last growth).
    if (wanted.length === 0 && this.ready.length > 0) return [...this.ready];
    this.context.onPrepare();
    metrics.state = 'running';
    metrics.startedAt ??= Date.now();
    if (!this.target) {
      const { organization, template } = await resolveOrganizationAndTemplate(this.context.owner, plan, this.context.ownerOrganizationIds);
      // Checked before anything is created: parameters, and app labels as the version forms them.
      const inputs = await resolveWorkspaceInputs(this.context.owner, plan, template);
      await checkAppLabels(this.context.owner, plan, template);
      this.target = { organization, template, inputs };
    }
    const { organization, template, inputs } = this.target;
    const workspaces = planNeedsWorkspaces(plan);
    log(
      'info',
      workspaces
        ? `creating ${wanted.length} users and workspaces from template ${template.name} in ${organization.name}`
        : `creating ${wanted.length} users in ${organization.name} (no enabled stage needs a workspace)`,
    );
    const users = await prepareUsers({ ...this.context, plan, userIndexes: wanted, workspaces }, organization, template, inputs);
    this.ready.push(...users);
    this.ready.sort((a, b) => a.index - b.index);
    metrics.state = 'done';
    metrics.endedAt = Date.now();
    if (signal.aborted) return [...this.ready];
    log('info', `${this.ready.length}/${plan.users} ${workspaces ? 'workspaces' : 'users'} ready`);
    if (this.ready.length === 0)
      throw new Error(`no ${workspaces ? 'workspace' : 'user'} became ready, so no traffic can run; see the prepare errors above`);
    return [...this.ready];
  }
}

/** Counts one build in the run's queue depth (job pending) or in-progress builds (job running). */
class BuildQueueTracker {
  private counted: 'queued' | 'building' | undefined;

  constructor(private readonly progress: { queued: number; building: number }) {}

  update(status: string | undefined): void {
    const next = status === 'pending' ? 'queued' : status === 'running' ? 'building' : undefined;
    if (next === this.counted) return;
    if (this.counted) this.progress[this.counted]--;
    if (next) this.progress[next]++;
    this.counted = next;
  }
}

/** A week: longer than any run; shortened to the deployment's maximum token lifetime when that is less. */
const USER_TOKEN_LIFETIME_MS = 7 * 24 * 3600_000;

/**
 * A session token for a scale-test user. The owner mints it (POST /users/{id}/keys/tokens, under
 * the owner's rate-limit bypass) rather than logging in: coderd limits POST /users/login to 60
 * per minute per IP, which a fast prepare of many users exceeds. A deployment that refuses the
 * token (e.g. a lower maximum token lifetime) gets the reference runner's login instead.
 */
async function userToken(
  owner: CoderClient,
  userId: string,
  identity: { email: string; password: string },
  runId: string,
): Promise<string> {
  try {
    // Within the deployment's maximum token lifetime, which may be shorter than a week.
    return await owner.mintToken(userId, `scaletest-${runId}`, USER_TOKEN_LIFETIME_MS);
  } catch (error) {
    if (!(error instanceof CoderApiError) || (error.status !== 400 && error.status !== 403)) throw error;
    return owner.login(identity.email, identity.password);
  }
}
