// The JSON shapes coderd serves for the types the simulator serves: every field coderd always
// sends (required) or may send (`?`), with its JSON kind (`|null` where Go sends null).
//
// Origin: derived by reading coder/coder's site/src/api/typesGenerated.ts (commit
// 001be27b0c6ea3fcace20c80a41624a508e4fb43), which is generated from codersdk's Go types.
// Licence: coder/coder is AGPL-3.0. This project is MIT, so the file is not vendored: this
// is a minimal list of field names and kinds (the interface facts a compatible client and
// server need), written here in our own notation. docs/fidelity.md (item 6) says how to
// refresh it.
//
// Notation: 'string' | 'number' | 'boolean' | 'unknown' | 'record' (a JSON object with any
// keys) | a type name below; a trailing '[]' for arrays, '|null' for nullable, and a
// field name ending in '?' for optional fields.

export const coderdTypes: Record<string, Record<string, string>> = {
  MinimalUser: { id: 'string', username: 'string', avatar_url: 'string' },
  User: {
    id: 'string',
    username: 'string',
    avatar_url: 'string',
    name: 'string',
    email: 'string',
    created_at: 'string',
    updated_at: 'string',
    last_seen_at: 'string',
    status: 'string',
    login_type: 'string',
    organization_ids: 'string[]',
    roles: 'SlimRole[]',
  },
  SlimRole: { name: 'string', display_name: 'string', 'organization_id?': 'string' },
  GetUsersResponse: { users: 'User[]', count: 'number' },
  Organization: {
    id: 'string',
    name: 'string',
    display_name: 'string',
    icon: 'string',
    description: 'string',
    created_at: 'string',
    updated_at: 'string',
    is_default: 'boolean',
  },
  Template: {
    id: 'string',
    created_at: 'string',
    updated_at: 'string',
    organization_id: 'string',
    organization_name: 'string',
    organization_display_name: 'string',
    organization_icon: 'string',
    name: 'string',
    display_name: 'string',
    provisioner: 'string',
    active_version_id: 'string',
    active_user_count: 'number',
    build_time_stats: 'TemplateBuildTimeStats',
    description: 'string',
    deprecated: 'boolean',
    deprecation_message: 'string',
    icon: 'string',
    default_ttl_ms: 'number',
    activity_bump_ms: 'number',
    autostop_requirement: 'TemplateAutostopRequirement',
    autostart_requirement: 'TemplateAutostartRequirement',
    created_by_id: 'string',
    created_by_name: 'string',
    allow_user_autostart: 'boolean',
    allow_user_autostop: 'boolean',
    allow_user_cancel_workspace_jobs: 'boolean',
    failure_ttl_ms: 'number',
    time_til_dormant_ms: 'number',
    time_til_dormant_autodelete_ms: 'number',
    require_active_version: 'boolean',
    max_port_share_level: 'string',
  },
  TemplateBuildTimeStats: { start: 'TransitionStats', stop: 'TransitionStats', delete: 'TransitionStats' },
  TransitionStats: { P50: 'number|null', P95: 'number|null' },
  TemplateAutostopRequirement: { days_of_week: 'string[]', weeks: 'number' },
  TemplateAutostartRequirement: { days_of_week: 'string[]' },
  Workspace: {
    id: 'string',
    created_at: 'string',
    updated_at: 'string',
    owner_id: 'string',
    owner_name: 'string',
    owner_avatar_url: 'string',
    organization_id: 'string',
    organization_name: 'string',
    template_id: 'string',
    template_name: 'string',
    template_display_name: 'string',
    template_icon: 'string',
    template_allow_user_cancel_workspace_jobs: 'boolean',
    template_active_version_id: 'string',
    template_require_active_version: 'boolean',
    latest_build: 'WorkspaceBuild',
    outdated: 'boolean',
    name: 'string',
    'autostart_schedule?': 'string',
    'ttl_ms?': 'number',
    last_used_at: 'string',
    deleting_at: 'string|null',
    dormant_at: 'string|null',
    health: 'WorkspaceHealth',
    automatic_updates: 'string',
    allow_renames: 'boolean',
    favorite: 'boolean',
    next_start_at: 'string|null',
  },
  WorkspaceHealth: { healthy: 'boolean', failing_agents: 'string[]' },
  WorkspacesResponse: { workspaces: 'Workspace[]', count: 'number' },
  WorkspaceBuild: {
    id: 'string',
    created_at: 'string',
    updated_at: 'string',
    workspace_id: 'string',
    workspace_name: 'string',
    workspace_owner_id: 'string',
    workspace_owner_name: 'string',
    workspace_owner_avatar_url: 'string',
    template_version_id: 'string',
    template_version_name: 'string',
    build_number: 'number',
    transition: 'string',
    initiator_id: 'string',
    initiator_name: 'string',
    job: 'ProvisionerJob',
    reason: 'string',
    resources: 'WorkspaceResource[]',
    'deadline?': 'string',
    'max_deadline?': 'string',
    status: 'string',
    daily_cost: 'number',
    'matched_provisioners?': 'MatchedProvisioners',
  },
  MatchedProvisioners: { count: 'number', available: 'number', 'most_recently_seen?': 'string' },
  ProvisionerJob: {
    id: 'string',
    created_at: 'string',
    'started_at?': 'string',
    'completed_at?': 'string',
    'canceled_at?': 'string',
    'error?': 'string',
    'error_code?': 'string',
    status: 'string',
    'worker_id?': 'string',
    file_id: 'string',
    tags: 'record',
    queue_position: 'number',
    queue_size: 'number',
    organization_id: 'string',
    input: 'ProvisionerJobInput',
    type: 'string',
    'available_workers?': 'string[]',
    metadata: 'ProvisionerJobMetadata',
  },
  ProvisionerJobInput: { 'template_version_id?': 'string', 'workspace_build_id?': 'string', 'error?': 'string' },
  ProvisionerJobMetadata: {
    template_version_name: 'string',
    template_id: 'string',
    template_name: 'string',
    template_display_name: 'string',
    template_icon: 'string',
    'workspace_id?': 'string',
    'workspace_name?': 'string',
  },
  ProvisionerJobLog: {
    id: 'number',
    created_at: 'string',
    log_source: 'string',
    log_level: 'string',
    stage: 'string',
    output: 'string',
  },
  WorkspaceResource: {
    id: 'string',
    created_at: 'string',
    job_id: 'string',
    workspace_transition: 'string',
    type: 'string',
    name: 'string',
    hide: 'boolean',
    icon: 'string',
    'agents?': 'WorkspaceAgent[]',
    'metadata?': 'WorkspaceResourceMetadata[]',
    daily_cost: 'number',
  },
  WorkspaceResourceMetadata: { key: 'string', value: 'string', sensitive: 'boolean' },
  WorkspaceAgent: {
    id: 'string',
    created_at: 'string',
    updated_at: 'string',
    'first_connected_at?': 'string',
    'last_connected_at?': 'string',
    'disconnected_at?': 'string',
    'started_at?': 'string',
    'ready_at?': 'string',
    status: 'string',
    lifecycle_state: 'string',
    name: 'string',
    resource_id: 'string',
    'instance_id?': 'string',
    architecture: 'string',
    environment_variables: 'record',
    operating_system: 'string',
    logs_length: 'number',
    logs_overflowed: 'boolean',
    'directory?': 'string',
    'expanded_directory?': 'string',
    version: 'string',
    api_version: 'string',
    apps: 'WorkspaceApp[]',
    'latency?': 'record',
    connection_timeout_seconds: 'number',
    troubleshooting_url: 'string',
    subsystems: 'string[]',
    health: 'WorkspaceAgentHealth',
    display_apps: 'string[]',
    log_sources: 'WorkspaceAgentLogSource[]',
    scripts: 'WorkspaceAgentScript[]',
    startup_script_behavior: 'string',
  },
  WorkspaceAgentHealth: { healthy: 'boolean', 'reason?': 'string' },
  WorkspaceAgentLogSource: { workspace_agent_id: 'string', id: 'string', created_at: 'string', display_name: 'string', icon: 'string' },
  WorkspaceAgentScript: {
    id: 'string',
    log_source_id: 'string',
    log_path: 'string',
    script: 'string',
    cron: 'string',
    run_on_start: 'boolean',
    run_on_stop: 'boolean',
    start_blocks_login: 'boolean',
    timeout: 'number',
    display_name: 'string',
  },
  WorkspaceApp: {
    id: 'string',
    url: 'string',
    external: 'boolean',
    slug: 'string',
    display_name: 'string',
    'command?': 'string',
    'icon?': 'string',
    subdomain: 'boolean',
    'subdomain_name?': 'string',
    sharing_level: 'string',
    healthcheck: 'Healthcheck',
    health: 'string',
    hidden: 'boolean',
    open_in: 'string',
  },
  Healthcheck: { url: 'string', interval: 'number', threshold: 'number' },
  BuildInfoResponse: {
    external_url: 'string',
    version: 'string',
    dashboard_url: 'string',
    telemetry: 'boolean',
    workspace_proxy: 'boolean',
    agent_api_version: 'string',
    provisioner_api_version: 'string',
    upgrade_message: 'string',
    deployment_id: 'string',
  },
  DeploymentStats: {
    aggregated_from: 'string',
    collected_at: 'string',
    next_update_at: 'string',
    workspaces: 'WorkspaceDeploymentStats',
    session_count: 'SessionCountDeploymentStats',
  },
  WorkspaceDeploymentStats: {
    pending: 'number',
    building: 'number',
    running: 'number',
    failed: 'number',
    stopped: 'number',
    connection_latency_ms: 'WorkspaceConnectionLatencyMS',
    rx_bytes: 'number',
    tx_bytes: 'number',
  },
  WorkspaceConnectionLatencyMS: { P50: 'number', P95: 'number' },
  SessionCountDeploymentStats: { vscode: 'number', ssh: 'number', jetbrains: 'number', reconnecting_pty: 'number' },
  Response: { message: 'string', 'detail?': 'string', 'validations?': 'ValidationError[]' },
  ValidationError: { field: 'string', detail: 'string' },
  LoginWithPasswordResponse: { session_token: 'string' },
  GenerateAPIKeyResponse: { key: 'string' },
  TokenConfig: { max_token_lifetime: 'number' },
  AppHostResponse: { host: 'string' },
  ServerSentEvent: { type: 'string', data: 'unknown' },
};

/** Every way `value` differs from coderd's `type` (missing fields, wrong kinds), with JSON paths. */
export function coderdShapeProblems(type: string, value: unknown, path = type): string[] {
  const fields = coderdTypes[type];
  if (!fields) return [`${path}: no coderd type "${type}" in coderdTypes`];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
  const problems: string[] = [];
  for (const [key, kind] of Object.entries(fields)) {
    const optional = key.endsWith('?');
    const name = optional ? key.slice(0, -1) : key;
    const field = (value as Record<string, unknown>)[name];
    if (!(name in value)) {
      if (!optional) problems.push(`${path}.${name}: missing`);
      continue;
    }
    problems.push(...kindProblems(kind, field, `${path}.${name}`));
  }
  return problems;
}

function kindProblems(kind: string, value: unknown, path: string): string[] {
  if (kind.endsWith('|null')) return value === null ? [] : kindProblems(kind.slice(0, -5), value, path);
  if (kind.endsWith('[]')) {
    if (!Array.isArray(value)) return [`${path}: expected an array (${kind}), got ${JSON.stringify(value)}`];
    return value.flatMap((item, index) => kindProblems(kind.slice(0, -2), item, `${path}[${index}]`));
  }
  if (kind === 'unknown') return [];
  if (kind === 'record') return typeof value === 'object' && value !== null && !Array.isArray(value) ? [] : [`${path}: expected an object`];
  if (kind === 'string' || kind === 'number' || kind === 'boolean') {
    return typeof value === kind ? [] : [`${path}: expected ${kind}, got ${JSON.stringify(value)}`];
  }
  return coderdShapeProblems(kind, value, path);
}
