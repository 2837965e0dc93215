// Workspace agents (coderd/workspaceagents.go): the reconnecting-PTY WebSocket, checked here
// and handed to the simulated agent (data plane).
import { canSee } from '../access';
import { trackWebSocket, type ApiHandlers, type UpgradeHandlers } from '../context';
import { HttpError, needsWebSocket, notFound } from '../http/errors';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const agentHandlers = {
  agentPty: async () => {
    throw needsWebSocket();
  },
} satisfies ApiHandlers;

export const agentUpgrades = {
  agentPty: (call, params, socket, head, path) => {
    const { store } = call.sim;
    const workspace = store.findAgent(params.workspaceagent!);
    if (!workspace || !canSee(call.user, workspace)) throw notFound();
    const url = call.url;
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
    trackWebSocket(call.sim, socket, path);
    call.sim.agents.handlePtyUpgrade(call.req, socket, head, store.agentRef(workspace), {
      reconnect,
      width: dimension('width'),
      height: dimension('height'),
      command: url.searchParams.get('command') ?? '',
    });
  },
} satisfies UpgradeHandlers;
