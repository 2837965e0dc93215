// The simulated workspace agents (data plane) behind the simulated coderd: reconnecting PTY,
// SSH, the `wsec` echo app and the coder CLI shim, all sharing one registry of live
// connections for session accounting and the drop / restart faults.
import type { AgentServices, AgentServicesOptions } from '../agentServices';
import { AppService } from './appService';
import { serveCoderBinary } from './cliShim';
import { LiveConnections } from './liveConnections';
import { PTY_DETACHED_TTL_MS, type PtySessionInfo, PtyService } from './ptyService';
import { SshService } from './sshService';

export type { PtySessionInfo };
export { CLI_SHIM_ETAG, CLI_SHIM_VERSION } from './cliShim';
export { ECHO_APP_SLUG } from './appService';

/** The contract plus inspection for tests and diagnostics. */
export interface SimAgentServices extends AgentServices {
  ptySessions(): PtySessionInfo[];
}

const TUNNEL_PROTOCOL = 'coder-sim-tunnel';

export function createAgentServices(options: AgentServicesOptions): SimAgentServices {
  const live = new LiveConnections(options);
  const pty = new PtyService(
    live,
    options.ptyDetachedTtlMs ?? PTY_DETACHED_TTL_MS,
    () => options.faults().ptyBackend ?? options.ptyBackend ?? 'buffered',
  );
  const ssh = new SshService(live, options);
  const apps = new AppService(live);
  return {
    handlePtyUpgrade: (req, socket, head, agent, params) => live.admit('pty', () => pty.handleUpgrade(req, socket, head, agent, params)),
    handleAppRequest: (req, res, _agent, slug, rest) => apps.handleRequest(req, res, slug, rest),
    handleAppUpgrade: (req, socket, head, agent, slug) => live.admit('apps', () => apps.handleUpgrade(req, socket, head, agent, slug)),
    handleCoderBinary: serveCoderBinary,
    handleTunnelUpgrade: (req, socket, head, agent) => {
      if ((req.headers.upgrade ?? '').toLowerCase() !== TUNNEL_PROTOCOL) {
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ message: `Expected the header "Upgrade: ${TUNNEL_PROTOCOL}".` })}`,
        );
        return;
      }
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TUNNEL_PROTOCOL}\r\n\r\n`);
      if (head.length > 0) socket.unshift(head);
      ssh.accept(socket, agent);
    },
    listenDirectSsh: (host, port) => ssh.listenDirect(host, port),
    ptySessions: () => pty.describeSessions(),
    resetAll: () => live.resetAll(),
    forgetAgent: (agentId) => {
      pty.forgetAgent(agentId);
      live.forgetAgent(agentId);
    },
    close: async () => {
      pty.close();
      apps.close();
      live.resetAll();
      await ssh.close();
    },
  };
}
