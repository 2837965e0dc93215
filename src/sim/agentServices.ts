// Contract between the simulated coderd (control plane: routing, auth, state) and the
// simulated workspace agents (data plane: reconnecting PTY, SSH, the `wsec` echo app, the
// coder CLI shim). The control plane authenticates and resolves ids, then hands over.
import type * as http from 'http';
import type { Duplex } from 'stream';
import type { FaultsConfig } from './faults';

export interface AgentRef {
  agentId: string;
  agentName: string;
  workspaceId: string;
  workspaceName: string;
  ownerId: string;
  ownerName: string;
}

export type SessionKind = 'ssh' | 'reconnecting_pty' | 'app';

export interface AgentServicesOptions {
  /** Current fault configuration (may change while running). */
  faults(): FaultsConfig;
  /** Live session accounting, for deployment/stats and the Prometheus gauges. */
  onSessionChange(kind: SessionKind, delta: 1 | -1, agent: AgentRef): void;
  /** Resolves `<owner>/<workspace>` for the CLI shim's tunnel; undefined when unknown. */
  resolveWorkspace(owner: string, workspace: string): AgentRef | undefined;
  /** How long a reconnecting-PTY session with no socket lives (default 5 min; shorter in tests). */
  ptyDetachedTtlMs?: number;
  /** Reconnecting-PTY backend of the simulated agents: 'buffered' (default) or 'screen'; the fault file's `ptyBackend` overrides. */
  ptyBackend?: 'buffered' | 'screen';
}

export interface PtyParams {
  reconnect: string;
  width: number;
  height: number;
  command: string;
}

export interface AgentServices {
  /** WebSocket upgrade for GET /api/v2/workspaceagents/{id}/pty (already authenticated). */
  handlePtyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentRef, params: PtyParams): void;
  /** HTTP request to an app: `rest` is the path after `/apps/{slug}` (starts with `/`). */
  handleAppRequest(req: http.IncomingMessage, res: http.ServerResponse, agent: AgentRef, slug: string, rest: string): void;
  handleAppUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentRef, slug: string, rest: string): void;
  /** GET /bin/coder-<os>-<arch>[.exe]: the CLI shim, with ETag / If-None-Match. */
  handleCoderBinary(req: http.IncomingMessage, res: http.ServerResponse, fileName: string): void;
  /**
   * Upgrade on the simulator-only tunnel path (stand-in for tailnet; see the docs). Like the
   * WebSocket upgrades, the data plane writes the `101 Switching Protocols` response itself;
   * the socket then carries the SSH byte stream.
   */
  handleTunnelUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentRef): void;
  /** Reset every live connection (the "restart" fault). */
  resetAll(): void;
  /** Drop an agent's sessions (workspace deleted). */
  forgetAgent(agentId: string): void;
  /**
   * Also serve SSH directly on a TCP port (for the direct SSH transport); the SSH user name
   * `<owner>/<workspace>` picks the agent. Resolves with the bound address.
   */
  listenDirectSsh(host?: string, port?: number): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}
