// `template push` against the simulated deployment: the whole path coderd takes templates by
// (tar upload, version, import job and logs, template or promotion), idempotent, and coderd's
// own refusals.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../../src/cli/main';
import { CoderClient } from '../../../../src/coder/client';
import { packTemplate, pushTemplate, templateDirectory, TemplatePushError } from '../../../../src/engine/templates/push';
import { startSimDeployment, type SimDeployment } from '../../../../src/sim';
import { capture } from '../../../support/capture';
import { memberClient, startFixture } from '../../../support/simFixture';
import { tempDir } from '../../../support/simRun';

describe('template push against the simulated deployment', function () {
  this.timeout(60_000);
  let sim: SimDeployment;
  let owner: CoderClient;
  let dir: string;
  beforeEach(async () => {
    sim = await startSimDeployment({ template: false, buildDurationMs: 200, agentConnectDelayMs: 30, subdomainApps: true });
    owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
    dir = tempDir();
  });
  afterEach(async () => {
    owner.close();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('packs the same files into the same bytes, whatever their timestamps', () => {
    const copy = path.join(dir, 'docker');
    fs.cpSync(templateDirectory('docker'), copy, { recursive: true });
    const first = packTemplate(copy);
    fs.utimesSync(path.join(copy, 'main.tf'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.ok(first.equals(packTemplate(copy)));
    assert.strictEqual(first.subarray(257, 262).toString('latin1'), 'ustar');
  });

  it('creates the template from an empty deployment, shows the import logs, then is idempotent and promotes a changed copy', async () => {
    assert.deepStrictEqual(await owner.templates(sim.organizationId), [], 'the deployment starts without templates');
    const lines: string[] = [];
    const created = await pushTemplate({ owner, kind: 'docker', log: (line) => lines.push(line), pollMs: 20 });
    assert.strictEqual(created.action, 'created');
    assert.strictEqual(created.template.name, 'scaletest-docker');
    assert.deepStrictEqual(created.agents, [
      {
        name: 'main',
        apps: [
          { slug: 'wsec', subdomain: true },
          { slug: 'wsra', subdomain: true },
          { slug: 'wsdi', subdomain: true },
        ],
      },
    ]);
    assert.ok(
      lines.some((line) => /\[Parsing template parameters\]/.test(line)),
      `the import job's logs are shown:\n${lines.join('\n')}`,
    );

    // A workspace built from it has the template's agent and apps.
    const { client } = await memberClient({ sim, owner, requests: [], close: async () => undefined });
    const workspace = await client.createWorkspace(sim.organizationId, 'me', { name: 'pushed', template_id: created.template.id });
    const ready = await client.waitForAgents(workspace.id, { pollMs: 20 });
    const agent = ready.latest_build.resources![0]!.agents![0]!;
    assert.strictEqual(agent.name, 'main');
    assert.deepStrictEqual(
      agent.apps!.map((app) => [app.slug, app.subdomain_name]),
      ['wsec', 'wsra', 'wsdi'].map((slug) => [slug, `${slug}--pushed--${ready.owner_name}`]),
    );

    const again = await pushTemplate({ owner, kind: 'docker', log: () => undefined, pollMs: 20 });
    assert.strictEqual(again.action, 'unchanged');
    assert.strictEqual(again.versionId, created.versionId);

    const changed = path.join(dir, 'docker');
    fs.cpSync(templateDirectory('docker'), changed, { recursive: true });
    fs.appendFileSync(path.join(changed, 'main.tf'), '\n# a local change\n');
    const promoted = await pushTemplate({ owner, kind: 'docker', directory: changed, log: () => undefined, pollMs: 20 });
    assert.strictEqual(promoted.action, 'promoted');
    assert.notStrictEqual(promoted.versionId, created.versionId);
    assert.strictEqual((await owner.templateByName(sim.organizationId, 'scaletest-docker')).active_version_id, promoted.versionId);
  });

  it("fails with coderd's import error when a variable has no value, and succeeds with --var", async () => {
    const custom = path.join(dir, 'needs-var');
    fs.mkdirSync(custom);
    fs.writeFileSync(
      path.join(custom, 'main.tf'),
      `variable "namespace" {\n  type = string\n}\nresource "coder_agent" "main" {\n  os = "linux"\n}\n`,
    );
    await assert.rejects(
      pushTemplate({ owner, kind: 'kubernetes', name: 'needs-var', directory: custom, log: () => undefined, pollMs: 20 }),
      (error: Error) =>
        error instanceof TemplatePushError &&
        /failed: required template variables need values: namespace — give each variable a value with --var/.test(error.message),
    );
    assert.deepStrictEqual(await owner.templates(sim.organizationId), [], 'no template is created from a failed import');
    const pushed = await pushTemplate({
      owner,
      kind: 'kubernetes',
      name: 'needs-var',
      directory: custom,
      variables: { namespace: 'scaletest' },
      log: () => undefined,
      pollMs: 20,
    });
    assert.strictEqual(pushed.action, 'created');
  });

  it("the CLI pushes, says what to do next, and passes on coderd's refusal of a non-owner (exit 3)", async () => {
    const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
    assert.strictEqual(await main(['template', 'push', '--kind', 'docker', '--url', sim.url], io), 0, io.err());
    assert.match(
      io.out(),
      /template scaletest-docker created on .*\nnext: set "deployment": \{ "template": "scaletest-docker" \} in the plan, then run coder-scaletest check PLAN/,
    );
    assert.match(io.err(), /uploading .*templates\/docker \(\d+ bytes, tar\)/);

    const fixture = await startFixture();
    try {
      const member = await memberClient(fixture);
      const memberIo = capture({ CODER_SESSION_TOKEN: member.client.connection.token });
      assert.strictEqual(await main(['template', 'push', '--kind', 'docker', '--url', fixture.sim.url], memberIo), 3, memberIo.err());
      assert.match(
        memberIo.err(),
        /coderd refused the push: POST \/api\/v2\/organizations\/\{organization\}\/templateversions failed with 403: Forbidden\.\nPushing templates needs an owner or template admin token\./,
      );
    } finally {
      await fixture.close();
    }
    const bad = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
    assert.strictEqual(await main(['template', 'push', '--kind', 'vms', '--url', sim.url], bad), 2);
    assert.match(bad.err(), /--kind must be kubernetes or docker, got "vms"/);
  });
});
