// The pre-run check against the simulated deployment: the default plan passes, and each kind
// of failure is produced by the deployment itself, for the right reason.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../../src/cli/main';
import { CoderClient } from '../../../../src/coder/client';
import type { DeploymentConnection } from '../../../../src/coder/connection';
import { defaultPlan } from '../../../../src/engine';
import { checkDeployment, type CheckReport } from '../../../../src/engine/check/check';
import type { CheckLineId } from '../../../../src/engine/check/lines';
import type { Plan } from '../../../../src/engine/plan/plan';
import { startSimDeployment, type SimDeployment, type SimDeploymentOptions } from '../../../../src/sim';
import { capture } from '../../../support/capture';
import { memberClient, startFixture } from '../../../support/simFixture';
import { smallPlan, tempDir } from '../../../support/simRun';

const FAST: SimDeploymentOptions = { buildDurationMs: 150, agentConnectDelayMs: 30 };
const MACHINE = { cores: 64, memoryBytes: 256 * 1024 ** 3 };

function line(report: CheckReport, id: CheckLineId) {
  return report.lines.find((candidate) => candidate.id === id)!;
}

/** A sim, the check of `plan(sim)` against it, then the sim closed. */
async function checkAgainst(
  options: SimDeploymentOptions,
  plan: (sim: SimDeployment) => Plan,
  connection?: (sim: SimDeployment) => DeploymentConnection,
): Promise<CheckReport> {
  const sim = await startSimDeployment({ ...FAST, ...options });
  try {
    return await checkDeployment({
      plan: plan(sim),
      connection: connection?.(sim) ?? { url: sim.url, token: sim.ownerToken },
      machine: MACHINE,
    });
  } finally {
    await sim.close();
  }
}

describe('pre-run check against the simulated deployment', function () {
  this.timeout(60_000);

  it('passes with the default plan, every line read from the deployment', async () => {
    const report = await checkAgainst({}, () => defaultPlan());
    assert.ok(report.passed, JSON.stringify(report.lines, null, 1));
    for (const id of [
      'reachable',
      'version',
      'owner',
      'template',
      'agent',
      'echo-app',
      'parameters',
      'external-auth',
      'rate-limits',
      'wildcard',
      'provisioners',
      'queue',
      'licence',
      'coder-cli',
      'leftovers',
    ] as const) {
      assert.strictEqual(line(report, id).status, 'pass', `${id}: ${line(report, id).detail}`);
    }
    assert.strictEqual(line(report, 'prometheus').status, 'warn', 'the default plan names no scrape URL');
    assert.strictEqual(report.offerTemplatePush, false);
  });

  it('fails the echo app a template lacks, and offers the template push', async () => {
    const report = await checkAgainst({}, () => {
      const plan = defaultPlan();
      plan.traffic.apps.slug = 'wsxx';
      return plan;
    });
    assert.strictEqual(line(report, 'echo-app').status, 'fail');
    assert.match(line(report, 'echo-app').detail, /agent main has no app "wsxx" \(apps: wsec\)/);
    assert.match(line(report, 'echo-app').advice!, /template push/);
    assert.ok(!report.passed && report.offerTemplatePush);
  });

  it('fails a deployment without a template, with the push as the advice', async () => {
    const report = await checkAgainst({ template: false }, () => defaultPlan());
    assert.strictEqual(line(report, 'template').status, 'fail');
    assert.match(line(report, 'template').advice!, /coder-scaletest template push --kind/);
    assert.strictEqual(line(report, 'agent').status, 'skip');
    assert.ok(report.offerTemplatePush);
  });

  it('fails a required parameter the plan gives no value', async () => {
    const report = await checkAgainst({ templateParameters: [{ name: 'region', options: ['eu', 'us'] }] }, () => defaultPlan());
    assert.strictEqual(line(report, 'parameters').status, 'fail');
    assert.match(line(report, 'parameters').detail, /requires a value for "region"/);
  });

  it('fails a licence whose seats the run would exceed', async () => {
    const report = await checkAgainst({ licence: { userLimit: 8 } }, () => defaultPlan());
    assert.strictEqual(line(report, 'licence').status, 'fail');
    assert.match(line(report, 'licence').detail, /1 active user\(s\) now, 10 more during the run: 11 of a licensed 8/);
    assert.match(line(report, 'licence').advice!, /lower users to 7 or less/);
  });

  it('fails when no provisioner daemon is online', async () => {
    const report = await checkAgainst({ provisionerDaemons: 0 }, () => defaultPlan());
    assert.strictEqual(line(report, 'provisioners').status, 'fail');
    assert.match(line(report, 'provisioners').detail, /no online provisioner daemon/);
  });

  it('warns when fewer daemons than the prepare concurrency are online', async () => {
    const report = await checkAgainst({ provisionerDaemons: 2 }, () => defaultPlan());
    assert.strictEqual(line(report, 'provisioners').status, 'warn');
    assert.match(line(report, 'provisioners').detail, /2 online daemon\(s\) for a prepare concurrency of 10/);
  });

  it('fails a subdomain echo app whose wildcard host this runner cannot resolve, and one the deployment does not have', async () => {
    const unresolvable = await checkAgainst(
      { subdomainApps: true },
      () => defaultPlan(),
      (sim) => ({
        url: sim.url,
        token: sim.ownerToken,
        // A runner whose DNS has no wildcard for the app host.
        lookup: (hostname, _options, callback) =>
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4),
      }),
    );
    assert.strictEqual(line(unresolvable, 'wildcard').status, 'fail');
    assert.match(line(unresolvable, 'wildcard').detail, /scaletest-check-[0-9a-f]+\.apps\.localhost does not resolve from this runner/);

    const resolvable = await checkAgainst({ subdomainApps: true }, () => defaultPlan());
    assert.strictEqual(line(resolvable, 'wildcard').status, 'pass', line(resolvable, 'wildcard').detail);

    // The template's echo app is a subdomain app, but the deployment serves no wildcard host.
    const sim = await startSimDeployment({ ...FAST, template: false });
    try {
      const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
      assert.strictEqual(await main(['template', 'push', '--kind', 'docker', '--url', sim.url], io), 0, io.err());
      const plan = defaultPlan();
      plan.deployment.template = 'scaletest-docker';
      const report = await checkDeployment({ plan, connection: { url: sim.url, token: sim.ownerToken }, machine: MACHINE });
      assert.strictEqual(line(report, 'wildcard').status, 'fail');
      assert.match(line(report, 'wildcard').advice!, /CODER_WILDCARD_ACCESS_URL/);
    } finally {
      await sim.close();
    }
  });

  it('fails a coderd older than the supported range', async () => {
    const report = await checkAgainst({ coderVersion: '2.14.0' }, () => defaultPlan());
    assert.strictEqual(line(report, 'version').status, 'fail');
    assert.match(line(report, 'version').detail, /older than the oldest version this tool supports/);
  });

  it("warns what the run's requests meet at an old coderd's per-IP rate limits, with Coder's advice", async () => {
    const report = await checkAgainst({ coderVersion: '2.29.0' }, () => {
      const plan = defaultPlan();
      plan.users = 2000;
      return plan;
    });
    assert.strictEqual(line(report, 'rate-limits').status, 'warn');
    assert.match(
      line(report, 'rate-limits').detail,
      /2000 user creation .* share \/api\/v2\/users at 512\/min from this runner: at least 2\.9 min/,
    );
    assert.match(line(report, 'rate-limits').advice!, /CODER_DANGEROUS_DISABLE_RATE_LIMITS=true/);
  });

  it("fails a non-owner's token and skips what needs an owner", async () => {
    const fixture = await startFixture(FAST);
    try {
      const member = await memberClient(fixture);
      const report = await checkDeployment({
        plan: defaultPlan(),
        connection: { url: fixture.sim.url, token: member.client.connection.token },
        machine: MACHINE,
      });
      assert.strictEqual(line(report, 'owner').status, 'fail');
      assert.match(line(report, 'owner').detail, /lacks the owner role/);
      assert.strictEqual(line(report, 'template').status, 'skip');
    } finally {
      await fixture.close();
    }
  });

  it('fails an unreachable deployment and skips the rest', async () => {
    const report = await checkDeployment({ plan: defaultPlan(), connection: { url: 'http://127.0.0.1:9', token: 'x' }, machine: MACHINE });
    assert.strictEqual(line(report, 'reachable').status, 'fail');
    assert.ok(report.lines.filter((l) => l.id !== 'reachable').every((l) => l.status === 'skip'));
  });

  it('warns about leftovers of earlier runs, naming the cleanup command; warns that a plan this runner cannot hold needs shards', async () => {
    const sim = await startSimDeployment(FAST);
    const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
    try {
      await owner.createUser({
        email: `ab12cd34-stold123@scaletest.local`,
        username: 'scaletest-ab12cd34-stold123',
        name: 'Scale test user 0',
        password: 'Left-over-passw0rd!',
        login_type: 'password',
        organization_ids: [sim.organizationId],
      });
      const plan = defaultPlan();
      plan.users = 2000;
      const report = await checkDeployment({
        plan,
        connection: { url: sim.url, token: sim.ownerToken },
        machine: { cores: 2, memoryBytes: 4 * 1024 ** 3 },
      });
      assert.strictEqual(line(report, 'leftovers').status, 'warn');
      assert.match(line(report, 'leftovers').advice!, /coder-scaletest cleanup --run-id stold123/);
      assert.strictEqual(line(report, 'runner').status, 'warn');
      assert.match(line(report, 'runner').advice!, /--shards \d+/);
    } finally {
      owner.close();
      await sim.close();
    }
  });

  it('the CLI: `check --json` (exit 0 / 1), and `run` stops on a fail before creating anything unless --skip-check, which the report records', async () => {
    const sim = await startSimDeployment({ ...FAST, directSsh: true });
    const dir = tempDir();
    try {
      const write = (plan: Plan) => {
        const file = path.join(dir, `p${Math.random().toString(36).slice(2)}.scaletest.json`);
        fs.writeFileSync(file, JSON.stringify(plan));
        return file;
      };
      const env = { CODER_SESSION_TOKEN: sim.ownerToken };
      const good = smallPlan(sim, { users: 1, only: ['ssh'] });
      const ok = capture(env);
      assert.strictEqual(await main(['check', write(good), '--url', sim.url, '--json'], ok), 0, ok.out() + ok.err());
      const parsed = JSON.parse(ok.out()) as CheckReport;
      assert.strictEqual(parsed.passed, true);
      assert.strictEqual(parsed.lines.length, 17);

      const noApp = smallPlan(sim, { users: 1, only: ['apps'] });
      noApp.traffic.apps.slug = 'wsxx';
      const refused = capture(env);
      assert.strictEqual(await main(['check', write(noApp), '--url', sim.url], refused), 1);
      assert.match(refused.out(), /FAIL {2}Echo app +agent main has no app "wsxx"/);

      const out = path.join(dir, 'out');
      const stopped = capture(env);
      assert.strictEqual(await main(['run', write(noApp), '--url', sim.url, '--out', out], stopped), 1);
      assert.match(stopped.err(), /No users, workspaces or traffic were created\. Fix the failing lines, or run with --skip-check\./);
      assert.strictEqual(sim.stats().users, 1, 'nothing was created (the owner only)');

      const skipped = capture(env);
      await main(['run', write(good), '--url', sim.url, '--out', out, '--skip-check'], skipped);
      const [runId] = fs.readdirSync(out);
      const report = JSON.parse(fs.readFileSync(path.join(out, runId!, 'report.json'), 'utf8')) as { check?: unknown };
      assert.deepStrictEqual(report.check, { skipped: true });
    } finally {
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
