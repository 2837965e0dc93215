// The deployment as the runner sees it: REST client, errors, schemas and routes.
export * from './connection';
export * from './endpointClass';
export * from './errors';
export * from './routes';
export * from './routeSchemas';
export * from './client';
export * as schemas from './schemas';
export type {
  User,
  Organization,
  Template,
  Workspace,
  WorkspaceBuild,
  WorkspaceAgent,
  WorkspaceResource,
  WorkspaceApp,
  ProvisionerJob,
  ProvisionerJobLog,
  BuildInfoResponse,
  DeploymentStats,
  GetUsersResponse,
  WorkspacesResponse,
  CreateUserRequestWithOrgs,
  CreateWorkspaceRequest,
  CreateWorkspaceBuildRequest,
  CreateTokenRequest,
} from './schemas';
export { parseAs, matchesSchema, SchemaMismatchError } from './validate';
export { dynamicParameters, openJsonStream, watchWorkspace, type JsonStreamOptions } from './liveStreams';
