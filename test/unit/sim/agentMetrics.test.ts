// coderd's per-agent gauges as the simulated deployment exposes them: coderd's names and labels,
// a latency only for connected agents (coderd has a tailnet node only for those), replaced as a
// whole on each collection.
import * as assert from 'assert';
import { Registry } from 'prom-client';
import { parsePrometheusText } from '../../../src/engine/monitors/monitors';
import { AgentMetricsCollector, EMBEDDED_DERP_REGION, type AgentMetricRow } from '../../../src/sim/agentMetrics';

const agent = (n: number, status: string): AgentMetricRow => ({
  agentId: `id-${n}`,
  agentName: 'main',
  username: `user${n}`,
  workspaceName: `ws${n}`,
  templateName: 'scaletest-docker',
  templateVersionName: 'scaletest-docker-v1',
  status,
  lifecycleState: status === 'connected' ? 'ready' : 'created',
});

describe('simulated deployment: coderd_agents_* gauges', () => {
  it("exposes up, connections and connection latencies with coderd's labels, latencies only for connected agents", async () => {
    const registry = new Registry();
    let rows = [agent(1, 'connected'), agent(2, 'connected'), agent(3, 'connecting')];
    const collector = new AgentMetricsCollector(registry, () => rows);
    await collector.collect();
    let samples = parsePrometheusText(await registry.metrics());
    const latencies = samples.filter((s) => s.name === 'coderd_agents_connection_latencies_seconds');
    assert.deepStrictEqual(latencies.map((s) => s.labels.username).sort(), ['user1', 'user2']);
    for (const sample of latencies) {
      assert.deepStrictEqual(Object.keys(sample.labels).sort(), ['agent_name', 'derp_region', 'preferred', 'username', 'workspace_name']);
      assert.strictEqual(sample.labels.derp_region, EMBEDDED_DERP_REGION);
      assert.strictEqual(sample.labels.preferred, 'true');
      assert.ok(sample.value >= 0 && sample.value < 5, `latency ${sample.value}`);
    }
    const connections = samples.filter((s) => s.name === 'coderd_agents_connections');
    assert.strictEqual(connections.length, 3);
    assert.strictEqual(connections.find((s) => s.labels.username === 'user3')!.labels.tailnet_node, 'unknown');
    assert.strictEqual(
      samples.filter((s) => s.name === 'coderd_agents_up').reduce((sum, s) => sum + s.value, 0),
      3,
    );

    rows = [agent(2, 'connected')];
    await collector.collect();
    samples = parsePrometheusText(await registry.metrics());
    assert.deepStrictEqual(
      samples.filter((s) => s.name === 'coderd_agents_connection_latencies_seconds').map((s) => s.labels.username),
      ['user2'],
      'a gone agent kept its gauge',
    );
  });
});
