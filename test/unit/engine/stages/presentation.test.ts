// What a stage's descriptor declares about its figures and charts, checked as it registers.
import * as assert from 'assert';
import { registerStage } from '../../../../src/engine/stages/registry';
import { combineFigures, presentationProblems } from '../../../../src/engine/stages/presentation';
import { toyStage } from '../../../support/toyStage';

describe('stage presentation', () => {
  it('refuses a chart drawing a figure the stage does not declare, a chart id twice or "rtt", and clashing latency names', () => {
    const queue = { id: 'queue', title: 'jobs waiting', unit: 'count' as const, lines: [{ figure: 'queued', label: 'waiting' }] };
    assert.deepStrictEqual(presentationProblems('toy', { figures: { queued: { meaning: 'jobs', merge: 'max' } }, charts: [queue] }), []);
    assert.deepStrictEqual(presentationProblems('toy', { charts: [queue] }), [
      'stage "toy": chart "queue" draws "queued", which is not in its figures',
    ]);
    const figures = { queued: { meaning: 'jobs', merge: 'max' as const } };
    assert.strictEqual(presentationProblems('toy', { figures, charts: [queue, queue] }).length, 1);
    assert.strictEqual(presentationProblems('toy', { figures, charts: [{ ...queue, id: 'rtt' }] }).length, 1);
    assert.match(presentationProblems('toy', { latencies: { errors: 'x' } }).join(), /clashes/);
    assert.throws(() => registerStage({ ...toyStage, id: 'toy_charts', charts: [queue] }), /draws "queued", which is not in its figures/);
  });

  it('combines figures as declared: a sum unless max', () => {
    const presentation = {
      figures: { queued: { meaning: 'jobs', merge: 'max' as const }, ready: { meaning: 'ready', merge: 'sum' as const } },
    };
    assert.deepStrictEqual(combineFigures([{ queued: 4, ready: 1 }, undefined, { queued: 6, ready: 2 }], presentation), {
      queued: 6,
      ready: 3,
    });
    assert.strictEqual(combineFigures([undefined, {}], presentation), undefined);
  });
});
