// The JSON bodies the simulated coderd serves, complete as coderd's (codersdk's Go types, as
// site/src/api/typesGenerated.ts lists them): every field coderd always sends is here, with
// the values a fresh deployment of the scale-test template would show. The conformance test
// checks each served body against those types (test/support/coderdTypes.ts).
import * as crypto from 'crypto';
import type * as S from '../coder/schemas';
import type { SimAgent, SimBuild, SimUser, SimWorkspace } from './store';
import type { SimAppSpec, SimTemplateVersion } from './templates';

/** codersdk.Organization (coderd/database/db2sdk Organization). */
export interface OrganizationBody extends S.Organization {
  display_name: string;
  icon: string;
  description: string;
}

/** codersdk.Template, with the scheduling defaults of a template created without options. */
export interface TemplateBody extends S.Template {
  [field: string]: unknown;
  display_name: string;
  description: string;
}

export function organizationBody(created: string): OrganizationBody {
  return {
    id: crypto.randomUUID(),
    name: 'coder',
    display_name: 'Coder',
    icon: '',
    description: 'Builtin default organization.',
    is_default: true,
    created_at: created,
    updated_at: created,
  };
}

const noStats = { P50: null, P95: null };

export function templateBody(organization: OrganizationBody, name: string, owner: SimUser, created: string): TemplateBody {
  return {
    id: crypto.randomUUID(),
    created_at: created,
    updated_at: created,
    organization_id: organization.id,
    organization_name: organization.name,
    organization_display_name: organization.display_name,
    organization_icon: organization.icon,
    name,
    display_name: 'Scale test (Docker)',
    provisioner: 'terraform',
    active_version_id: crypto.randomUUID(),
    active_user_count: 0,
    build_time_stats: { start: noStats, stop: noStats, delete: noStats },
    description: 'One agent per workspace, the wsec echo app and two metadata items.',
    deprecated: false,
    deprecation_message: '',
    icon: '/icon/docker.png',
    default_ttl_ms: 0,
    activity_bump_ms: 3_600_000,
    autostop_requirement: { days_of_week: [], weeks: 1 },
    autostart_requirement: { days_of_week: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] },
    created_by_id: owner.id,
    created_by_name: owner.username,
    allow_user_autostart: true,
    allow_user_autostop: true,
    allow_user_cancel_workspace_jobs: true,
    failure_ttl_ms: 0,
    time_til_dormant_ms: 0,
    time_til_dormant_autodelete_ms: 0,
    require_active_version: false,
    max_port_share_level: 'owner',
  };
}

export function userBody(user: SimUser, organizationId: string): S.User {
  return {
    id: user.id,
    username: user.username,
    avatar_url: '',
    name: user.name,
    email: user.email,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    last_seen_at: user.lastSeenAt,
    status: user.status,
    login_type: user.loginType,
    organization_ids: [organizationId],
    roles: user.owner ? [{ name: 'owner', display_name: 'Owner' }] : [],
  } as S.User;
}

/** What bodies need from the deployment beyond the object itself. */
export interface BodyContext {
  organization: OrganizationBody;
  /** The template and version a workspace is built from. */
  templateOf(workspace: SimWorkspace): TemplateBody;
  versionOf(workspace: SimWorkspace): SimTemplateVersion;
  connectionTimeoutSeconds: number;
  /** The deployment serves a wildcard app host: subdomain apps get their label. */
  subdomainApps: boolean;
  /** The version's label form: with the agent name before coder/coder PR #19750 (see versions.ts). */
  appLabelWithAgent: boolean;
  /** 1-based position among pending jobs and the queue's length (0, 0 once started). */
  queue(build: SimBuild): { position: number; size: number };
  /** codersdk.MatchedProvisioners: daemons whose tags match, those online, the latest heartbeat. */
  matchedProvisioners(): { count: number; available: number; most_recently_seen?: string };
}

/** A provisioner job's id, times, error and worker, present only once they happened (as coderd omits them). */
export function jobTimes(job: {
  id: string;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  canceledAt?: string;
  error?: string;
  workerId?: string;
}) {
  return {
    id: job.id,
    created_at: job.createdAt,
    ...(job.startedAt ? { started_at: job.startedAt } : {}),
    ...(job.completedAt ? { completed_at: job.completedAt } : {}),
    ...(job.canceledAt ? { canceled_at: job.canceledAt } : {}),
    ...(job.error ? { error: job.error } : {}),
    ...(job.startedAt && job.workerId ? { worker_id: job.workerId } : {}),
  };
}

function jobBody(context: BodyContext, build: SimBuild): S.ProvisionerJob {
  const { job, workspace } = build;
  const queue = context.queue(build);
  return {
    ...jobTimes(job),
    status: job.status,
    file_id: job.fileId,
    tags: { scope: 'organization', owner: '' },
    queue_position: queue.position,
    queue_size: queue.size,
    organization_id: context.organization.id,
    input: { workspace_build_id: build.id },
    type: 'workspace_build',
    metadata: {
      template_version_name: context.versionOf(workspace).name,
      template_id: context.templateOf(workspace).id,
      template_name: context.templateOf(workspace).name,
      template_display_name: context.templateOf(workspace).display_name,
      template_icon: context.templateOf(workspace).icon,
      workspace_id: workspace.id,
      workspace_name: workspace.name,
    },
  } as S.ProvisionerJob;
}

function appLabel(context: BodyContext, slug: string, agent: string, workspace: string, owner: string): string {
  return context.appLabelWithAgent ? `${slug}--${agent}--${workspace}--${owner}` : `${slug}--${workspace}--${owner}`;
}

/** App ids are stable per workspace and slug (coderd stores one row per app and agent). */
function appId(agent: SimAgent, index: number): string {
  if (index === 0) return agent.appId;
  const hex = crypto.createHash('sha1').update(`${agent.appId}/${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function appBody(context: BodyContext, workspace: SimWorkspace, agent: SimAgent, app: SimAppSpec, index: number): S.WorkspaceApp {
  // coderd labels a subdomain app only when the deployment has a wildcard host.
  const label = app.subdomain && context.subdomainApps;
  return {
    id: appId(agent, index),
    url: 'http://127.0.0.1:8080',
    external: false,
    slug: app.slug,
    display_name: app.displayName,
    icon: '',
    subdomain: app.subdomain,
    // coderd's label (db2sdk.AppSubdomain): newer releases leave the agent name out for named apps.
    ...(label ? { subdomain_name: appLabel(context, app.slug, agent.name, workspace.name, workspace.owner.username) } : {}),
    sharing_level: 'owner',
    healthcheck: { url: '', interval: 0, threshold: 0 },
    health: 'disabled',
    hidden: false,
    open_in: 'slim-window',
  } as S.WorkspaceApp;
}

/** coderd's agent health reasons (db2sdk.WorkspaceAgent). */
function agentHealth(agent: SimAgent): { healthy: boolean; reason?: string } {
  if (agent.status !== 'connected' && agent.lifecycle === 'off') return { healthy: false, reason: 'agent is not running' };
  if (agent.status === 'connecting') return { healthy: false, reason: 'agent has not yet connected' };
  if (agent.status === 'timeout') return { healthy: false, reason: 'agent is taking too long to connect' };
  if (agent.status === 'disconnected') return { healthy: false, reason: 'agent has lost connection' };
  return { healthy: true };
}

export function agentBody(context: BodyContext, workspace: SimWorkspace): S.WorkspaceAgent {
  const agent = workspace.agent;
  const logSourceId = agent.logSourceId;
  return {
    id: agent.id,
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
    ...(agent.firstConnectedAt ? { first_connected_at: agent.firstConnectedAt, last_connected_at: agent.updatedAt } : {}),
    ...(agent.startedAt ? { started_at: agent.startedAt } : {}),
    ...(agent.readyAt ? { ready_at: agent.readyAt } : {}),
    status: agent.status,
    lifecycle_state: agent.lifecycle,
    name: agent.name,
    resource_id: agent.resourceId,
    architecture: 'amd64',
    environment_variables: {},
    operating_system: 'linux',
    logs_length: 0,
    logs_overflowed: false,
    directory: '/home/coder',
    expanded_directory: agent.firstConnectedAt ? '/home/coder' : '',
    version: agent.firstConnectedAt ? 'v2.24.1' : '',
    api_version: agent.firstConnectedAt ? '2.6' : '',
    apps: (context.versionOf(workspace).agents.find((spec) => spec.name === agent.name)?.apps ?? []).map((app, index) =>
      appBody(context, workspace, agent, app, index),
    ),
    connection_timeout_seconds: context.connectionTimeoutSeconds,
    troubleshooting_url: 'https://coder.com/docs/templates/troubleshooting',
    subsystems: [],
    health: agentHealth(agent),
    display_apps: ['vscode', 'vscode_insiders', 'web_terminal', 'ssh_helper', 'port_forwarding_helper'],
    log_sources: [{ workspace_agent_id: agent.id, id: logSourceId, created_at: agent.createdAt, display_name: 'Startup Script', icon: '' }],
    scripts: [
      {
        id: agent.scriptId,
        log_source_id: logSourceId,
        log_path: '',
        script: 'exec wsec --listen 127.0.0.1:8080',
        cron: '',
        run_on_start: true,
        run_on_stop: false,
        start_blocks_login: false,
        timeout: 0,
        display_name: 'Startup Script',
      },
    ],
    startup_script_behavior: 'non-blocking',
  } as S.WorkspaceAgent;
}

export function buildBody(context: BodyContext, build: SimBuild): S.WorkspaceBuild {
  const workspace = build.workspace;
  const agent = workspace.agent;
  // Like coderd, resources exist once the provisioner job has completed successfully.
  const resources =
    build.transition === 'start' && build.job.status === 'succeeded'
      ? [
          {
            id: agent.resourceId,
            created_at: build.createdAt,
            job_id: build.job.id,
            workspace_transition: 'start',
            type: 'docker_container',
            name: 'dev',
            hide: false,
            icon: '/icon/docker.png',
            agents: workspace.agentless ? [] : [agentBody(context, workspace)],
            metadata: [{ key: 'image', value: 'codercom/enterprise-base:ubuntu', sensitive: false }],
            daily_cost: 0,
          },
        ]
      : [];
  return {
    id: build.id,
    created_at: build.createdAt,
    updated_at: build.updatedAt,
    workspace_id: workspace.id,
    workspace_name: workspace.name,
    workspace_owner_id: workspace.owner.id,
    workspace_owner_name: workspace.owner.username,
    workspace_owner_avatar_url: '',
    template_version_id: workspace.templateVersionId,
    template_version_name: context.versionOf(workspace).name,
    build_number: build.number,
    transition: build.transition,
    initiator_id: build.initiatorId,
    initiator_name: build.initiatorName,
    job: jobBody(context, build),
    reason: build.reason,
    resources,
    status: build.status,
    daily_cost: 0,
    matched_provisioners: context.matchedProvisioners(),
  } as S.WorkspaceBuild;
}

export function workspaceBody(context: BodyContext, workspace: SimWorkspace, latest: SimBuild): S.Workspace {
  const agent = workspace.agent;
  const template = context.templateOf(workspace);
  const agentHealthy =
    workspace.agentless || latest.transition !== 'start' || latest.job.status !== 'succeeded' || agentHealth(agent).healthy;
  return {
    id: workspace.id,
    created_at: workspace.createdAt,
    updated_at: workspace.updatedAt,
    owner_id: workspace.owner.id,
    owner_name: workspace.owner.username,
    owner_avatar_url: '',
    organization_id: context.organization.id,
    organization_name: context.organization.name,
    template_id: template.id,
    template_name: template.name,
    template_display_name: template.display_name,
    template_icon: template.icon,
    template_allow_user_cancel_workspace_jobs: true,
    template_active_version_id: template.active_version_id,
    template_require_active_version: false,
    latest_build: buildBody(context, latest),
    outdated: workspace.templateVersionId !== template.active_version_id,
    name: workspace.name,
    last_used_at: workspace.lastUsedAt,
    deleting_at: null,
    dormant_at: null,
    health: { healthy: agentHealthy, failing_agents: agentHealthy ? [] : [agent.id] },
    automatic_updates: 'never',
    allow_renames: false,
    favorite: false,
    // codersdk: *string with omitempty, so absent (not null) without a schedule.
    ...(workspace.autostartSchedule ? { autostart_schedule: workspace.autostartSchedule } : {}),
    next_start_at: workspace.nextStartAt ?? null,
  } as S.Workspace;
}

/** A template parameter as a simulation option gives it (the template's HCL, in short). */
export interface SimParameterSpec {
  name: string;
  type?: 'string' | 'number' | 'bool';
  /** The HCL default; a parameter without one is required (coderd sets `required`). */
  default?: string;
  options?: string[];
  mutable?: boolean;
}

export interface SimPresetSpec {
  name: string;
  parameters: Record<string, string>;
  default?: boolean;
}

/** codersdk.TemplateVersionParameter, as GET /templateversions/{id}/rich-parameters serves it. */
export function templateParameterBody(spec: SimParameterSpec) {
  return {
    name: spec.name,
    display_name: spec.name,
    description: '',
    description_plaintext: '',
    type: spec.type ?? 'string',
    form_type: spec.options ? 'dropdown' : 'input',
    mutable: spec.mutable ?? true,
    default_value: spec.default ?? '',
    icon: '',
    options: (spec.options ?? []).map((value) => ({ name: value, description: '', value, icon: '' })),
    required: spec.default === undefined,
    ephemeral: false,
  };
}

/** codersdk.Preset: no JSON tags in Go, so the keys are its field names. */
export function presetBody(id: string, spec: SimPresetSpec) {
  return {
    ID: id,
    Name: spec.name,
    Parameters: Object.entries(spec.parameters).map(([Name, Value]) => ({ Name, Value })),
    Default: spec.default ?? false,
    DesiredPrebuildInstances: null,
    Description: '',
    Icon: '',
  };
}
