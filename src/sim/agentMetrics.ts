// coderd's per-agent Prometheus gauges (coderd/prometheusmetrics Agents()): coderd_agents_up,
// coderd_agents_connections and coderd_agents_connection_latencies_seconds, recomputed on a
// ticker like coderd's collector (which runs once a minute; the simulator's default is shorter,
// so short test runs see them). The simulated agents have no DERP connection: each connected
// agent reports as its latency to the (one, preferred) relay region the time the simulated
// deployment took to reach it in the collection pass: its own event loop's delay, which grows
// with the load on the deployment as a relay's would.
import { Gauge, type Registry } from 'prom-client';
import type { SimStore } from './store';

/** coderd's default name of its embedded DERP region (CODER_DERP_SERVER_REGION_NAME). */
export const EMBEDDED_DERP_REGION = 'Coder Embedded Relay';
export const AGENT_METRICS_INTERVAL_MS = 5000;

export interface AgentMetricRow {
  agentId: string;
  agentName: string;
  username: string;
  workspaceName: string;
  templateName: string;
  templateVersionName: string;
  status: string;
  lifecycleState: string;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class AgentMetricsCollector {
  private readonly up: Gauge;
  private readonly connections: Gauge;
  private readonly latencies: Gauge;
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly nodeIds = new Map<string, number>();

  constructor(
    registry: Registry,
    private readonly agents: () => AgentMetricRow[],
    private readonly intervalMs = AGENT_METRICS_INTERVAL_MS,
  ) {
    this.up = new Gauge({
      name: 'coderd_agents_up',
      help: 'The number of active agents per workspace.',
      labelNames: ['username', 'workspace_name', 'template_name', 'template_version'],
      registers: [registry],
    });
    this.connections = new Gauge({
      name: 'coderd_agents_connections',
      help: 'Agent connections with statuses.',
      labelNames: ['agent_name', 'username', 'workspace_name', 'status', 'lifecycle_state', 'tailnet_node'],
      registers: [registry],
    });
    this.latencies = new Gauge({
      name: 'coderd_agents_connection_latencies_seconds',
      help: 'Agent connection latencies in seconds.',
      labelNames: ['agent_name', 'username', 'workspace_name', 'derp_region', 'preferred'],
      registers: [registry],
    });
  }

  /** Collects at once (like coderd's first tick), then every interval. */
  start(): void {
    const tick = () => {
      void this.collect().finally(() => {
        if (this.running) this.timer = setTimeout(tick, this.intervalMs).unref();
      });
    };
    this.running = true;
    tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One collection pass; gauges are replaced as a whole at its end, as coderd commits them. */
  async collect(): Promise<void> {
    const rows = this.agents();
    const measured: { row: AgentMetricRow; seconds: number }[] = [];
    for (const row of rows) {
      if (row.status !== 'connected') continue;
      const started = performance.now();
      await nextTurn();
      measured.push({ row, seconds: (performance.now() - started) / 1000 });
    }
    this.up.reset();
    this.connections.reset();
    this.latencies.reset();
    for (const row of rows) {
      this.up.inc({
        username: row.username,
        workspace_name: row.workspaceName,
        template_name: row.templateName,
        template_version: row.templateVersionName,
      });
      const connected = row.status === 'connected';
      const node = connected ? String(this.nodeId(row.agentId)) : 'unknown';
      this.connections.set(
        {
          agent_name: row.agentName,
          username: row.username,
          workspace_name: row.workspaceName,
          status: row.status,
          lifecycle_state: row.lifecycleState,
          tailnet_node: node,
        },
        1,
      );
    }
    for (const { row, seconds } of measured) {
      this.latencies.set(
        {
          agent_name: row.agentName,
          username: row.username,
          workspace_name: row.workspaceName,
          derp_region: EMBEDDED_DERP_REGION,
          preferred: 'true',
        },
        seconds,
      );
    }
  }

  private nodeId(agentId: string): number {
    let id = this.nodeIds.get(agentId);
    if (id === undefined) this.nodeIds.set(agentId, (id = this.nodeIds.size + 1));
    return id;
  }
}

/** The simulated deployment's agents as coderd's collector sees them: every live workspace's agent. */
export function agentMetricRows(store: SimStore): AgentMetricRow[] {
  const rows: AgentMetricRow[] = [];
  for (const workspace of store.workspaces.values()) {
    if (workspace.deleted) continue;
    rows.push({
      agentId: workspace.agent.id,
      agentName: workspace.agent.name,
      username: workspace.owner.username,
      workspaceName: workspace.name,
      templateName: store.catalog.templates.get(workspace.templateId)?.name ?? '',
      templateVersionName: store.versionOf(workspace).name,
      status: workspace.agent.status,
      lifecycleState: workspace.agent.lifecycle,
    });
  }
  return rows;
}
