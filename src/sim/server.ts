// The simulated coderd: one HTTP(S) server that serves Coder's API paths, status codes and
// JSON shapes (routes from src/coder/routes.ts), WebSockets via `ws` in noServer mode, the
// dashboard pages, and hands agent traffic (PTY, apps, CLI binary, tunnel) to the data plane.
// This file wires the parts: the context (context.ts), the request pipeline (router.ts) with
// its middleware (middleware/) and one module per resource (resources/).
import * as crypto from 'crypto';
import * as http from 'http';
import * as https from 'https';
import type { AddressInfo, Socket } from 'net';
import { WebSocketServer } from 'ws';
import { createAgentServices } from './agent';
import type { AgentServices, SessionKind } from './agentServices';
import type { SimContext, SimDeploymentOptions } from './context';
import type { FaultsConfig } from './faults';
import { validateFaults } from './faultsFile';
import { presetBody, templateParameterBody } from './bodies';
import { agentMetricRows } from './agentMetrics';
import { AutobuildExecutor } from './autobuild';
import { SimProvisioners } from './provisioners';
import { SimMetrics } from './metrics';
import { FaultInjector } from './middleware/faultInjection';
import { RateLimiter } from './middleware/rateLimit';
import { DeploymentStatsCollector } from './resources/deployment';
import { createRouter } from './router';
import { AGENT_NAME, APP_SLUG, randomAlphanumeric, SimStore, TEMPLATE_NAME } from './store';
import { behaviourFor } from './versions';

export type { SimDeploymentOptions } from './context';

/** The build version served by default (see versions.ts for `coderVersion`). */
export const SIM_BUILD_VERSION = behaviourFor().buildVersion;

/** The reference deployment's provisioner count (coderd's own default is 3 built-in daemons). */
export const DEFAULT_PROVISIONER_DAEMONS = 50;

export interface SimStats {
  users: number;
  workspaces: number;
  activeBuilds: number;
  /** Provisioner jobs waiting for a daemon, running, and the most ever waiting at once. */
  provisionerJobs: { pending: number; running: number; peakPending: number };
  /** Workspaces the lifecycle executor has started (autostart). */
  autostarts: number;
  sessions: Record<SessionKind, number>;
  /**
   * SSH tunnels opened by `coder ssh` per network path: `direct` when the CLI may connect peer to
   * peer (its default), `relayed` when it was told not to (CODER_DISABLE_DIRECT_CONNECTIONS).
   */
  sshPaths: { direct: number; relayed: number };
  requests: number;
  openWebSockets: number;
  restarts: number;
  down: boolean;
}

export interface SimDeployment {
  url: string;
  /** The owner's session token. A secret: print it only where the user asked for it. */
  ownerToken: string;
  ownerEmail: string;
  organizationId: string;
  /** The built-in template's id; '' when started without one (`template: false`). */
  templateId: string;
  /** coderd-style Prometheus endpoint on its own listener. */
  prometheusUrl: string;
  /** Set when started with `directSsh`. */
  directSsh?: { host: string; port: number };
  /** Replaces the fault configuration (validated); a `restart` is scheduled from now. */
  setFaults(faults: FaultsConfig): void;
  faults(): FaultsConfig;
  /**
   * Runs one lifecycle-executor tick as if it happened at `at` (epoch ms) and resolves how many
   * workspaces it started. coderd's own tests drive the executor with their tick times
   * (coderdtest's AutobuildTicker); the regular ticker keeps running beside it.
   */
  runAutobuild(at: number): Promise<number>;
  stats(): SimStats;
  close(): Promise<void>;
}

/** The shared context: state, data plane and sockets, before the server listens. */
function createContext(options: SimDeploymentOptions): SimContext {
  const sessions: Record<SessionKind, number> = { ssh: 0, reconnecting_pty: 0, app: 0 };
  const version = behaviourFor(options.coderVersion);
  // eslint-disable-next-line prefer-const -- assigned once below, after the store it reads exists
  let autobuild: AutobuildExecutor;
  // Declared first: the store reports deleted agents to it, and it resolves workspaces in the store.
  // eslint-disable-next-line prefer-const -- assigned once below, after the context it needs exists
  let agents: AgentServices;
  const provisioners = new SimProvisioners({
    count: options.provisionerDaemons ?? DEFAULT_PROVISIONER_DAEMONS,
    acquireDelayMs: options.provisionerAcquireDelayMs,
    stalled: () => sim.faults.stalledProvisioners ?? 0,
  });
  const sim: SimContext = {
    options,
    provisioners,
    get autobuild() {
      return autobuild;
    },
    store: new SimStore({
      faults: () => sim.faults,
      provisioners,
      buildDurationMs: options.buildDurationMs ?? 2000,
      agentConnectDelayMs: options.agentConnectDelayMs ?? 500,
      startupScriptMs: options.startupScriptMs ?? 200,
      agentConnectionTimeoutSeconds: options.agentConnectionTimeoutSeconds,
      subdomainApps: options.subdomainApps,
      appLabelWithAgent: version.appLabelWithAgent,
      onAgentGone: (agentId) => agents.forgetAgent(agentId),
    }),
    get agents() {
      return agents;
    },
    metrics: new SimMetrics(),
    apiSockets: new WebSocketServer({ noServer: true, perMessageDeflate: false }),
    deploymentId: crypto.randomUUID(),
    buildVersion: version.buildVersion,
    version,
    log: options.log ?? (() => {}),
    baseUrl: '',
    faults: validateFaults(options.faults ?? {}),
    sessions,
    sshPaths: { direct: 0, relayed: 0 },
    apiRateLimiter: new RateLimiter({
      limit: options.disableRateLimits ? -1 : (options.rateLimitPerMinute ?? 512),
      windowMs: options.rateLimitWindowMs,
      keying: version.rateLimitKeying,
    }),
    // A login carries no API key: keyed by IP in every version.
    loginRateLimiter: new RateLimiter({
      limit: options.disableRateLimits ? -1 : (options.loginRateLimitPerMinute ?? 60),
      windowMs: options.rateLimitWindowMs,
      keying: 'ip',
    }),
    deploymentStats: new DeploymentStatsCollector(options.deploymentStatsIntervalMs),
    sockets: new Set<Socket>(),
    openWebSockets: new Set(),
  };
  agents = createAgentServices({
    faults: () => sim.faults,
    onSessionChange: (kind, delta) => {
      sessions[kind] = Math.max(0, sessions[kind] + delta);
    },
    resolveWorkspace: (owner, name) => {
      const user = sim.store.users.find(owner);
      const workspace = user && sim.store.findWorkspace(user, name);
      return workspace ? sim.store.agentRef(workspace) : undefined;
    },
    ...(options.ptyDetachedTtlMs !== undefined ? { ptyDetachedTtlMs: options.ptyDetachedTtlMs } : {}),
    ptyBackend: options.ptyBackend,
  });
  sim.apiSockets.on('headers', (headers) => headers.push(`X-Coder-Build-Version: ${sim.buildVersion}`));
  autobuild = new AutobuildExecutor(
    {
      workspaces: () => sim.store.workspaces.values(),
      latestBuild: (workspace) => sim.store.latestBuild(workspace),
      isActive: (build) => sim.store.isActive(build),
      hasValidProvisioner: (at) => provisioners.online(at).length > 0,
      startAutostart: (workspace) => sim.store.startBuild(workspace, 'start', workspace.owner, 'autostart'),
      log: (line) => sim.log(line),
    },
    options.autobuildPollMs,
  );
  return sim;
}

export async function startSimDeployment(options: SimDeploymentOptions = {}): Promise<SimDeployment> {
  const host = options.host ?? '127.0.0.1';
  const sim = createContext(options);
  const { store } = sim;
  const stats = sim.deploymentStats;
  const faults = new FaultInjector(sim);
  const router = createRouter(sim, faults);

  const ownerEmail = 'admin@coder.local';
  const owner = store.users.add({
    username: 'admin',
    email: ownerEmail,
    name: 'Admin',
    password: randomAlphanumeric(24),
    loginType: 'password',
    owner: true,
  });
  const ownerToken = store.users.issueToken(owner, 365 * 24 * 3600_000);
  // The first user (the owner) pushed the built-in template.
  const template =
    options.template === false
      ? undefined
      : store.catalog.seed(
          owner,
          TEMPLATE_NAME,
          [{ name: AGENT_NAME, apps: [{ slug: APP_SLUG, displayName: 'WebSocket echo', subdomain: options.subdomainApps ?? false }] }],
          {
            parameters: (options.templateParameters ?? []).map(templateParameterBody),
            presets: (options.templatePresets ?? []).map((spec) => presetBody(crypto.randomUUID(), spec)),
          },
        );

  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }) : http.createServer();
  server.on('request', (req, res) => void router.handleRequest(req, res));
  server.on('upgrade', (req, socket, head) => void router.handleUpgrade(req, socket, head));
  server.on('connection', (socket: Socket) => {
    sim.sockets.add(socket);
    socket.once('close', () => sim.sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  sim.baseUrl = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const prometheus = await sim.metrics.listen(host);
  const directSsh = options.directSsh ? await sim.agents.listenDirectSsh(host, 0) : undefined;
  faults.scheduleRestart();
  stats.start(sim);
  sim.metrics.startAgentMetrics(() => agentMetricRows(store));
  sim.log(`sim: serving ${sim.baseUrl} (Prometheus ${prometheus.url})`);

  let closed = false;
  return {
    url: sim.baseUrl,
    ownerToken,
    ownerEmail,
    organizationId: store.organization.id,
    templateId: template?.id ?? '',
    prometheusUrl: prometheus.url,
    ...(directSsh ? { directSsh } : {}),
    setFaults(next) {
      sim.faults = validateFaults(next);
      faults.scheduleRestart();
    },
    faults: () => sim.faults,
    runAutobuild: (at) => sim.autobuild.runOnce(at),
    stats: () => ({
      users: store.users.size,
      workspaces: [...store.workspaces.values()].filter((w) => !w.deleted).length,
      activeBuilds: [...store.workspaces.values()].filter((w) => store.isActive(store.latestBuild(w))).length,
      provisionerJobs: {
        pending: sim.provisioners.pendingCount(),
        running: sim.provisioners.runningCount(),
        peakPending: sim.provisioners.peakPending,
      },
      autostarts: sim.autobuild.started,
      sessions: { ...sim.sessions },
      sshPaths: { ...sim.sshPaths },
      requests: router.requests(),
      openWebSockets: sim.openWebSockets.size,
      restarts: faults.restarts,
      down: faults.down,
    }),
    async close() {
      if (closed) return;
      closed = true;
      faults.cancel();
      stats.stop();
      sim.metrics.stopAgentMetrics();
      sim.autobuild.dispose();
      sim.provisioners.dispose();
      store.dispose();
      for (const client of sim.apiSockets.clients) client.terminate();
      sim.apiSockets.close();
      await sim.agents.close();
      for (const socket of sim.sockets) socket.destroy();
      for (const socket of sim.openWebSockets) socket.destroy();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), prometheus.close()]);
    },
  };
}
