import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { defaultPlan } from '../../../../src/engine/plan/plan';
import {
  baselineCompareState,
  baselineRunIds,
  compareReportDirs,
  isPlanBaseline,
  markRunAsBaseline,
  withBaselineBadge,
} from '../../../../src/vscode/runs/baselineModel';
import { describeThreshold } from '../../../../src/vscode/runs/runModel';
import { fakeReport, writeReport } from '../../../support/baselineFixture';
import { tempDir } from '../../../support/simRun';

describe('vscode baselines (Runs view action, compare view)', () => {
  let results: string;
  beforeEach(() => (results = tempDir()));
  afterEach(() => fs.rmSync(results, { recursive: true, force: true }));

  it('Mark as Baseline marks the run in the results folder and the Runs view shows the badge', () => {
    const plan = defaultPlan();
    const dir = writeReport(results, fakeReport(plan, 'stbase1'));
    writeReport(results, fakeReport(plan, 'stother'));
    assert.deepStrictEqual([...baselineRunIds(results)], []);
    const { message, warn } = markRunAsBaseline(dir, results);
    assert.match(message, /^Run stbase1 is now the baseline of "reference scale test": thresholds like/);
    assert.strictEqual(warn, false);
    assert.ok(fs.existsSync(path.join(results, 'baselines', 'reference-scale-test.json')));
    assert.deepStrictEqual([...baselineRunIds(results)], ['stbase1']);
    assert.strictEqual(isPlanBaseline(results, plan.name, 'stbase1'), true);
    assert.strictEqual(isPlanBaseline(results, plan.name, 'stother'), false);
    assert.strictEqual(withBaselineBadge('passed · 12s', true), '★ baseline · passed · 12s');
    assert.strictEqual(withBaselineBadge('passed · 12s', false), 'passed · 12s');

    const failed = fakeReport(plan, 'stfailed');
    (failed as { verdict: string }).verdict = 'fail';
    const again = markRunAsBaseline(writeReport(results, failed), results);
    assert.match(again.message, /\(replacing run stbase1\).*did not pass \(fail\)/);
    assert.strictEqual(again.warn, true);
  });

  it('a baseline threshold shows its resolved limit in the Runs view', () => {
    const node = describeThreshold({
      expression: 'pty.rtt.p95 < baseline * 1.2',
      metric: 'pty.rtt.p95',
      observed: 31,
      observedText: '31ms',
      verdict: 'fail',
      abortOnFail: false,
      limit: '< 24ms (baseline 20ms × 1.2)',
    });
    assert.strictEqual(node.description, 'observed 31ms · limit < 24ms (baseline 20ms × 1.2)');
    assert.match(node.tooltip, /limit < 24ms \(baseline 20ms × 1\.2\)/);
  });

  it('Compare with Baseline puts the baseline on the left with a per-stage comparison', () => {
    const plan = defaultPlan();
    markRunAsBaseline(writeReport(results, fakeReport(plan, 'stbase1', [1], 20)), results);
    const slowerDir = writeReport(results, fakeReport(plan, 'stslow', [1], 40));
    const state = baselineCompareState(results, slowerDir);
    assert.strictEqual(state.reference, 'baseline');
    assert.deepStrictEqual([state.left.label, state.right.label], ['baseline stbase1', 'stslow']);
    assert.strictEqual(state.comparison!.stages.find((stage) => stage.name === 'pty')!.change, 'worse');
    assert.throws(() => baselineCompareState(results, path.join(results, 'stbase1')), /is itself the baseline/);
    const otherPlan = fakeReport({ ...plan, name: 'other plan' }, 'stx');
    assert.throws(() => baselineCompareState(results, writeReport(results, otherPlan)), /"other plan" has no baseline .*Mark as Baseline/);
  });

  it('Compare Two Runs gets a comparison from the reports, none from a report without histograms', () => {
    const before = writeReport(results, fakeReport(defaultPlan(), 'stb', [1], 30));
    const after = writeReport(results, fakeReport(defaultPlan(), 'sta', [1], 15));
    assert.strictEqual(compareReportDirs(before, after)!.stages.find((stage) => stage.name === 'pty')!.change, 'better');
    fs.writeFileSync(path.join(after, 'report.json'), '{}');
    assert.strictEqual(compareReportDirs(before, after), undefined);
  });
});
