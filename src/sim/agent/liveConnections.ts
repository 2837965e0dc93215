// Every live data-plane connection of the simulated agents, in one place: session accounting
// for deployment/stats, the accept-rate and connection-drop faults, the restart fault
// (resetAll) and forgetting a deleted workspace's agent.
import type { AgentRef, AgentServicesOptions, SessionKind } from '../agentServices';
import type { DataPlaneKind, FaultsConfig, WorkspaceFault } from '../faults';
import { loadDelayMs, OrderedDelay } from './loadLatency';

/** `*` in a workspaceFaults pattern stands for any characters; everything else is literal. */
function matchesPattern(pattern: string, name: string): boolean {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(name);
}

/** The workspaceFaults entries that hit a connection of `kind` to `agent`. */
export function workspaceFaultsFor(faults: FaultsConfig, kind: DataPlaneKind, agent: AgentRef): WorkspaceFault[] {
  return (faults.workspaceFaults ?? []).filter(
    (fault) =>
      (!fault.kinds || fault.kinds.includes(kind)) &&
      matchesPattern(fault.workspace, agent.workspaceName) &&
      (!fault.agent || matchesPattern(fault.agent, agent.agentName)),
  );
}

interface LiveConnection {
  kind: SessionKind;
  faultKey: DataPlaneKind;
  agent: AgentRef;
  /** Cuts the connection abruptly, as a crash or network reset would. */
  kill(): void;
  dropTimer?: NodeJS.Timeout;
}

/**
 * Picks which new connections the drop fault hits: connection n (0-based) is dropped when
 * floor((n + 1) · fraction) grows, so exactly that fraction is dropped over any run of
 * connections, deterministically (no randomness to make tests flaky).
 */
export class CountedSelector {
  private seen = 0;

  next(fraction: number): boolean {
    const n = this.seen++;
    const clamped = Math.min(1, Math.max(0, fraction));
    return Math.floor((n + 1) * clamped + 1e-9) > Math.floor(n * clamped + 1e-9);
  }
}

export class LiveConnections {
  private readonly connections = new Set<LiveConnection>();
  private readonly selectors: Record<DataPlaneKind, CountedSelector> = {
    pty: new CountedSelector(),
    ssh: new CountedSelector(),
    apps: new CountedSelector(),
  };

  private readonly counts: Record<DataPlaneKind, number> = { pty: 0, ssh: 0, apps: 0 };
  /** The accept-rate fault: when the next new connection of each kind may go through (epoch ms). */
  private readonly nextAcceptAt: Record<DataPlaneKind, number> = { pty: 0, ssh: 0, apps: 0 };

  constructor(private readonly options: AgentServicesOptions) {}

  /**
   * An echo path of one `faultKey` connection under the load-growing latency fault: what
   * `echo` is given runs after the delay the current number of live connections calls for,
   * in order. `cancel` when the connection ends.
   */
  echoDelay(faultKey: DataPlaneKind, agent: AgentRef): { run(action: () => void): void; cancel(): void } {
    const delay = new OrderedDelay();
    return {
      run: (action) => {
        const faults = this.options.faults();
        // Read at each echo, like the load latency: a fault switched on mid-run hits open connections.
        const targeted = workspaceFaultsFor(faults, faultKey, agent).reduce((sum, fault) => sum + (fault.echoDelayMs ?? 0), 0);
        delay.run(loadDelayMs(faults, faultKey, this.counts[faultKey]) + targeted, action);
      },
      cancel: () => delay.cancel(),
    };
  }

  /**
   * A new connection of `faultKey` arriving: `proceed` runs now, or — under the accept-rate
   * fault — once the connections before it have had their turn (1 ÷ perSecond apart), as a
   * deployment that sets tunnels up one after another would let them through.
   */
  admit(faultKey: DataPlaneKind, proceed: () => void): void {
    const rate = this.options.faults().acceptRate?.[faultKey]?.perSecond;
    if (!rate) return proceed();
    const now = Date.now();
    const at = Math.max(now, this.nextAcceptAt[faultKey]);
    this.nextAcceptAt[faultKey] = at + 1000 / rate;
    if (at <= now) return proceed();
    setTimeout(proceed, at - now).unref();
  }

  /**
   * Registers a new connection, counts its session and applies the drop fault. Returns the
   * release function to call exactly once when the connection ends (extra calls are no-ops).
   */
  add(kind: SessionKind, faultKey: DataPlaneKind, agent: AgentRef, kill: () => void): () => void {
    const connection: LiveConnection = { kind, faultKey, agent, kill };
    this.connections.add(connection);
    this.counts[faultKey]++;
    this.options.onSessionChange(kind, 1, agent);
    const faults = this.options.faults();
    const drop = faults.dropConnections?.[faultKey];
    const targeted = workspaceFaultsFor(faults, faultKey, agent).find((fault) => fault.dropAfterMs !== undefined);
    if (targeted) {
      connection.dropTimer = setTimeout(() => connection.kill(), targeted.dropAfterMs);
    } else if (drop && drop.fraction > 0 && this.selectors[faultKey].next(drop.fraction)) {
      connection.dropTimer = setTimeout(() => connection.kill(), Math.max(0, drop.afterMs));
    }
    return () => {
      if (!this.connections.delete(connection)) return;
      this.counts[faultKey]--;
      clearTimeout(connection.dropTimer);
      this.options.onSessionChange(kind, -1, agent);
    };
  }

  /** Cuts every live connection (the restart fault). */
  resetAll(): void {
    for (const connection of [...this.connections]) connection.kill();
  }

  forgetAgent(agentId: string): void {
    for (const connection of [...this.connections]) if (connection.agent.agentId === agentId) connection.kill();
  }

  get size(): number {
    return this.connections.size;
  }
}
