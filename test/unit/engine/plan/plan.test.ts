import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { defaultPlan, PlanError, planSchemaFileText, timelineMs, validatePlan } from '../../../../src/engine/plan/plan';

function problemsOf(json: unknown): string[] {
  try {
    validatePlan(json);
  } catch (error) {
    assert.ok(error instanceof PlanError, `expected PlanError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('plan was accepted');
}

describe('plan', () => {
  it('default plan is the reference methodology', () => {
    const plan = defaultPlan();
    assert.deepStrictEqual(
      [plan.timeline.ssh, plan.timeline.pty, plan.timeline.apps, plan.timeline.dashboard],
      [
        [0, 3],
        [1, 4],
        [2, 5],
        [3, 6],
      ],
    );
    assert.strictEqual(plan.traffic.pty.bytesPerTick, 1024);
    assert.strictEqual(plan.traffic.ssh.tickIntervalMs, 100);
    assert.strictEqual(plan.traffic.dashboard.intervalSeconds, 10);
    assert.strictEqual(plan.traffic.dashboard.jitterSeconds, 5);
    assert.strictEqual(timelineMs(plan), 6 * plan.timeline.slotSeconds * 1000);
    const expressions = plan.thresholds.map((t) => t.expression);
    for (const expected of ['deployment.restarts == 0', 'api.errors_5xx == 0', 'api.latency.p95 < 300ms', 'pty.disconnects == 0']) {
      assert.ok(expressions.includes(expected), expected);
    }
  });

  it('fills defaults into a short plan', () => {
    const plan = validatePlan({ users: 3, timeline: { slotSeconds: 2 } });
    assert.strictEqual(plan.users, 3);
    assert.deepStrictEqual(plan.timeline.pty, [1, 4]);
    assert.strictEqual(plan.concurrency.prepare, 10);
    assert.strictEqual(plan.cleanup.strategy, 'always');
    assert.ok(plan.thresholds.length > 5, 'default thresholds apply when none are given');
  });

  it("judges a plan without thresholds by the defaults of the stages it enables, each stage's own among them", () => {
    const expressions = (json: Record<string, unknown>) => validatePlan({ users: 3, ...json }).thresholds.map((t) => t.expression);
    const rushOwn = ['morning_rush.build_created.p95 < 300s', 'morning_rush.latency.p95 < 600s'];
    const off = expressions({});
    assert.ok(off.includes('pty.disconnects == 0'));
    assert.ok(!off.some((e) => e.startsWith('morning_rush.')), `a disabled stage brings no criteria: ${off.join(', ')}`);
    const on = expressions({ traffic: { morning_rush: { enabled: true } } });
    for (const expected of ['morning_rush.errors == 0', ...rushOwn]) assert.ok(on.includes(expected), expected);
    assert.ok(!on.some((e) => e.startsWith('dynamic_parameters.')));
    // Given thresholds are the plan's, as given.
    assert.deepStrictEqual(
      expressions({ traffic: { morning_rush: { enabled: true } }, thresholds: [{ expression: 'api.errors_5xx == 0' }] }),
      ['api.errors_5xx == 0'],
    );
    // `init` writes every stage's, so enabling one in the file brings its criteria (skipped while it is off).
    const written = defaultPlan().thresholds.map((t) => t.expression);
    for (const expected of [...rushOwn, 'workspace_updates.latency.p95 < 1s', 'dynamic_parameters.mismatches == 0'])
      assert.ok(written.includes(expected), expected);
  });

  it('names the field and the problem for each mistake', () => {
    const problems = problemsOf({
      users: 0,
      userz: 3,
      runIdPrefix: 'Run!',
      timeline: { slotSeconds: 'long', ssh: [3, 1] },
      cleanup: { strategy: 'sometimes' },
      deployment: { url: 'coder.example.com' },
    });
    const text = problems.join('\n');
    assert.match(text, /users: must be >= 1/);
    assert.match(text, /plan: unknown field "userz"/);
    assert.match(text, /runIdPrefix: must be 1-6 lowercase letters/);
    assert.match(text, /timeline\.slotSeconds: must be a number/);
    assert.match(text, /cleanup\.strategy: must be one of always, on-success, on-failure, never/);
    assert.match(text, /deployment\.url: must be an http:\/\/ or https:\/\/ URL/);
  });

  it('checks stage windows and threshold expressions', () => {
    const problems = problemsOf({
      timeline: { ssh: [3, 1] },
      thresholds: [{ expression: 'pty.rt.p95 < 300ms' }, { expression: 'fast please' }],
    });
    const text = problems.join('\n');
    assert.match(text, /timeline\.ssh: the window \[3, 1\] must end after it starts/);
    assert.match(text, /thresholds\[0\]\.expression: unknown metric "pty\.rt\.p95"/);
    assert.match(text, /thresholds\[1\]\.expression: cannot read "fast please"/);
  });

  it("bounds every duration below Node's timer limit and refuses a plan without traffic", () => {
    const text = problemsOf({
      timeouts: { cleanupSeconds: 4_294_968, buildSeconds: 1e9 },
      timeline: { slotSeconds: 86400, ssh: [0, 25] },
      traffic: { pty: { enabled: false }, apps: { enabled: false }, dashboard: { enabled: false, intervalSeconds: 1e7 } },
    }).join('\n');
    assert.match(text, /timeouts\.cleanupSeconds: must be <= 86400/);
    assert.match(text, /timeouts\.buildSeconds: must be <= 86400/);
    assert.match(text, /traffic\.dashboard\.intervalSeconds: must be <= 3600/);
    const timeline = problemsOf({ timeline: { slotSeconds: 86400, ssh: [0, 25] }, traffic: { dashboard: { enabled: false } } }).join('\n');
    assert.match(timeline, /timeline\.ssh: the window ends 2160000 s after T0, beyond the longest supported timeline/);
    const none = problemsOf({
      traffic: { ssh: { enabled: false }, pty: { enabled: false }, apps: { enabled: false }, dashboard: { enabled: false } },
    }).join('\n');
    assert.match(none, /traffic: every traffic stage is disabled/);
  });

  it('rejects non-objects', () => {
    assert.match(problemsOf([1, 2]).join(), /must be a JSON object/);
  });

  it('committed schema file equals the generated one (run `npm run schema`)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '../../../../schemas/scaletest-plan.schema.json'), 'utf8');
    assert.strictEqual(committed, planSchemaFileText());
  });
});

describe('example plans', () => {
  const dir = path.join(__dirname, '../../../../examples');
  for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.scaletest.json'))) {
    it(`${file} is valid`, () => {
      validatePlan(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    });
  }
});
