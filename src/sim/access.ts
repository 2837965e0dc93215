// Who may see what, as coderd's RBAC answers it for the roles the simulator knows (owner,
// member): members see themselves and their own workspaces; hidden things are 404, not 403.
import { forbidden, HttpError, notFound } from './http/errors';
import type { ApiCall } from './context';
import type { SimBuild, SimUser, SimWorkspace } from './store';

export const canSee = (user: SimUser | undefined, workspace: SimWorkspace) => !!user && (user.owner || workspace.owner.id === user.id);

export function requireOwnerRole(call: ApiCall): void {
  if (!call.user?.owner) throw forbidden();
}

/** The `{user}` path parameter (id, username or `me`), visible to the caller. */
export function userParam(call: ApiCall, ref: string): SimUser {
  const user = call.sim.store.users.find(ref, call.user);
  if (!user || (!call.user?.owner && user.id !== call.user?.id)) throw notFound();
  return user;
}

export function visibleWorkspace(call: ApiCall, id: string, includeDeleted = false): SimWorkspace {
  const workspace = call.sim.store.workspaces.get(id);
  if (!workspace || !canSee(call.user, workspace)) throw notFound();
  if (workspace.deleted && !includeDeleted) {
    throw new HttpError(
      410,
      `Workspace "${workspace.id}" was deleted, you can view this workspace by specifying '?deleted=true' and trying again.`,
    );
  }
  return workspace;
}

export function visibleBuild(call: ApiCall, id: string): SimBuild {
  const build = call.sim.store.findBuild(id);
  if (!build || !canSee(call.user, build.workspace)) throw notFound();
  return build;
}

/** `{user}/workspace/{workspacename}`: the workspace by owner and name, visible to the caller. */
export function workspaceByOwnerAndName(call: ApiCall, ownerRef: string, name: string): SimWorkspace {
  const owner = call.sim.store.users.find(ownerRef, call.user);
  const workspace = owner && call.sim.store.findWorkspace(owner, name);
  if (!workspace || !canSee(call.user, workspace)) throw notFound();
  return workspace;
}

/** Resolves the agent behind an app or tunnel URL, checking access and that it is connected. */
export function connectedAgentFor(
  call: ApiCall & { user: SimUser },
  ownerName: string,
  workspaceName: string,
  agentName?: string,
): SimWorkspace {
  const workspace = workspaceByOwnerAndName(call, ownerName, workspaceName);
  if (agentName !== undefined && agentName !== workspace.agent.name) throw notFound();
  if (workspace.agent.status !== 'connected') {
    throw new HttpError(502, `Agent state is "${workspace.agent.status}", it must be in the "connected" state.`);
  }
  return workspace;
}
