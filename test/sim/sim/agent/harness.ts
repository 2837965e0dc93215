// A tiny stand-in for the simulated coderd's routing, so the data plane is tested on its own
// over real sockets on 127.0.0.1: it authenticates, resolves the agent and hands over to
// AgentServices exactly as the control plane does.
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import type { AgentRef, SessionKind } from '../../../../src/sim/agentServices';
import type { FaultsConfig } from '../../../../src/sim/faults';
import { createAgentServices, type SimAgentServices } from '../../../../src/sim/agent';
import type { DeploymentConnection } from '../../../../src/coder/connection';

export const TEST_TOKEN = 'abcdefghij-0123456789abcdefghijkl';

export const AGENTS: AgentRef[] = [
  { agentId: 'agent-1', agentName: 'main', workspaceId: 'ws-1', workspaceName: 'alpha', ownerId: 'user-1', ownerName: 'alice' },
  { agentId: 'agent-2', agentName: 'main', workspaceId: 'ws-2', workspaceName: 'beta', ownerId: 'user-1', ownerName: 'alice' },
];

export interface Harness {
  url: string;
  connection: DeploymentConnection;
  services: SimAgentServices;
  /** Live sessions per kind, from onSessionChange. */
  sessions: Record<SessionKind, number>;
  faults: FaultsConfig;
  binaryRequests: number;
  close(): Promise<void>;
}

export async function startHarness(
  options: { faults?: FaultsConfig; ptyDetachedTtlMs?: number; ptyBackend?: 'buffered' | 'screen' } = {},
): Promise<Harness> {
  const sessions: Record<SessionKind, number> = { ssh: 0, reconnecting_pty: 0, app: 0 };
  const harness = { sessions, faults: options.faults ?? {}, binaryRequests: 0 } as Harness;
  const services = createAgentServices({
    faults: () => harness.faults,
    onSessionChange: (kind, delta) => {
      sessions[kind] += delta;
    },
    resolveWorkspace: (owner, workspace) => AGENTS.find((a) => a.ownerName === owner && a.workspaceName === workspace),
    ptyDetachedTtlMs: options.ptyDetachedTtlMs,
    ptyBackend: options.ptyBackend,
  });
  const authorized = (req: http.IncomingMessage) => req.headers['coder-session-token'] === TEST_TOKEN;
  const appRoute = /^\/@([^/]+)\/([^/.]+)\.([^/]+)\/apps\/([^/?]+)(\/[^?]*)?(\?.*)?$/;

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const binary = /^\/bin\/(coder-[a-z0-9]+-[a-z0-9]+(?:\.exe)?)$/.exec(url.split('?')[0]);
    if (binary) {
      harness.binaryRequests++;
      services.handleCoderBinary(req, res, binary[1]);
      return;
    }
    if (!authorized(req)) return json(res, 401, { message: 'You are not authorized.' });
    // What the coder CLI asks before it dials (see the simulated CLI).
    const byName = /^\/api\/v2\/users\/([^/]+)\/workspace\/([^/?]+)$/.exec(url);
    if (byName) {
      const agent = AGENTS.find((a) => a.ownerName === decodeURIComponent(byName[1]) && a.workspaceName === decodeURIComponent(byName[2]));
      if (!agent) return json(res, 404, { message: 'Workspace not found.' });
      return json(res, 200, { id: agent.workspaceId, latest_build: { template_version_id: 'version-1' } });
    }
    if (/^\/api\/v2\/(templateversions|workspaces)\/[^/?]+$/.test(url)) return json(res, 200, {});
    const app = appRoute.exec(url);
    if (app) {
      const agent = AGENTS.find((a) => a.ownerName === app[1] && a.workspaceName === app[2] && a.agentName === app[3]);
      if (!agent) return json(res, 404, { message: 'Workspace not found.' });
      if (app[5] === undefined) {
        res.writeHead(307, { Location: `/@${app[1]}/${app[2]}.${app[3]}/apps/${app[4]}/${app[6] ?? ''}` });
        res.end();
        return;
      }
      services.handleAppRequest(req, res, agent, app[4], `${app[5]}${app[6] ?? ''}`);
      return;
    }
    json(res, 404, { message: 'Route not found.' });
  });

  server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!authorized(req)) {
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"You are not authorized."}',
      );
      return;
    }
    const pty = /^\/api\/v2\/workspaceagents\/([^/]+)\/pty$/.exec(url.pathname);
    if (pty) {
      const agent = AGENTS.find((a) => a.agentId === pty[1]);
      if (!agent) return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      services.handlePtyUpgrade(req, socket, head, agent, {
        reconnect: url.searchParams.get('reconnect') ?? '',
        width: Number(url.searchParams.get('width') ?? 80),
        height: Number(url.searchParams.get('height') ?? 24),
        command: url.searchParams.get('command') ?? '',
      });
      return;
    }
    const tunnel = /^\/_sim\/tunnel\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (tunnel) {
      const agent = AGENTS.find((a) => a.ownerName === decodeURIComponent(tunnel[1]) && a.workspaceName === decodeURIComponent(tunnel[2]));
      if (!agent)
        return void socket.end(
          'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"Workspace not found."}',
        );
      services.handleTunnelUpgrade(req, socket, head, agent);
      return;
    }
    const app = appRoute.exec(req.url ?? '/');
    if (app && app[5] !== undefined) {
      const agent = AGENTS.find((a) => a.ownerName === app[1] && a.workspaceName === app[2] && a.agentName === app[3]);
      if (agent) return services.handleAppUpgrade(req, socket, head, agent, app[4], `${app[5]}${app[6] ?? ''}`);
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  harness.url = `http://127.0.0.1:${port}`;
  harness.connection = { url: harness.url, token: TEST_TOKEN };
  harness.services = services;
  harness.close = async () => {
    await services.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return harness;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Resolves once `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
/** A fresh harness and coder CLI cache directory for every test of the enclosing suite. */
export function useHarnessAndCacheDir(): { harness: Harness; cacheDir: string } {
  const env = {} as { harness: Harness; cacheDir: string };
  beforeEach(async () => {
    env.harness = await startHarness();
    env.cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coder-cli-cache-'));
  });
  afterEach(async () => {
    await env.harness.close();
    fs.rmSync(env.cacheDir, { recursive: true, force: true });
  });
  return env;
}

export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Collects everything a channel delivers. */
export class Collector {
  chunks: Buffer[] = [];
  push = (chunk: Buffer): void => void this.chunks.push(chunk);
  /** For a PTY channel's onData: fresh data here, resync data (replay, redraw) in `stale`. */
  pushFresh = (chunk: Buffer, resync?: boolean): void => void (resync ? this.stale : this.chunks).push(chunk);
  stale: Buffer[] = [];
  get staleText(): string {
    return Buffer.concat(this.stale).toString('utf8');
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
}
