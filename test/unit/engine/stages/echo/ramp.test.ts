import * as assert from 'assert';
import { PlanError, validatePlan } from '../../../../../src/engine/plan/plan';
import { DEFAULT_CONNECTIONS_PER_SECOND, firstTickAt, planRamp, rampProblem } from '../../../../../src/engine/stages/echo/ramp';

describe('planned ramp', () => {
  it('spaces connections by their plan-wide index at the planned rate', () => {
    const ramp = planRamp({ connectionsPerSecond: 20 }, 200);
    assert.deepStrictEqual(
      [0, 1, 2, 199].map((index) => ramp.openOffsetMs(index)),
      [0, 50, 100, 9950],
    );
    assert.strictEqual(ramp.durationMs, 9950);
    assert.strictEqual(ramp.description, '200 connections at 20/s (10 s)');
  });

  it('brings 2000 users up in 40 s by default', () => {
    const ramp = planRamp({}, 2000);
    assert.strictEqual(ramp.connectionsPerSecond, DEFAULT_CONNECTIONS_PER_SECOND);
    assert.strictEqual(Math.round(ramp.durationMs / 1000), 40);
  });

  it('spreads the connections evenly over rampSeconds; 0 opens all at once', () => {
    const ramp = planRamp({ rampSeconds: 10 }, 100);
    assert.strictEqual(ramp.connectionsPerSecond, 10);
    assert.strictEqual(ramp.openOffsetMs(50), 5000);
    const once = planRamp({ rampSeconds: 0 }, 100);
    assert.strictEqual(once.openOffsetMs(99), 0);
    assert.strictEqual(once.connectionsPerSecond, Infinity);
    assert.strictEqual(once.description, '100 connections all at once');
  });

  it("starts a connection's ticks at the first time of its phase's grid at or after its planned open", () => {
    // Grid of phase 30 ms, every 100 ms from 1000: 1030, 1130, 1230, …
    assert.strictEqual(firstTickAt(1000, 1000, 30, 100), 1030);
    assert.strictEqual(firstTickAt(1030, 1000, 30, 100), 1030);
    assert.strictEqual(firstTickAt(1031, 1000, 30, 100), 1130);
    assert.strictEqual(firstTickAt(1250, 1000, 30, 100), 1330);
  });

  it('names a ramp that does not fit its window, and both settings at once', () => {
    assert.strictEqual(rampProblem({ connectionsPerSecond: 50 }, 2000, 180_000, 'traffic.ssh'), undefined);
    assert.match(
      rampProblem({ connectionsPerSecond: 10 }, 2000, 180_000, 'traffic.ssh')!,
      /traffic\.ssh: the ramp \(2000 connections at 10\/s \(200 s\)\) does not end before the stage's window does \(180 s\); raise connectionsPerSecond/,
    );
    assert.match(
      rampProblem({ connectionsPerSecond: 10, rampSeconds: 5 }, 10, 60_000, 'traffic.pty')!,
      /set rampSeconds or connectionsPerSecond, not both/,
    );
  });

  it('plan validation refuses a ramp longer than its window, naming the stage', () => {
    const problems = (() => {
      try {
        validatePlan({ users: 2000, timeline: { slotSeconds: 10 }, traffic: { pty: { rampSeconds: 45 } } });
        return [];
      } catch (error) {
        return (error as PlanError).problems;
      }
    })();
    // The web terminal's window is 3 slots (30 s); the default 50/s ramp of SSH and apps takes 40 s too.
    assert.ok(
      problems.some((p) => p.startsWith('traffic.pty: the ramp (2000 connections at 44/s (45 s))')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('traffic.ssh: the ramp (2000 connections at 50/s (40 s))')),
      problems.join('\n'),
    );
    assert.doesNotThrow(() => validatePlan({ users: 2000 }));
  });
});
