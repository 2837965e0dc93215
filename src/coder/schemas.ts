// Schemas for the Coder API types this project uses, named after the definitions in Coder's
// own spec (coderd/apidoc/swagger.json): each schema's `title` is the spec definition name.
// Only fields we use or serve are listed, and each must exist in the spec with the same type
// (`npm run check:swagger` enforces it). Objects stay open: coderd sends many more fields.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** A string enum as a plain JSON-schema `enum`, so the spec check can compare value sets. */
function StringEnum<const T extends readonly string[]>(values: T, options: { title?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

const Uuid = (options: Record<string, unknown> = {}) => Type.String({ format: 'uuid', ...options });
const DateTime = () => Type.String({ format: 'date-time' });
const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);

export const LoginType = StringEnum(['', 'password', 'github', 'oidc', 'token', 'none'], { title: 'codersdk.LoginType' });
export const UserStatus = StringEnum(['active', 'dormant', 'suspended'], { title: 'codersdk.UserStatus' });
export const WorkspaceStatus = StringEnum(
  ['pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'canceling', 'canceled', 'deleting', 'deleted'],
  { title: 'codersdk.WorkspaceStatus' },
);
export const WorkspaceTransition = StringEnum(['start', 'stop', 'delete'], { title: 'codersdk.WorkspaceTransition' });
export const ProvisionerJobStatus = StringEnum(['pending', 'running', 'succeeded', 'canceling', 'canceled', 'failed', 'unknown'], {
  title: 'codersdk.ProvisionerJobStatus',
});
export const ProvisionerJobType = StringEnum(['template_version_import', 'workspace_build', 'template_version_dry_run'], {
  title: 'codersdk.ProvisionerJobType',
});
export const LogSource = StringEnum(['provisioner_daemon', 'provisioner'], { title: 'codersdk.LogSource' });
export const LogLevel = StringEnum(['trace', 'debug', 'info', 'warn', 'error'], { title: 'codersdk.LogLevel' });
export const WorkspaceAgentStatus = StringEnum(['connecting', 'connected', 'disconnected', 'timeout'], {
  title: 'codersdk.WorkspaceAgentStatus',
});
export const WorkspaceAgentLifecycle = StringEnum(
  ['created', 'starting', 'start_timeout', 'start_error', 'ready', 'shutting_down', 'shutdown_timeout', 'shutdown_error', 'off'],
  { title: 'codersdk.WorkspaceAgentLifecycle' },
);
export const WorkspaceAppSharingLevel = StringEnum(['owner', 'authenticated', 'organization', 'public'], {
  title: 'codersdk.WorkspaceAppSharingLevel',
});
export const WorkspaceAppHealth = StringEnum(['disabled', 'initializing', 'healthy', 'unhealthy'], {
  title: 'codersdk.WorkspaceAppHealth',
});

export const ServerSentEventType = StringEnum(['ping', 'data', 'error'], { title: 'codersdk.ServerSentEventType' });

/** A live-update event (`/watch-ws` frames); `data` is a Workspace for `type: "data"`. */
export const ServerSentEvent = Type.Object({ type: ServerSentEventType, data: Opt(Type.Unknown()) }, { title: 'codersdk.ServerSentEvent' });

export const SlimRole = Type.Object(
  { name: Type.String(), display_name: Opt(Type.String()), organization_id: Opt(Type.String()) },
  { title: 'codersdk.SlimRole' },
);

export const User = Type.Object(
  {
    id: Uuid(),
    username: Type.String(),
    email: Type.String({ format: 'email' }),
    name: Opt(Type.String()),
    status: Opt(UserStatus),
    login_type: Opt(LoginType),
    organization_ids: Opt(Type.Array(Uuid())),
    roles: Opt(Type.Array(SlimRole)),
    created_at: DateTime(),
  },
  { title: 'codersdk.User' },
);

export const Organization = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    display_name: Opt(Type.String()),
    is_default: Type.Boolean(),
    created_at: DateTime(),
    updated_at: DateTime(),
  },
  { title: 'codersdk.Organization' },
);

export const Template = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    display_name: Opt(Type.String()),
    description: Opt(Type.String()),
    organization_id: Uuid(),
    active_version_id: Uuid(),
    created_at: DateTime(),
    updated_at: DateTime(),
  },
  { title: 'codersdk.Template' },
);

export const WorkspaceApp = Type.Object(
  {
    id: Uuid(),
    slug: Type.String(),
    display_name: Opt(Type.String()),
    url: Opt(Type.String()),
    subdomain: Opt(Type.Boolean()),
    subdomain_name: Opt(Type.String()),
    external: Opt(Type.Boolean()),
    sharing_level: Opt(WorkspaceAppSharingLevel),
    health: Opt(WorkspaceAppHealth),
  },
  { title: 'codersdk.WorkspaceApp' },
);

export const WorkspaceAgent = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    status: WorkspaceAgentStatus,
    lifecycle_state: Opt(WorkspaceAgentLifecycle),
    resource_id: Opt(Uuid()),
    apps: Opt(Type.Array(WorkspaceApp)),
    operating_system: Opt(Type.String()),
    architecture: Opt(Type.String()),
    connection_timeout_seconds: Opt(Type.Integer()),
    first_connected_at: Opt(DateTime()),
    last_connected_at: Opt(DateTime()),
    created_at: DateTime(),
    updated_at: Opt(DateTime()),
  },
  { title: 'codersdk.WorkspaceAgent' },
);

export const WorkspaceResource = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    type: Opt(Type.String()),
    job_id: Opt(Uuid()),
    workspace_transition: Opt(WorkspaceTransition),
    agents: Opt(Type.Array(WorkspaceAgent)),
    created_at: Opt(DateTime()),
  },
  { title: 'codersdk.WorkspaceResource' },
);

export const ProvisionerJob = Type.Object(
  {
    id: Uuid(),
    status: ProvisionerJobStatus,
    type: Opt(ProvisionerJobType),
    error: Opt(Type.String()),
    /** Why an import failed in a way the client can fix (e.g. REQUIRED_TEMPLATE_VARIABLES). */
    error_code: Opt(Type.String()),
    file_id: Opt(Uuid()),
    created_at: DateTime(),
    started_at: Opt(DateTime()),
    completed_at: Opt(DateTime()),
    canceled_at: Opt(DateTime()),
    worker_id: Opt(Uuid()),
    queue_position: Opt(Type.Integer()),
    queue_size: Opt(Type.Integer()),
  },
  { title: 'codersdk.ProvisionerJob' },
);

export const WorkspaceBuild = Type.Object(
  {
    id: Uuid(),
    build_number: Type.Integer(),
    workspace_id: Uuid(),
    workspace_name: Opt(Type.String()),
    workspace_owner_id: Opt(Uuid()),
    workspace_owner_name: Opt(Type.String()),
    template_version_id: Opt(Uuid()),
    initiator_id: Opt(Uuid()),
    transition: WorkspaceTransition,
    status: WorkspaceStatus,
    job: ProvisionerJob,
    resources: Opt(Type.Array(WorkspaceResource)),
    created_at: DateTime(),
    updated_at: Opt(DateTime()),
  },
  { title: 'codersdk.WorkspaceBuild' },
);

export const Workspace = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    owner_id: Uuid(),
    owner_name: Type.String(),
    organization_id: Uuid(),
    template_id: Uuid(),
    template_name: Opt(Type.String()),
    latest_build: WorkspaceBuild,
    autostart_schedule: Opt(Type.String()),
    created_at: DateTime(),
    updated_at: Opt(DateTime()),
  },
  { title: 'codersdk.Workspace' },
);

export const UpdateWorkspaceAutostartRequest = Type.Object(
  // coderd clears the schedule for an empty or absent one; we send "" rather than null.
  { schedule: Opt(Type.String()) },
  { title: 'codersdk.UpdateWorkspaceAutostartRequest' },
);

export const ProvisionerDaemonStatus = StringEnum(['offline', 'idle', 'busy'], { title: 'codersdk.ProvisionerDaemonStatus' });

export const ProvisionerDaemon = Type.Object(
  {
    id: Uuid(),
    organization_id: Uuid(),
    created_at: DateTime(),
    last_seen_at: Opt(DateTime()),
    name: Type.String(),
    version: Opt(Type.String()),
    provisioners: Type.Array(Type.String()),
    tags: Type.Record(Type.String(), Type.String()),
    // key_name, current_job and previous_job may be null: not read, so not listed (objects stay open).
    status: Opt(ProvisionerDaemonStatus),
  },
  { title: 'codersdk.ProvisionerDaemon' },
);

export const NullHCLString = Type.Object({ value: Type.String(), valid: Type.Boolean() }, { title: 'codersdk.NullHCLString' });

export const FriendlyDiagnostic = Type.Object(
  { severity: Type.String(), summary: Type.String(), detail: Type.String() },
  { title: 'codersdk.FriendlyDiagnostic' },
);

export const PreviewParameterOption = Type.Object(
  { name: Type.String(), value: NullHCLString },
  { title: 'codersdk.PreviewParameterOption' },
);

export const PreviewParameter = Type.Object(
  {
    name: Type.String(),
    type: Opt(Type.String()),
    form_type: Opt(Type.String()),
    mutable: Opt(Type.Boolean()),
    order: Opt(Type.Integer()),
    default_value: Opt(NullHCLString),
    value: NullHCLString,
    options: Opt(Type.Array(PreviewParameterOption)),
    diagnostics: Opt(Type.Array(FriendlyDiagnostic)),
  },
  { title: 'codersdk.PreviewParameter' },
);

/** One frame from the client on the dynamic-parameters socket. */
export const DynamicParametersRequest = Type.Object(
  { id: Type.Integer(), inputs: Type.Record(Type.String(), Type.String()), owner_id: Opt(Uuid()) },
  { title: 'codersdk.DynamicParametersRequest' },
);

/** One frame from coderd: the form rendered for the request with the same id (-1: the initial form). */
export const DynamicParametersResponse = Type.Object(
  { id: Type.Integer(), diagnostics: Opt(Type.Array(FriendlyDiagnostic)), parameters: Opt(Type.Array(PreviewParameter)) },
  { title: 'codersdk.DynamicParametersResponse' },
);

export const ProvisionerJobLog = Type.Object(
  {
    id: Type.Integer(),
    created_at: DateTime(),
    log_source: Opt(LogSource),
    log_level: Opt(LogLevel),
    stage: Opt(Type.String()),
    output: Type.String(),
  },
  { title: 'codersdk.ProvisionerJobLog' },
);

export const BuildInfoResponse = Type.Object(
  {
    version: Type.String(),
    external_url: Opt(Type.String()),
    dashboard_url: Opt(Type.String()),
    deployment_id: Opt(Type.String()),
    agent_api_version: Opt(Type.String()),
  },
  { title: 'codersdk.BuildInfoResponse' },
);

export const ValidationError = Type.Object({ field: Type.String(), detail: Type.String() }, { title: 'codersdk.ValidationError' });

export const Response = Type.Object(
  { message: Type.String(), detail: Opt(Type.String()), validations: Opt(Type.Array(ValidationError)) },
  { title: 'codersdk.Response' },
);

export const LoginWithPasswordRequest = Type.Object(
  { email: Type.String({ format: 'email' }), password: Type.String() },
  { title: 'codersdk.LoginWithPasswordRequest' },
);
export const LoginWithPasswordResponse = Type.Object({ session_token: Type.String() }, { title: 'codersdk.LoginWithPasswordResponse' });

/** `lifetime` is a Go time.Duration: nanoseconds. `scope` is left open: the spec's enum is long. */
export const CreateTokenRequest = Type.Object(
  { lifetime: Opt(Type.Integer()), scope: Opt(Type.String()), token_name: Opt(Type.String()) },
  { title: 'codersdk.CreateTokenRequest' },
);
export const GenerateAPIKeyResponse = Type.Object({ key: Type.String() }, { title: 'codersdk.GenerateAPIKeyResponse' });

/** `max_token_lifetime` in nanoseconds (a Go time.Duration). */
export const TokenConfig = Type.Object({ max_token_lifetime: Type.Integer() }, { title: 'codersdk.TokenConfig' });

export const AppHostResponse = Type.Object({ host: Type.String() }, { title: 'codersdk.AppHostResponse' });

/** GET /regions (coderd's AGPL `api.regions`): the primary region with the app host the dashboard uses. */
export const Region = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    display_name: Type.String(),
    icon_url: Type.String(),
    healthy: Type.Boolean(),
    path_app_url: Type.String(),
    wildcard_hostname: Type.String(),
  },
  { title: 'codersdk.Region' },
);
export const RegionsResponse = Type.Object({ regions: Type.Array(Region) }, { title: 'codersdk.RegionsResponse-codersdk_Region' });

export const TemplateVersionParameterOption = Type.Object(
  { name: Type.String(), description: Type.String(), value: Type.String(), icon: Type.String() },
  { title: 'codersdk.TemplateVersionParameterOption' },
);
/** A template version's (rich) parameter: `required` when the template gives no default. */
export const TemplateVersionParameter = Type.Object(
  {
    name: Type.String(),
    display_name: Opt(Type.String()),
    type: Type.String(),
    mutable: Type.Boolean(),
    default_value: Type.String(),
    required: Type.Boolean(),
    ephemeral: Opt(Type.Boolean()),
    options: Opt(Type.Array(TemplateVersionParameterOption)),
  },
  { title: 'codersdk.TemplateVersionParameter' },
);
/** codersdk.Preset has no JSON tags: Go writes the field names as they are. */
export const PresetParameter = Type.Object({ Name: Type.String(), Value: Type.String() }, { title: 'codersdk.PresetParameter' });
export const Preset = Type.Object(
  { ID: Uuid(), Name: Type.String(), Parameters: Type.Array(PresetParameter), Default: Opt(Type.Boolean()) },
  { title: 'codersdk.Preset' },
);

export const GetUsersResponse = Type.Object({ users: Type.Array(User), count: Type.Integer() }, { title: 'codersdk.GetUsersResponse' });
export const WorkspacesResponse = Type.Object(
  { workspaces: Type.Array(Workspace), count: Type.Integer() },
  { title: 'codersdk.WorkspacesResponse' },
);

/**
 * coderd sends `P50`/`P95`: the Go struct has no JSON tags (typesGenerated.ts agrees). The
 * spec's `p50`/`p95` is wrong; check-swagger lists this as a documented exception.
 */
export const WorkspaceConnectionLatencyMS = Type.Object(
  { P50: Type.Number(), P95: Type.Number() },
  { title: 'codersdk.WorkspaceConnectionLatencyMS' },
);
export const WorkspaceDeploymentStats = Type.Object(
  {
    pending: Type.Integer(),
    building: Type.Integer(),
    running: Type.Integer(),
    failed: Type.Integer(),
    stopped: Type.Integer(),
    connection_latency_ms: WorkspaceConnectionLatencyMS,
    rx_bytes: Type.Integer(),
    tx_bytes: Type.Integer(),
  },
  { title: 'codersdk.WorkspaceDeploymentStats' },
);
export const SessionCountDeploymentStats = Type.Object(
  { vscode: Type.Integer(), ssh: Type.Integer(), jetbrains: Type.Integer(), reconnecting_pty: Type.Integer() },
  { title: 'codersdk.SessionCountDeploymentStats' },
);
export const DeploymentStats = Type.Object(
  {
    aggregated_from: DateTime(),
    collected_at: DateTime(),
    next_update_at: DateTime(),
    workspaces: WorkspaceDeploymentStats,
    session_count: SessionCountDeploymentStats,
  },
  { title: 'codersdk.DeploymentStats' },
);

export const CreateUserRequestWithOrgs = Type.Object(
  {
    email: Type.String({ format: 'email' }),
    username: Type.String(),
    name: Opt(Type.String()),
    password: Opt(Type.String()),
    login_type: Opt(LoginType),
    organization_ids: Opt(Type.Array(Uuid())),
  },
  { title: 'codersdk.CreateUserRequestWithOrgs' },
);

export const WorkspaceBuildParameter = Type.Object(
  { name: Type.String(), value: Type.String() },
  { title: 'codersdk.WorkspaceBuildParameter' },
);

export const CreateWorkspaceRequest = Type.Object(
  {
    name: Type.String(),
    template_id: Opt(Uuid()),
    template_version_id: Opt(Uuid()),
    rich_parameter_values: Opt(Type.Array(WorkspaceBuildParameter)),
    template_version_preset_id: Opt(Uuid()),
  },
  { title: 'codersdk.CreateWorkspaceRequest' },
);

export const CreateWorkspaceBuildRequest = Type.Object(
  { transition: WorkspaceTransition, template_version_id: Opt(Uuid()), orphan: Opt(Type.Boolean()) },
  { title: 'codersdk.CreateWorkspaceBuildRequest' },
);

/** Every named schema, for the spec check and the conformance test. */
// ---- templates: files, versions, import jobs ----

/** POST /files: the JSON key is `hash`, but it carries the file's id (codersdk/files.go). */
export const UploadResponse = Type.Object({ hash: Uuid() }, { title: 'codersdk.UploadResponse' });

export const MatchedProvisioners = Type.Object(
  { count: Type.Integer(), available: Type.Integer(), most_recently_seen: Opt(DateTime()) },
  { title: 'codersdk.MatchedProvisioners' },
);

export const TemplateVersion = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    template_id: Opt(Uuid()),
    organization_id: Opt(Uuid()),
    message: Opt(Type.String()),
    archived: Opt(Type.Boolean()),
    job: ProvisionerJob,
    matched_provisioners: Opt(MatchedProvisioners),
    created_at: DateTime(),
  },
  { title: 'codersdk.TemplateVersion' },
);

export const VariableValue = Type.Object({ name: Type.String(), value: Type.String() }, { title: 'codersdk.VariableValue' });

export const CreateTemplateVersionRequest = Type.Object(
  {
    storage_method: StringEnum(['file'], { title: 'codersdk.ProvisionerStorageMethod' }),
    file_id: Opt(Uuid()),
    provisioner: StringEnum(['terraform', 'echo']),
    template_id: Opt(Uuid()),
    name: Opt(Type.String()),
    message: Opt(Type.String()),
    tags: Opt(Type.Record(Type.String(), Type.String())),
    user_variable_values: Opt(Type.Array(VariableValue)),
  },
  { title: 'codersdk.CreateTemplateVersionRequest' },
);

export const CreateTemplateRequest = Type.Object(
  {
    name: Type.String(),
    template_version_id: Uuid(),
    display_name: Opt(Type.String()),
    description: Opt(Type.String()),
    icon: Opt(Type.String()),
  },
  { title: 'codersdk.CreateTemplateRequest' },
);

export const UpdateActiveTemplateVersion = Type.Object({ id: Uuid() }, { title: 'codersdk.UpdateActiveTemplateVersion' });

export const TemplateVersionExternalAuth = Type.Object(
  {
    id: Type.String(),
    type: Opt(Type.String()),
    display_name: Opt(Type.String()),
    optional: Opt(Type.Boolean()),
    authenticated: Opt(Type.Boolean()),
  },
  { title: 'codersdk.TemplateVersionExternalAuth' },
);

/** A licensed feature (codersdk.Feature); `limit`/`actual` only for counted ones such as user_limit. */
export const Feature = Type.Object(
  { entitlement: Type.String(), enabled: Type.Boolean(), limit: Opt(Type.Integer()), actual: Opt(Type.Integer()) },
  { title: 'codersdk.Feature' },
);

/** GET /entitlements (enterprise coderd; AGPL coderd has no such route and answers 404). */
export const Entitlements = Type.Object(
  {
    features: Type.Record(Type.String(), Feature),
    warnings: Type.Array(Type.String()),
    has_license: Type.Boolean(),
  },
  { title: 'codersdk.Entitlements' },
);

export const allSchemas: readonly TSchema[] = [
  LoginType,
  UserStatus,
  WorkspaceStatus,
  WorkspaceTransition,
  ProvisionerJobStatus,
  ProvisionerJobType,
  LogSource,
  LogLevel,
  WorkspaceAgentStatus,
  WorkspaceAgentLifecycle,
  WorkspaceAppSharingLevel,
  WorkspaceAppHealth,
  ServerSentEventType,
  ServerSentEvent,
  SlimRole,
  User,
  Organization,
  Template,
  WorkspaceApp,
  WorkspaceAgent,
  WorkspaceResource,
  ProvisionerJob,
  WorkspaceBuild,
  Workspace,
  ProvisionerJobLog,
  BuildInfoResponse,
  ValidationError,
  Response,
  LoginWithPasswordRequest,
  LoginWithPasswordResponse,
  CreateTokenRequest,
  GenerateAPIKeyResponse,
  TokenConfig,
  AppHostResponse,
  GetUsersResponse,
  WorkspacesResponse,
  WorkspaceConnectionLatencyMS,
  WorkspaceDeploymentStats,
  SessionCountDeploymentStats,
  DeploymentStats,
  CreateUserRequestWithOrgs,
  WorkspaceBuildParameter,
  CreateWorkspaceRequest,
  CreateWorkspaceBuildRequest,
  UpdateWorkspaceAutostartRequest,
  ProvisionerDaemonStatus,
  ProvisionerDaemon,
  NullHCLString,
  FriendlyDiagnostic,
  PreviewParameterOption,
  PreviewParameter,
  DynamicParametersRequest,
  DynamicParametersResponse,
  UploadResponse,
  Feature,
  Entitlements,
  MatchedProvisioners,
  TemplateVersion,
  VariableValue,
  CreateTemplateVersionRequest,
  CreateTemplateRequest,
  UpdateActiveTemplateVersion,
  TemplateVersionExternalAuth,
];

export type LoginTypeValue = Static<typeof LoginType>;
export type WorkspaceStatusValue = Static<typeof WorkspaceStatus>;
export type WorkspaceTransitionValue = Static<typeof WorkspaceTransition>;
export type ProvisionerJobStatusValue = Static<typeof ProvisionerJobStatus>;
export type WorkspaceAgentStatusValue = Static<typeof WorkspaceAgentStatus>;
export type WorkspaceAgentLifecycleValue = Static<typeof WorkspaceAgentLifecycle>;
export type ServerSentEvent = Static<typeof ServerSentEvent>;
export type SlimRole = Static<typeof SlimRole>;
export type User = Static<typeof User>;
export type Organization = Static<typeof Organization>;
export type Template = Static<typeof Template>;
export type WorkspaceApp = Static<typeof WorkspaceApp>;
export type WorkspaceAgent = Static<typeof WorkspaceAgent>;
export type WorkspaceResource = Static<typeof WorkspaceResource>;
export type ProvisionerJob = Static<typeof ProvisionerJob>;
export type WorkspaceBuild = Static<typeof WorkspaceBuild>;
export type Workspace = Static<typeof Workspace>;
export type ProvisionerJobLog = Static<typeof ProvisionerJobLog>;
export type ProvisionerDaemon = Static<typeof ProvisionerDaemon>;
export type PreviewParameter = Static<typeof PreviewParameter>;
export type DynamicParametersRequest = Static<typeof DynamicParametersRequest>;
export type DynamicParametersResponse = Static<typeof DynamicParametersResponse>;
export type BuildInfoResponse = Static<typeof BuildInfoResponse>;
export type ValidationError = Static<typeof ValidationError>;
export type Response = Static<typeof Response>;
export type LoginWithPasswordRequest = Static<typeof LoginWithPasswordRequest>;
export type LoginWithPasswordResponse = Static<typeof LoginWithPasswordResponse>;
export type CreateTokenRequest = Static<typeof CreateTokenRequest>;
export type GenerateAPIKeyResponse = Static<typeof GenerateAPIKeyResponse>;
export type TokenConfig = Static<typeof TokenConfig>;
export type AppHostResponse = Static<typeof AppHostResponse>;
export type RegionsResponse = Static<typeof RegionsResponse>;
export type TemplateVersionParameter = Static<typeof TemplateVersionParameter>;
export type Preset = Static<typeof Preset>;
export type GetUsersResponse = Static<typeof GetUsersResponse>;
export type WorkspacesResponse = Static<typeof WorkspacesResponse>;
export type DeploymentStats = Static<typeof DeploymentStats>;
export type CreateUserRequestWithOrgs = Static<typeof CreateUserRequestWithOrgs>;
export type WorkspaceBuildParameter = Static<typeof WorkspaceBuildParameter>;
export type CreateWorkspaceRequest = Static<typeof CreateWorkspaceRequest>;
export type CreateWorkspaceBuildRequest = Static<typeof CreateWorkspaceBuildRequest>;
export type UploadResponse = Static<typeof UploadResponse>;
export type TemplateVersion = Static<typeof TemplateVersion>;
export type VariableValue = Static<typeof VariableValue>;
export type CreateTemplateVersionRequest = Static<typeof CreateTemplateVersionRequest>;
export type CreateTemplateRequest = Static<typeof CreateTemplateRequest>;
export type UpdateActiveTemplateVersion = Static<typeof UpdateActiveTemplateVersion>;
export type TemplateVersionExternalAuth = Static<typeof TemplateVersionExternalAuth>;
export type Entitlements = Static<typeof Entitlements>;
