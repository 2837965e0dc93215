// The spec check must catch what it promises to catch: run it on copies of Coder's spec with
// one deliberate difference each.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const repoRoot = path.resolve(__dirname, '../../..');
const specPath = path.resolve(repoRoot, '../shared/coder-api/swagger.json');

function runCheck(spec: unknown): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swagger-'));
  const file = path.join(dir, 'swagger.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-swagger.mjs', file], { cwd: repoRoot, encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: result.status, output: result.stdout + result.stderr };
}

// The spec is reference data that stays out of the repository (it sits beside the clone in CI,
// which also runs `npm run check:swagger`); a clone elsewhere has no spec to test against.
const describeWithSpec: (title: string, suite: (this: Mocha.Suite) => void) => void = fs.existsSync(specPath)
  ? describe
  : (title) => console.log(`  (${title}: no spec at ${specPath}; suite not run)`);

describeWithSpec('check-swagger', function () {
  this.timeout(30_000);
  let spec: any; // untyped JSON
  before(() => {
    spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  });

  it('passes on the real spec', () => {
    const result = runCheck(spec);
    assert.strictEqual(result.status, 0, result.output);
    assert.match(result.output, /schemas and \d+ routes match/);
  });

  it('reports invented fields, type and enum differences, and missing routes, parameters and bodies', () => {
    const broken = structuredClone(spec);
    delete broken.definitions['codersdk.User'].properties.email;
    broken.definitions['codersdk.Workspace'].properties.name.type = 'integer';
    broken.definitions['codersdk.WorkspaceAgentStatus'].enum = ['connecting', 'connected', 'disconnected'];
    broken.definitions['codersdk.WorkspaceBuild'].properties.job = { $ref: '#/definitions/codersdk.Response' };
    delete broken.paths['/workspacebuilds/{workspacebuild}/cancel'];
    broken.paths['/workspaces/{workspace}'].get.parameters = broken.paths['/workspaces/{workspace}'].get.parameters.filter(
      (p: { name: string }) => p.name !== 'include_deleted',
    );
    broken.paths['/users/login'].post.responses['201'].schema = { $ref: '#/definitions/codersdk.Response' };
    const result = runCheck(broken);
    assert.strictEqual(result.status, 1, result.output);
    for (const expected of [
      'codersdk.User.email: not in the spec (invented field)',
      'codersdk.Workspace.name: type string, spec integer',
      'codersdk.WorkspaceAgentStatus: enum',
      'codersdk.WorkspaceBuild.job: spec refers to codersdk.Response, ours is codersdk.ProvisionerJob',
      'route cancelBuild (PATCH /api/v2/workspacebuilds/{workspacebuild}/cancel): not in the spec',
      'query parameter "include_deleted" not in the spec',
      'route login (POST /api/v2/users/login) response: spec refers to codersdk.Response, ours is codersdk.LoginWithPasswordResponse',
    ]) {
      assert.ok(result.output.includes(expected), `missing "${expected}" in:\n${result.output}`);
    }
    assert.match(result.output, /check-swagger: 7 difference\(s\)/);
  });

  it('allows documented exceptions where the Go types win, and reports one that is no longer needed', () => {
    const passing = runCheck(spec);
    assert.match(passing.output, /codersdk\.WorkspaceConnectionLatencyMS\.P50: the spec says "p50"; the Go struct has no JSON tags/);
    const fixed = structuredClone(spec);
    const latency = fixed.definitions['codersdk.WorkspaceConnectionLatencyMS'].properties;
    latency.P50 = latency.p50;
    delete latency.p50;
    const result = runCheck(fixed);
    assert.strictEqual(result.status, 1, result.output);
    assert.ok(result.output.includes('codersdk.WorkspaceConnectionLatencyMS.P50: documented exception no longer needed'), result.output);
    assert.match(result.output, /check-swagger: 1 difference\(s\)/);
  });
});
