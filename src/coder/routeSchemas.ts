// The success-response schema of every API route: the client parses each response with it,
// the conformance test checks the simulator's bodies with it, and `npm run check:swagger`
// checks it against the response the spec declares for the route.
import { Type, type TSchema } from '@sinclair/typebox';
import type { RouteName } from './routes';
import * as S from './schemas';

export const responseSchemas = {
  buildInfo: S.BuildInfoResponse,
  login: S.LoginWithPasswordResponse,
  getUser: S.User,
  listUsers: S.GetUsersResponse,
  createUser: S.User,
  deleteUser: null,
  createToken: S.GenerateAPIKeyResponse,
  tokenConfig: S.TokenConfig,
  listOrganizations: Type.Array(S.Organization),
  getOrganization: S.Organization,
  listTemplates: Type.Array(S.Template),
  getTemplateByName: S.Template,
  listAllTemplates: Type.Array(S.Template),
  getTemplate: S.Template,
  createUserWorkspace: S.Workspace,
  createWorkspace: S.Workspace,
  listWorkspaces: S.WorkspacesResponse,
  getWorkspace: S.Workspace,
  getWorkspaceByOwnerAndName: S.Workspace,
  /** Per WebSocket text frame. */
  watchWorkspace: S.ServerSentEvent,
  listWorkspaceBuilds: Type.Array(S.WorkspaceBuild),
  createBuild: S.WorkspaceBuild,
  getBuild: S.WorkspaceBuild,
  getBuildByNumber: S.WorkspaceBuild,
  cancelBuild: S.Response,
  buildLogs: Type.Array(S.ProvisionerJobLog),
  updateWorkspaceAutostart: null,
  listProvisionerDaemons: Type.Array(S.ProvisionerDaemon),
  listProvisionerJobs: Type.Array(S.ProvisionerJob),
  /** 101 without a body (the spec's); its frames are S.DynamicParametersResponse (liveStreams.ts). */
  dynamicParameters: null,
  deploymentStats: S.DeploymentStats,
  appHost: S.AppHostResponse,
  regions: S.RegionsResponse,
  templateVersionResources: Type.Array(S.WorkspaceResource),
  templateVersionRichParameters: Type.Array(S.TemplateVersionParameter),
  templateVersionPresets: Type.Array(S.Preset),
  agentPty: null,
  uploadFile: S.UploadResponse,
  entitlements: S.Entitlements,
  createTemplateVersion: S.TemplateVersion,
  getTemplateVersion: S.TemplateVersion,
  cancelTemplateVersion: S.Response,
  /** Per WebSocket text frame (or the array without `follow`). */
  templateVersionLogs: Type.Array(S.ProvisionerJobLog),
  templateVersionExternalAuth: Type.Array(S.TemplateVersionExternalAuth),
  createTemplate: S.Template,
  updateActiveTemplateVersion: S.Response,
} as const satisfies Record<RouteName, TSchema | null>;

/** The request-body schema of routes that take one. */
export const requestSchemas = {
  login: S.LoginWithPasswordRequest,
  createUser: S.CreateUserRequestWithOrgs,
  createToken: S.CreateTokenRequest,
  createUserWorkspace: S.CreateWorkspaceRequest,
  createWorkspace: S.CreateWorkspaceRequest,
  createBuild: S.CreateWorkspaceBuildRequest,
  updateWorkspaceAutostart: S.UpdateWorkspaceAutostartRequest,
  createTemplateVersion: S.CreateTemplateVersionRequest,
  createTemplate: S.CreateTemplateRequest,
  updateActiveTemplateVersion: S.UpdateActiveTemplateVersion,
} as const satisfies Partial<Record<RouteName, TSchema>>;

type ResponseSchemas = typeof responseSchemas;
/** The parsed success body of a route (void for routes without one). */
// Reads TypeBox's phantom `static` member: Static<> over this union is too deep for tsc.
export type ResponseOf<N extends RouteName> = ResponseSchemas[N] extends { static: infer T } ? T : void;
