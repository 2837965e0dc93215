// What every part of the simulated coderd shares: its options, state (the store), the data
// plane, metrics, live sockets and the current fault configuration. One object, created by
// startSimDeployment and handed to the middleware and the resource handlers.
import type * as http from 'http';
import type { Socket } from 'net';
import type { Duplex } from 'stream';
import type { WebSocketServer } from 'ws';
import type { RouteName } from '../coder/routes';
import type { AgentServices, SessionKind } from './agentServices';
import type { FaultsConfig } from './faults';
import type { RateLimiter } from './middleware/rateLimit';
import type { DeploymentStatsCollector } from './resources/deployment';
import type { SimMetrics } from './metrics';
import type { AutobuildExecutor } from './autobuild';
import type { SimProvisioners } from './provisioners';
import type { SimStore, SimUser } from './store';
import type { CoderVersionBehaviour } from './versions';
import type { SimParameterSpec, SimPresetSpec } from './bodies';

export interface SimDeploymentOptions {
  /** Listen address; loopback by default. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  faults?: FaultsConfig;
  /** Build duration from pending to succeeded (default 2000 ms; the `buildDurationMs` fault overrides). */
  buildDurationMs?: number;
  /** From build success until the agent connects (default 500 ms). */
  agentConnectDelayMs?: number;
  /** How long the agent's startup script runs once connected, lifecycle `starting` (default 200 ms; the `startupScriptMs` fault overrides). */
  startupScriptMs?: number;
  /** The template's agent connection timeout, whole seconds (default 120, as coderd): a slower agent shows `timeout` until it connects. */
  agentConnectionTimeoutSeconds?: number;
  /**
   * coderd's API rate limit (`CODER_API_RATE_LIMIT`, default 512): requests per window per bucket
   * (user or IP, per path, as the version keys them); <= 0 (coderd: -1) turns the limiter off.
   */
  rateLimitPerMinute?: number;
  /** POST /users/login (and coderd's other login routes) per window per IP; coderd hard-codes 60; <= 0 = none. */
  loginRateLimitPerMinute?: number;
  /** `--dangerous-disable-rate-limits`: no API, login or files limits at all. */
  disableRateLimits?: boolean;
  /** The rate limiters' window (coderd: one minute); tests shorten it to keep lowered limits quick. */
  rateLimitWindowMs?: number;
  /** coderd's `--max-token-lifetime` (default: unlimited, as coderd); minting longer tokens is a 400. */
  maxTokenLifetimeMs?: number;
  /** How often deployment stats are collected (default 30 000, as coderd); 400 until the first collection. */
  deploymentStatsIntervalMs?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Also serve SSH directly on a TCP port (for the direct SSH transport). */
  directSsh?: boolean;
  /** Passed to the data plane: lifetime of a detached reconnecting-PTY session. */
  ptyDetachedTtlMs?: number;
  /** Passed to the data plane: reconnecting-PTY backend, 'buffered' (default) or 'screen'. */
  ptyBackend?: 'buffered' | 'screen';
  /**
   * Serve the echo app as a subdomain app on the wildcard host `*.apps.localhost:<port>` (the
   * app's `subdomain` flag and `subdomain_name` say so, as coderd's do); default path-based.
   */
  subdomainApps?: boolean;
  /**
   * Provisioner daemons, each running one job at a time (default 50, the reference deployment's;
   * coderd's own default is 3 built-in daemons, `--provisioner-daemons`).
   */
  provisionerDaemons?: number;
  /** From a job becoming available to an idle daemon taking it (default 50 ms). */
  provisionerAcquireDelayMs?: number;
  /** The lifecycle executor's tick, coderd's hidden `--autobuild-poll-interval` (default 60 000). */
  autobuildPollMs?: number;
  /** The template's parameters (a parameter without `default` is required), for parameter tests. */
  templateParameters?: SimParameterSpec[];
  /** The template's presets. */
  templatePresets?: SimPresetSpec[];
  /**
   * Start with the built-in scale-test template (default true: as if the owner had pushed it,
   * agent `main` with the `wsec` echo app). false: no template — push one (`template push`).
   */
  template?: boolean;
  /**
   * A licence with a user limit (seats): GET /entitlements answers as an enterprise coderd does.
   * Without one the simulator is AGPL coderd, which has no entitlements route (404).
   */
  licence?: { userLimit: number };
  /** The coderd version to impersonate, e.g. 2.16.0 (default DEFAULT_CODER_VERSION); see versions.ts. */
  coderVersion?: string;
  /** Lifecycle messages (never secrets). */
  log?(line: string): void;
}

export interface SimContext {
  readonly options: SimDeploymentOptions;
  readonly store: SimStore;
  /** The provisioner daemons and their job queue. */
  readonly provisioners: SimProvisioners;
  /** The lifecycle executor (autostart). */
  readonly autobuild: AutobuildExecutor;
  readonly agents: AgentServices;
  readonly metrics: SimMetrics;
  /** Accepts the API's own WebSockets (build logs, workspace watch). */
  readonly apiSockets: WebSocketServer;
  readonly deploymentId: string;
  readonly buildVersion: string;
  readonly version: CoderVersionBehaviour;
  readonly log: (line: string) => void;
  /** Set once the server listens. */
  baseUrl: string;
  faults: FaultsConfig;
  readonly sessions: Record<SessionKind, number>;
  /** SSH tunnels opened per path the CLI was allowed (see SimStats.sshPaths). */
  readonly sshPaths: { direct: number; relayed: number };
  /** coderd's API limit (on /api/v2 and workspace apps). */
  readonly apiRateLimiter: RateLimiter;
  /** coderd's login limit (per IP). */
  readonly loginRateLimiter: RateLimiter;
  /** The latest deployment stats collection; undefined until the first one. */
  readonly deploymentStats: DeploymentStatsCollector;
  /** Every TCP connection, and the upgraded ones among them (reset by the restart fault). */
  readonly sockets: Set<Socket>;
  readonly openWebSockets: Set<Duplex>;
}

/** One API call as a handler sees it: the request, its URL, the authenticated user. */
export interface ApiCall {
  sim: SimContext;
  req: http.IncomingMessage;
  url: URL;
  user?: SimUser;
}

export type ApiResult = { status: number; body?: unknown };
export type ApiHandler = (call: ApiCall, params: Record<string, string>) => Promise<ApiResult>;
/** Accepts (or refuses by throwing an HttpError) an upgrade on an API route. */
export type UpgradeHandler = (call: ApiCall, params: Record<string, string>, socket: Duplex, head: Buffer, metricPath: string) => void;

/** A resource module's share of the API route table. */
export type ApiHandlers = Partial<Record<RouteName, ApiHandler>>;
export type UpgradeHandlers = Partial<Record<RouteName, UpgradeHandler>>;

/** Counts an accepted upgrade in the open-socket set and coderd's websocket metrics. */
export function trackWebSocket(sim: SimContext, socket: Duplex, path: string): void {
  const opened = performance.now();
  sim.openWebSockets.add(socket);
  sim.metrics.concurrentWebsockets.inc({ path });
  socket.once('close', () => {
    sim.openWebSockets.delete(socket);
    sim.metrics.concurrentWebsockets.dec({ path });
    sim.metrics.websocketDurations.observe({ path }, (performance.now() - opened) / 1000);
  });
}
