// The capacity search's pure parts: the plan's `search` block (validation with clear errors),
// the order of steps (grow, then bisect down to the resolution) and the verdict sentence.
import * as assert from 'assert';
import { PlanError, validatePlan } from '../../../../src/engine/plan/plan';
import { SearchStrategy } from '../../../../src/engine/search/strategy';
import { verdictSentence } from '../../../../src/engine/search/verdict';
import type { SearchSettings } from '../../../../src/engine/search/schema';
import type { SearchSnapshot, SearchStep } from '../../../../src/protocol/search';

/** The user counts a search tries when the deployment holds exactly `holds` users. */
function stepsAgainst(settings: SearchSettings, holds: number): number[] {
  const strategy = new SearchStrategy(settings);
  const tried: number[] = [];
  for (let users = strategy.next(); users !== undefined; users = strategy.next()) {
    tried.push(users);
    strategy.record(users <= holds);
    assert.ok(tried.length < 50, 'the search does not end');
  }
  return tried;
}

function problemsOf(plan: unknown): string[] {
  try {
    validatePlan(plan);
  } catch (error) {
    if (error instanceof PlanError) return error.problems;
    throw error;
  }
  return [];
}

describe('capacity search: plan, steps and verdict', () => {
  it('doubles, caps at `to`, then bisects down to the resolution', () => {
    assert.deepStrictEqual(stepsAgainst({ from: 1, to: 16, step: 'double', resolution: 1 }, 5), [1, 2, 4, 8, 6, 5]);
    assert.deepStrictEqual(
      stepsAgainst({ from: 100, to: 2000, step: 'double', resolution: 50 }, 1400),
      [100, 200, 400, 800, 1600, 1200, 1400, 1500, 1450],
    );
    assert.deepStrictEqual(stepsAgainst({ from: 100, to: 1000, step: 300, resolution: 100 }, 650), [100, 400, 700, 550, 625]);
    assert.deepStrictEqual(
      stepsAgainst({ from: 100, to: 1000, step: 'double', resolution: 1 }, 5000),
      [100, 200, 400, 800, 1000],
      'every step passed: `to` is tried last',
    );
    assert.deepStrictEqual(stepsAgainst({ from: 10, to: 100, step: 'double', resolution: 1 }, 3), [10], 'below `from` nothing is tried');
    // Whatever the break point, the search ends with last pass and first fail within the resolution.
    for (const holds of [1, 2, 7, 13, 29, 30, 31, 63]) {
      const strategy = new SearchStrategy({ from: 1, to: 64, step: 'double', resolution: 3 });
      for (let users = strategy.next(); users !== undefined; users = strategy.next()) strategy.record(users <= holds);
      assert.ok(strategy.lastPass! <= holds && strategy.firstFail! > holds, `holds ${holds}: ${strategy.lastPass}..${strategy.firstFail}`);
      assert.ok(strategy.firstFail! - strategy.lastPass! <= 3, `holds ${holds}: ${strategy.lastPass}..${strategy.firstFail}`);
    }
  });

  it('accepts a search block, fills its defaults and sets users to its upper bound', () => {
    const plan = validatePlan({ search: { from: 2, to: 40 } });
    assert.deepStrictEqual(plan.search, { from: 2, to: 40, step: 'double', resolution: 1 });
    assert.strictEqual(plan.users, 40);
    assert.deepStrictEqual(validatePlan(plan).search, plan.search, 'a validated plan validates again');
    assert.strictEqual(validatePlan({ users: 40, search: { from: 2, to: 40, step: 5, resolution: 2, minimum: 10 } }).search?.step, 5);
  });

  it('rejects search blocks that make no sense, saying what to change', () => {
    assert.deepStrictEqual(problemsOf({ search: { from: 20, to: 10 } }), ['search: from (20) must not be more than to (10)']);
    assert.deepStrictEqual(problemsOf({ search: { from: 2, to: 10, minimum: 20 } }), [
      'search.minimum: 20 is outside from..to (2..10); the search can only show a capacity in that range',
    ]);
    assert.deepStrictEqual(problemsOf({ users: 5, search: { from: 2, to: 10 } }), [
      'users: a capacity search sets the user count itself (search.from..search.to); remove users, or set it to search.to (10)',
    ]);
    assert.deepStrictEqual(problemsOf({ search: { to: 10 } }), ['search: missing required field "from"']);
    assert.deepStrictEqual(problemsOf({ search: { from: 1, to: 10, resolution: 0 } }), ['search.resolution: must be >= 1']);
    assert.deepStrictEqual(problemsOf({ search: { from: 1, to: 10, hold: 'x' } }), [
      'search: unknown field "hold" (check the spelling; see the plan schema)',
    ]);
    for (const step of ['triple', 0, 2.5]) {
      assert.deepStrictEqual(problemsOf({ search: { from: 1, to: 10, step } }), [
        'search.step: must be "double" or a whole number of users to add each step (1 or more)',
      ]);
    }
  });

  it('words the verdict with its evidence, for every way a search ends', () => {
    const step = (users: number, verdict: SearchStep['verdict'], extra: Partial<SearchStep> = {}): SearchStep => ({
      index: 0,
      users,
      phase: 'grow',
      state: 'done',
      verdict,
      startedAt: 0,
      stages: [],
      failed: [],
      ...extra,
    });
    const base: SearchSnapshot = { from: 100, to: 2000, step: 'double', resolution: 100, minimum: 100, phase: 'done', steps: [] };
    const broke = step(1600, 'fail', {
      coderdCpuCores: 3.94,
      failed: [{ expression: 'pty.rtt.p95 < 300ms', metric: 'pty.rtt.p95', observedText: '412ms' }],
    });
    assert.strictEqual(
      verdictSentence({ ...base, steps: [step(1400, 'pass'), broke], lastPass: 1400, firstFail: 1600 }),
      'holds 1400 users; at 1600 users `pty.rtt.p95` was 412 ms (limit < 300 ms) and coderd CPU reached 3.9 cores',
    );
    assert.strictEqual(
      verdictSentence({ ...base, minimum: 1500, steps: [step(1400, 'pass'), broke], lastPass: 1400, firstFail: 1600 }),
      'holds 1400 users; at 1600 users `pty.rtt.p95` was 412 ms (limit < 300 ms) and coderd CPU reached 3.9 cores; the plan asks for at least 1500 users',
    );
    assert.strictEqual(
      verdictSentence({ ...base, steps: [step(2000, 'pass')], lastPass: 2000 }),
      "holds at least 2000 users: every step passed, up to the search's upper bound",
    );
    const first = step(100, 'fail', {
      reason: 'only 90 of 100 workspaces became ready',
      failed: [{ expression: 'ssh.disconnects == 0', metric: 'ssh.disconnects', observedText: '3' }],
    });
    assert.strictEqual(
      verdictSentence({ ...base, steps: [first], firstFail: 100 }),
      'does not hold 100 users, where the search starts; at 100 users only 90 of 100 workspaces became ready, `ssh.disconnects` was 3 (limit == 0); the plan asks for at least 100 users',
    );
    assert.strictEqual(
      verdictSentence({ ...base, phase: 'aborted', steps: [step(100, 'pass'), step(200, 'pending', { state: 'aborted' })], lastPass: 100 }),
      'search stopped early: holds at least 100 users (the last step that passed)',
    );
  });
});
