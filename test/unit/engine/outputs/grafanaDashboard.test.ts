// The shipped Grafana dashboard (docs/grafana/coder-scaletest.json): it parses as a dashboard
// Grafana imports, and every query names a metric that we or coderd export — ours read from the
// run's own registry, coderd's from the simulator's (which follows coderd's names).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { runRegistry } from '../../../../src/engine/outputs/prometheus';
import type { RunSnapshot } from '../../../../src/protocol/snapshot';
import { SimMetrics } from '../../../../src/sim/metrics';

const DASHBOARD = path.join(__dirname, '../../../../docs/grafana/coder-scaletest.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; refId: string }>;
}

const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'rate',
  'increase',
  'irate',
  'histogram_quantile',
  'quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'or',
  'and',
  'unless',
  'vector',
  'le',
  'group_left',
  'group_right',
  'bool',
  'label_values',
  'inf',
  'nan',
]);

/** Metric names in a PromQL expression: identifiers outside label matchers, strings and ranges, not functions or keywords. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((match) => bare[match.index! + match[0].length] !== '(' && !/^\s*\(/.test(bare.slice(match.index! + match[0].length)))
    .map((match) => match[0])
    .filter((name) => !PROMQL_WORDS.has(name.toLowerCase()) && !/^\d/.test(name));
}

async function exportedNames(): Promise<Set<string>> {
  const snapshot = {
    planName: 'p',
    deploymentUrl: 'http://x',
    status: 'running',
    verdict: 'pending',
    stages: [],
    thresholds: [],
    api: { total: {}, byClass: {} },
    runner: { cpuPercent: 0, rssBytes: 0, eventLoopLagP99Ms: 0, overloaded: false },
    deployment: { healthy: true, restarts: 0 },
  } as unknown as RunSnapshot;
  const ours = runRegistry({ snapshot: () => snapshot, histograms: () => ({ stages: {}, api: {} }) }, { runId: 'r', shard: '0/1' });
  const sim = new SimMetrics();
  sim.startAgentMetrics(() => []);
  sim.stopAgentMetrics();
  const names = new Set<string>();
  for (const registry of [ours, sim.registry]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if ((metric.type as unknown) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    }
  }
  return names;
}

describe('docs/grafana: the shipped dashboard', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
    annotations: { list: Array<{ name: string; datasource: { type: string }; expr?: string; target?: { tags: string[] } }> };
  };

  it('is a dashboard Grafana imports: uid, title, schema version, unique panel ids on a 24-column grid', () => {
    assert.strictEqual(dashboard.uid, 'coder-scaletest');
    assert.ok(dashboard.title && dashboard.schemaVersion >= 36);
    const ids = dashboard.panels.map((panel) => panel.id);
    assert.strictEqual(new Set(ids).size, ids.length);
    for (const panel of dashboard.panels) {
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the grid`);
      if (panel.type === 'row') continue;
      assert.deepStrictEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `${panel.title} uses the datasource variable`);
      assert.ok(panel.targets?.length, `${panel.title} has queries`);
    }
  });

  it('uses only the variables it defines (and Grafana built-ins)', () => {
    const defined = new Set(dashboard.templating.list.map((variable) => variable.name));
    const text = JSON.stringify(dashboard);
    for (const [, name] of text.matchAll(/\$\{?([a-zA-Z_]+)/g)) {
      if (name.startsWith('__')) continue;
      assert.ok(defined.has(name), `$${name} is defined`);
    }
  });

  it('queries only metrics that the run or coderd export', async () => {
    const exported = await exportedNames();
    const queries = [
      ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr }))),
      ...dashboard.annotations.list.filter((a) => a.expr).map((a) => ({ where: a.name, expr: a.expr! })),
      ...dashboard.templating.list
        .filter((v) => v.definition)
        .map((v) => ({ where: `$${v.name}`, expr: v.definition!.replace(/^label_values\(([^,]+),.*$/, '$1') })),
    ];
    const seen = new Set<string>();
    for (const { where, expr } of queries) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where}: ${expr} names a metric`);
      for (const name of names) {
        seen.add(name);
        assert.ok(exported.has(name), `${where}: ${name} is exported by the run or coderd`);
      }
    }
    // Our figures beside coderd's: CPU, request rate and latency, WebSockets.
    for (const name of [
      'process_cpu_seconds_total',
      'coderd_api_requests_processed_total',
      'coderd_api_request_latencies_seconds_bucket',
      'coderd_api_concurrent_websockets',
      'coder_scaletest_latency_seconds_bucket',
      'coderd_scaletest_bytes_read_total',
    ])
      assert.ok(seen.has(name), `the dashboard shows ${name}`);
  });

  it('shows the stage windows as annotations written by --grafana-url (tag coder-scaletest)', () => {
    const byTag = dashboard.annotations.list.find((annotation) => annotation.target?.tags.includes('coder-scaletest'));
    assert.ok(byTag && byTag.datasource.type === 'grafana');
  });
});
