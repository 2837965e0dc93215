import * as assert from 'assert';
import * as fs from 'fs';
import { startRun } from '../../../../src/engine/run/run';
import { startSimDeployment, type SimDeploymentOptions } from '../../../../src/sim';
import { leftovers, smallPlan, tempDir } from '../../../support/simRun';

// Checked before anything is created (issue 24 items 3 and 5): a required template parameter
// without a value, and a subdomain app label over DNS's 63 characters as the deployment's
// release forms it. coderd would refuse every workspace (400 `Unable to validate parameter`) or
// the app's URL would be unreachable for half the users, mid-run.
describe('engine: prepare checks the template and the app labels first (issue 24 items 3, 5)', function () {
  this.timeout(60_000);

  async function run(options: SimDeploymentOptions, adjust: (plan: ReturnType<typeof smallPlan>) => void) {
    const sim = await startSimDeployment({ buildDurationMs: 100, agentConnectDelayMs: 20, directSsh: true, ...options });
    const out = tempDir();
    try {
      const plan = smallPlan(sim, { users: 2, only: ['ssh'] });
      adjust(plan);
      const result = await startRun({ plan, connection: { url: sim.url, token: sim.ownerToken }, outDir: out }).done;
      return { result, left: await leftovers(sim), created: sim.stats().users - 1 };
    } finally {
      await sim.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  }

  const parameters = [
    { name: 'region', options: ['eu', 'us'] },
    { name: 'size', default: 'small' },
  ];
  const presets = [{ name: 'europe', parameters: { region: 'eu' } }];

  it('refuses a plan without a value for a required parameter, naming it, before creating anything', async () => {
    const { result, created } = await run({ templateParameters: parameters }, () => undefined);
    assert.strictEqual(result.exit, 'plan', result.snapshot.reason);
    assert.match(result.snapshot.reason ?? '', /requires a value for "region".*deployment\.parameters/);
    assert.strictEqual(created, 0, 'no user was created');
  });

  it('creates every workspace with the plan’s values, or with a preset that sets them', async () => {
    const withValues = await run({ templateParameters: parameters }, (plan) => (plan.deployment.parameters = { region: 'us' }));
    assert.strictEqual(withValues.result.exitCode, 0, withValues.result.snapshot.reason);
    const withPreset = await run({ templateParameters: parameters, templatePresets: presets }, (plan) => {
      plan.deployment.preset = 'europe';
    });
    assert.strictEqual(withPreset.result.exitCode, 0, withPreset.result.snapshot.reason);
    const unknownPreset = await run({ templateParameters: parameters, templatePresets: presets }, (plan) => {
      plan.deployment.preset = 'asia';
    });
    assert.match(unknownPreset.result.snapshot.reason ?? '', /no preset "asia" \(presets: europe\)/);
  });

  // runIdPrefix "abcdef" with 2 users: `wsec--scaletest-abcdefxxxxxx-1--scaletest-xxxxxxxx-abcdefxxxxxx`
  // is exactly 63 characters; with the agent's name (`--main`) it is 69.
  for (const [version, fits] of [
    ['2.27.0', false],
    ['2.35.2', true],
  ] as const) {
    it(`checks the subdomain app label as coderd ${version} forms it (${fits ? 'fits' : 'too long'})`, async () => {
      const { result, created } = await run({ coderVersion: version, subdomainApps: true }, (plan) => {
        plan.runIdPrefix = 'abcdef';
        plan.traffic.apps.enabled = true;
        plan.timeline.apps = [0, 2];
      });
      if (fits) {
        // Past the check: every workspace prepared (the apps traffic itself needs wildcard DNS, not tested here).
        assert.notStrictEqual(result.exit, 'plan', result.snapshot.reason);
        assert.strictEqual(result.snapshot.stages.find((stage) => stage.name === 'prepare')!.progress!.done, 2);
      } else {
        assert.strictEqual(result.exit, 'plan');
        assert.match(result.snapshot.reason ?? '', /coderd v2\.27\.0\+sim: .* up to 69 characters \("wsec--main--<workspace>--<user>"\)/);
        assert.strictEqual(created, 0, 'no user was created');
      }
    });
  }
});
