// The dynamic-parameters socket (coderd/parameters.go, templateVersionDynamicParametersWebsocket
// and handleParameterWebsocket): the form for the template version, rendered for the owner
// (the caller, or `?user_id=`) with no inputs and sent with id -1; then every request
// `{id, inputs, owner_id}` is rendered and answered with the same id. Text frames, one JSON
// each. The `staleParameters` fault renders a fraction of requests from the previous inputs.
import type { WebSocket } from 'ws';
import * as S from '../../coder/schemas';
import { CountedSelector } from '../agent/liveConnections';
import { trackWebSocket, type ApiHandlers, type SimContext, type UpgradeHandlers } from '../context';
import {
  renderConditionalParameters,
  renderStaticParameters,
  type DynamicParametersResponse,
  type RenderOwner,
} from '../dynamicParameters';
import type { SimTemplateVersion } from '../templates';
import { HttpError, needsWebSocket, notFound } from '../http/errors';
import type { SimUser } from '../store';

/** coderd's limit on one parameters socket (30 minutes; 3 in the first releases). */
const SOCKET_LIFETIME_MS = 30 * 60_000;

function ownerOf(user: SimUser): RenderOwner {
  // getWorkspaceOwnerData: the user's site and organization role names.
  return { username: user.username, roles: user.owner ? ['owner', 'member', 'organization-member'] : ['member', 'organization-member'] };
}

function templateVersionParam(sim: SimContext, id: string): SimTemplateVersion {
  const version = sim.store.catalog.versions.get(id);
  if (!version) throw notFound();
  // coderd: 425 until the version's import job has completed.
  if (version.job.status === 'pending' || version.job.status === 'running')
    throw new HttpError(425, 'Template version job has not finished');
  return version;
}

function serveParameters(
  sim: SimContext,
  version: SimTemplateVersion,
  caller: SimUser,
  initialOwner: SimUser,
  ws: WebSocket,
  staleSelector: CountedSelector,
): void {
  let previous: Record<string, string> = {};
  const render = (id: number, ownerId: string | undefined, inputs: Record<string, string>): DynamicParametersResponse => {
    const owner = ownerId ? sim.store.users.find(ownerId, caller) : initialOwner;
    if (!owner) {
      return {
        id,
        diagnostics: [
          {
            severity: 'error',
            summary: 'Failed to fetch workspace owner',
            detail: 'Please check your permissions or the user may not exist.',
            extra: { code: 'owner_not_found' },
          },
        ],
        parameters: [],
      };
    }
    const fraction = sim.faults.staleParameters ?? 0;
    const used = fraction > 0 && staleSelector.next(fraction) ? previous : inputs;
    previous = inputs;
    // A pushed version renders the parameters its import found; the built-in one (none of its
    // own) renders the reference runner's conditional chain.
    const parameters = version.parameters.length
      ? renderStaticParameters(version.parameters, used)
      : renderConditionalParameters(used, ownerOf(owner));
    return { id, diagnostics: [], parameters };
  };
  const send = (response: DynamicParametersResponse) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(response));
  };
  send(render(-1, undefined, {}));
  const lifetime = setTimeout(() => ws.close(1001), SOCKET_LIFETIME_MS);
  lifetime.unref();
  ws.on('message', (data, isBinary) => {
    let request: S.DynamicParametersRequest;
    try {
      if (isBinary) throw new Error('binary frame');
      request = JSON.parse(data.toString()) as S.DynamicParametersRequest;
      if (typeof request.id !== 'number' || typeof request.inputs !== 'object' || request.inputs === null) throw new Error('shape');
    } catch {
      // wsjson's decoder drops the connection on a frame it cannot decode.
      ws.close(1003, 'failed to decode request');
      return;
    }
    send(render(request.id, request.owner_id || undefined, request.inputs));
  });
  ws.once('close', () => clearTimeout(lifetime));
}

export const parameterHandlers = {
  dynamicParameters: async () => {
    throw needsWebSocket();
  },
} satisfies ApiHandlers;

export const parameterUpgrades = {
  dynamicParameters: (call, params, socket, head, path) => {
    const { sim } = call;
    const version = templateVersionParam(sim, params.templateversion!);
    const userId = call.url.searchParams.get('user_id');
    const owner = userId && userId !== 'me' ? sim.store.users.find(userId, call.user) : call.user!;
    if (!owner) throw new HttpError(400, 'Invalid user_id query parameter');
    trackWebSocket(sim, socket, path);
    const stale = new CountedSelector();
    sim.apiSockets.handleUpgrade(call.req, socket, head, (ws) => serveParameters(sim, version, call.user!, owner, ws, stale));
  },
} satisfies UpgradeHandlers;
