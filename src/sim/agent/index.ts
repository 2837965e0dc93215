// Placeholder until the data-plane implementation lands: every service answers 501.
import type { AgentServices, AgentServicesOptions } from '../agentServices';

export function createAgentServices(_options: AgentServicesOptions): AgentServices {
  const notImplemented = (res: { writeHead(code: number): unknown; end(): void }) => {
    res.writeHead(501);
    res.end();
  };
  return {
    handlePtyUpgrade: (_req, socket) => socket.destroy(),
    handleAppRequest: (_req, res) => notImplemented(res),
    handleAppUpgrade: (_req, socket) => socket.destroy(),
    handleCoderBinary: (_req, res) => notImplemented(res),
    handleTunnelUpgrade: (_req, socket) => socket.destroy(),
    resetAll: () => {},
    forgetAgent: () => {},
    close: async () => {},
  };
}
