// Adding a stage is its descriptor and its runner (test/support/toyStage.ts, toyStageRunner.ts)
// plus one registration line: the toy stage then shows up in the plan schema, the defaults, the
// threshold metrics, the run's snapshots, its timeline and verdict, and in the charts that the
// webview and report.html draw. A registered echo-like stage runs on worker threads too.
import * as assert from 'assert';
import { defaultThresholds, planJsonSchema, validatePlan } from '../../../../src/engine/plan/plan';
import { startRun } from '../../../../src/engine/run/run';
import { registerStage } from '../../../../src/engine/stages/registry';
import { metricCatalogue, parseThreshold } from '../../../../src/engine/judge/thresholds';
import { chartSpecs } from '../../../../webview/chartSpecs';
import { smallPlan, useSimAndOutDir } from '../../../support/simRun';
import { toyEchoStage } from '../../../support/toyEchoStage';
import { toyStage } from '../../../support/toyStage';

describe('stage registry: a toy stage registered with one line', function () {
  this.timeout(60_000);
  let unregister: () => void;
  beforeEach(() => {
    unregister = registerStage(toyStage);
  });
  afterEach(() => unregister());

  it('is in the plan schema with its settings and window, and the plan fills its defaults', () => {
    const schema = planJsonSchema() as {
      properties: Record<string, { properties: Record<string, { properties?: Record<string, unknown>; default?: unknown }> }>;
    };
    assert.deepStrictEqual(Object.keys(schema.properties.traffic.properties.toy.properties!), ['enabled', 'intervalMs']);
    assert.deepStrictEqual(schema.properties.timeline.properties.toy.default, [0, 1]);
    const plan = validatePlan({ users: 1 }) as unknown as { traffic: Record<string, unknown>; timeline: Record<string, unknown> };
    assert.deepStrictEqual(plan.traffic.toy, { enabled: false, intervalMs: 50 });
    assert.throws(() => validatePlan({ traffic: { toy: { intervalMs: 1 } } }), /traffic\.toy\.intervalMs: must be >= 10/);
    assert.throws(() => validatePlan({ timeline: { toy: [2, 1] } }), /timeline\.toy: the window \[2, 1\] must end after it starts/);
  });

  it('exposes its metrics to thresholds and to the defaults', () => {
    assert.strictEqual(parseThreshold('toy.latency.p95 < 10ms').kind, 'duration');
    assert.strictEqual(parseThreshold('toy.disconnects <= 1%').kind, 'count');
    assert.throws(() => parseThreshold('toy.throughput >= 90%'), /unknown metric "toy\.throughput"/, 'a family the stage does not declare');
    assert.ok(metricCatalogue().some((name) => name.startsWith('toy.latency.<stat> (ping)')));
    assert.ok(defaultThresholds().includes('toy.errors == 0'));
  });

  it('cannot be registered twice, and is gone once unregistered', () => {
    assert.throws(() => registerStage(toyStage), /already registered/);
    unregister();
    assert.throws(() => parseThreshold('toy.latency.p95 < 10ms'), /unknown metric/);
    assert.ok(!('toy' in (planJsonSchema() as { properties: { traffic: { properties: object } } }).properties.traffic.properties));
    unregister = registerStage(toyStage);
  });

  describe('in a run against the simulated deployment', () => {
    const env = useSimAndOutDir();

    it('runs in its window, is judged by its threshold, and is in every snapshot and chart', async () => {
      const plan = smallPlan(env.sim, { users: 2, only: [] }) as unknown as Parameters<typeof validatePlan>[0] &
        Record<string, Record<string, unknown>>;
      plan.traffic.toy = { enabled: true, intervalMs: 50 };
      plan.timeline.toy = [0, 1];
      (plan as unknown as { thresholds: unknown[] }).thresholds = [
        { expression: 'toy.latency.p95 < 5s' },
        { expression: 'toy.errors == 0' },
      ];
      const handle = startRun({
        plan,
        connection: { url: env.sim.url, token: env.sim.ownerToken },
        outDir: env.out,
        snapshotIntervalMs: 100,
      });
      const seen = new Set<string>();
      handle.subscribe((snapshot) => snapshot.stages.forEach((stage) => seen.add(`${stage.name}:${stage.state}`)));
      const result = await handle.done;
      assert.strictEqual(result.verdict, 'pass', result.snapshot.reason);
      // Its descriptor asked prepare for users only, and no other stage runs: no workspace was built.
      assert.deepStrictEqual(result.cleanup, { deletedUsers: 2, deletedWorkspaces: 0, leftovers: [] });
      assert.deepStrictEqual(
        result.snapshot.stages.map((stage) => stage.name),
        ['prepare', 'ssh', 'pty', 'apps', 'dashboard', 'dynamic_parameters', 'workspace_updates', 'morning_rush', 'toy', 'cleanup'],
      );
      const toy = result.snapshot.stages.find((stage) => stage.name === 'toy')!;
      assert.deepStrictEqual([toy.title, toy.color, toy.verdict, toy.plannedEndMs], ['Toy pings', 'red', 'pass', 1000]);
      assert.ok(toy.latency.count >= 20, `${toy.latency.count} pings`);
      assert.ok(seen.has('toy:running'), 'a live snapshot showed the toy stage running');
      assert.deepStrictEqual(
        result.snapshot.thresholds.map((t) => t.verdict),
        ['pass', 'pass'],
      );

      const charts = chartSpecs(result.snapshot);
      assert.deepStrictEqual(
        charts.map((chart) => chart.id),
        ['rtt:toy', 'connections', 'throughput', 'errors', 'api'],
      );
      const palette = { blue: 'B', orange: 'O', purple: 'P', green: 'G', yellow: 'Y', red: 'R' };
      const colors = { foreground: 'F', muted: 'M', grid: 'G', series: palette, p50: '5', p95: '9', p99: '99' };
      const connections = charts.find((chart) => chart.id === 'connections')!.datasets(result.snapshot, colors);
      assert.deepStrictEqual(
        connections.map((set) => [set.label, set.borderColor]),
        [
          ['Toy pings active', 'R'],
          ['Toy pings target', 'R'],
        ],
      );
      assert.ok(connections[0].data.length > 0, 'the toy stage has history points');
    });
  });
});

describe('stage registry: a registered echo-like stage on worker threads', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  it('runs on two worker threads, which look it up through their own registry', async () => {
    const unregister = registerStage(toyEchoStage);
    try {
      const plan = smallPlan(env.sim, { users: 4, only: [] }) as unknown as Parameters<typeof validatePlan>[0] &
        Record<string, Record<string, unknown>>;
      plan.traffic.toyecho = { enabled: true, tickIntervalMs: 50 };
      plan.timeline.toyecho = [0, 2];
      plan.workers = 2 as never;
      (plan as unknown as { thresholds: unknown[] }).thresholds = [{ expression: 'toyecho.mismatches == 0' }];
      const logs: string[] = [];
      const handle = startRun({
        plan,
        connection: { url: env.sim.url, token: env.sim.ownerToken },
        outDir: env.out,
        log: (event) => logs.push(event.message),
      });
      const result = await handle.done;
      assert.strictEqual(result.verdict, 'pass', `${result.snapshot.reason}\n${logs.join('\n')}`);
      assert.ok(
        logs.some((line) => line === '4 connections over 2 worker threads'),
        `the stage's connections ran on the workers:\n${logs.join('\n')}`,
      );
      const stage = result.snapshot.stages.find((candidate) => candidate.name === 'toyecho')!;
      assert.strictEqual(stage.connections.target, 4);
      assert.ok(
        stage.latency.count > 20 && stage.completed === stage.latency.count,
        `${stage.latency.count} echoes from the workers' reports`,
      );
      assert.deepStrictEqual(stage.errors, {});
    } finally {
      unregister();
    }
  });
});
