// The simulated workspace agents (data plane) behind the simulated coderd: reconnecting PTY,
// SSH, the `wsec` echo app and the coder CLI shim, all sharing one registry of live
// connections for session accounting and the drop / restart faults.
import type { AgentServices, AgentServicesOptions } from '../agentServices';
import { LiveConnections } from './liveConnections';
import { PTY_DETACHED_TTL_MS, type PtySessionInfo, PtyService } from './ptyService';

export type { PtySessionInfo };

/** The contract plus inspection for tests and diagnostics. */
export interface SimAgentServices extends AgentServices {
  ptySessions(): PtySessionInfo[];
}

export function createAgentServices(options: AgentServicesOptions): SimAgentServices {
  const live = new LiveConnections(options);
  const pty = new PtyService(live, options.ptyDetachedTtlMs ?? PTY_DETACHED_TTL_MS);
  const notImplemented = (res: { writeHead(code: number): unknown; end(): void }) => {
    res.writeHead(501);
    res.end();
  };
  return {
    handlePtyUpgrade: (req, socket, head, agent, params) => pty.handleUpgrade(req, socket, head, agent, params),
    handleAppRequest: (_req, res) => notImplemented(res),
    handleAppUpgrade: (_req, socket) => socket.destroy(),
    handleCoderBinary: (_req, res) => notImplemented(res),
    handleTunnelUpgrade: (_req, socket) => socket.destroy(),
    listenDirectSsh: async () => {
      throw new Error('direct SSH is not implemented yet');
    },
    ptySessions: () => pty.describeSessions(),
    resetAll: () => live.resetAll(),
    forgetAgent: (agentId) => {
      pty.forgetAgent(agentId);
      live.forgetAgent(agentId);
    },
    close: async () => {
      pty.close();
      live.resetAll();
    },
  };
}
