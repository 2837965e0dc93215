// The dynamic-parameters stage against the simulated deployment, and the fault that fails it
// for the right reason (forms rendered from the previous inputs).
import * as assert from 'assert';
import type { Plan } from '../../../../../src/engine';
import { startRun, type RunResult } from '../../../../../src/engine/run/run';
import { nextChange, staleInputs } from '../../../../../src/engine/stages/dynamicParameters/runner';
import { renderConditionalParameters } from '../../../../../src/sim/dynamicParameters';
import { oneStagePlan, tempDir, useSimAndOutDir } from '../../../../support/simRun';

describe('dynamic parameters stage', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  const plan = (): Plan =>
    oneStagePlan(env.sim, {
      users: 2,
      stage: 'dynamic_parameters',
      settings: { intervalSeconds: 0.2, jitterSeconds: 0.05 },
      window: [0, 3],
      thresholds: ['dynamic_parameters.errors == 0', 'dynamic_parameters.latency.p95 < 1s'],
    });
  const run = (p: Plan): Promise<RunResult> =>
    startRun({ plan: p, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: tempDir() }).done;
  const stage = (result: RunResult) => result.snapshot.stages.find((s) => s.name === 'dynamic_parameters')!;

  it('changes one parameter as the form does, leaving later ones to their defaults, and spots a stale answer', () => {
    const form = renderConditionalParameters({}, { username: 'u', roles: [] }) as never;
    const change = nextChange(form, () => 0)!;
    assert.deepStrictEqual(change, { name: 'zero', inputs: { zero: 'B' } });
    const fresh = { id: 1, parameters: renderConditionalParameters({ zero: 'B' }, { username: 'u', roles: [] }) } as never;
    const stale = { id: 1, parameters: form } as never;
    assert.deepStrictEqual(staleInputs(fresh, change.inputs), []);
    assert.deepStrictEqual(staleInputs(stale, change.inputs), ['zero']);
  });

  it('times change → re-rendered form for every user', async () => {
    const result = await run(plan());
    const s = stage(result);
    assert.strictEqual(result.verdict, 'pass', JSON.stringify(s.errors));
    assert.ok(s.latency.count >= 4, `changes answered: ${s.latency.count}`);
    assert.strictEqual(s.mismatches, 0);
  });

  it('staleParameters: answers rendered from the previous inputs fail the stage on errors.stale', async () => {
    env.sim.setFaults({ staleParameters: 0.5 });
    const result = await run(plan());
    const s = stage(result);
    assert.strictEqual(result.verdict, 'fail');
    assert.ok((s.errors.stale ?? 0) >= 1, JSON.stringify(s.errors));
    assert.strictEqual(s.mismatches, s.errors.stale);
    // Its live figures, and the chart its descriptor declares of them.
    assert.deepStrictEqual(s.figures, { answered: s.completed, stale: s.mismatches });
    assert.match(
      s.summary!,
      new RegExp(`^\\d+ of \\d+ parameter change\\(s\\) answered.*; ${s.mismatches} stale render\\(s\\), \\d+ disconnect\\(s\\)$`),
    );
    assert.deepStrictEqual(
      s.charts?.map((chart) => chart.lines.map((line) => line.figure)),
      [['answered', 'stale']],
    );
    assert.ok(result.snapshot.thresholds.find((t) => t.expression === 'dynamic_parameters.errors == 0')!.verdict === 'fail');
  });
});
