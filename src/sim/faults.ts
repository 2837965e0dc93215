// Fault injection for the simulated deployment, loaded from a JSON file (`sim --faults FILE`).
// Every knob is optional; an empty object means a healthy deployment. The control-plane
// owner documents and validates each knob (docs/faults.md); this is the shared shape.

import type { EndpointClass } from '../coder/endpointClass';

/** Endpoint classes used for latency and error injection (defined with the client's routes). */
export type { EndpointClass };

/**
 * The simulated agents' data-plane connection kinds: the reconnecting PTY, SSH and app proxy
 * services (./agent). The one list the faults (dropConnections, loadLatency), the schema of the
 * faults file and the live-connection accounting use. The simulator's own: it stands in for
 * coderd and its agents, so it lists the services it serves, not the runner's stages (a stage
 * that needs a new kind of agent connection needs a new simulated service first).
 */
export const DATA_PLANE_KINDS = ['pty', 'ssh', 'apps'] as const;
export type DataPlaneKind = (typeof DATA_PLANE_KINDS)[number];

export interface FaultsConfig {
  /** Added latency per endpoint class (ms), plus uniform jitter (± ms). */
  latency?: Partial<Record<EndpointClass | 'all', { ms: number; jitterMs?: number }>>;
  /** Fraction (0..1) of requests answered 500 per endpoint class. */
  errorRates?: Partial<Record<EndpointClass | 'all', number>>;
  /**
   * Fraction (0..1) of requests per endpoint class refused with 429 and a Retry-After header
   * (seconds), as coderd's rate limiter does; applied after errorRates.
   */
  rateLimited?: Partial<Record<EndpointClass | 'all', { fraction: number; retryAfterSeconds: number }>>;
  /**
   * Latency that grows with load: each echo of a web terminal, SSH or app connection waits
   * msPerConnection × (live connections of that kind − above), never below 0; API requests
   * wait msPerRequest × (requests in flight − above).
   */
  loadLatency?: LoadLatencyConfig;
  /**
   * A data plane slow to accept connections: at most `perSecond` new web-terminal, SSH or app
   * connections of the kind are let through a second, the others wait their turn (in order).
   */
  acceptRate?: Partial<Record<DataPlaneKind, { perSecond: number }>>;
  /** Drop a fraction of PTY / SSH / app connections after a delay. */
  dropConnections?: Partial<Record<DataPlaneKind, { fraction: number; afterMs: number }>>;
  /** Faults of a few workspaces only (by name), the rest healthy: a slow or flapping agent among many. */
  workspaceFaults?: WorkspaceFault[];
  /** Fraction (0..1) of workspace builds that fail. */
  failBuilds?: number;
  /** Fraction (0..1) of agents that never connect. */
  agentsNeverConnect?: number;
  /** A simulated coderd restart: health check down and all connections reset. */
  restart?: { atMs: number; downForMs: number };
  /** How long a provisioner works on a build (ms), fixed. */
  buildDurationMs?: number;
  /** Build durations drawn from a log-normal distribution (median and 95th percentile, ms); wins over buildDurationMs. */
  buildDuration?: { medianMs: number; p95Ms?: number };
  /** This many provisioner daemons stop taking jobs and heartbeating (coderd reports them offline after 90 s). */
  stalledProvisioners?: number;
  /** Every live workspace update (watch-ws) reaches its watcher this much later: a lagging pubsub. */
  workspaceEventDelayMs?: number;
  /** Fraction (0..1) of dynamic-parameter renders computed from the previous inputs instead of the ones sent. */
  staleParameters?: number;
  /** Time (ms) from build success until the agent connects. */
  agentConnectDelayMs?: number;
  /** How long the agent's startup script runs (ms; it starts the template's apps): lifecycle `starting` until then. */
  startupScriptMs?: number;
  /** Fraction (0..1) of startup scripts that exit with an error: lifecycle `start_error`, the apps never start. */
  startupScriptFails?: number;
  /** Fraction (0..1) of startup scripts that outlive their timeout: lifecycle `start_timeout`; the apps start anyway. */
  startupScriptTimesOut?: number;
  /** Reconnecting-PTY backend for sessions started from now on: 'screen' = a workspace image with GNU screen on PATH (see docs/fidelity-pty.md). */
  ptyBackend?: 'buffered' | 'screen';
}

/** One `workspaceFaults` entry: which workspaces (and agents) it hits, and what it does to their connections. */
export interface WorkspaceFault {
  /** The workspace name; `*` stands for any characters (e.g. `scaletest-*-3`: the fourth user's of any run). */
  workspace: string;
  /** The agent name, the same way (default: every agent of the workspace). */
  agent?: string;
  /** The connection kinds it hits (default: all). */
  kinds?: DataPlaneKind[];
  /** Each echo of these connections waits this long (ms), in order. */
  echoDelayMs?: number;
  /** Each of these connections is cut this long after it opened (ms) — every reconnect too: a flapping agent. */
  dropAfterMs?: number;
}

export type LoadLatencyConfig = Partial<Record<DataPlaneKind, { msPerConnection: number; above?: number }>> & {
  api?: { msPerRequest: number; above?: number };
};
