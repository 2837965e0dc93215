import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const setupModule = path.join(repoRoot, 'scripts', 'setup.mjs');

/** What the outer npm exports to `npm test` (seen under npm 11 on Node 20). */
const OUTER_NPM_ENV = {
  npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
  npm_node_execpath: '/usr/bin/node',
  npm_config_node_gyp: '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  npm_config_yes: '',
  npm_lifecycle_event: 'test',
  npm_package_json: '/somewhere/package.json',
  INIT_CWD: '/somewhere',
};

/** Calls one of setup.mjs's exported env builders in a child Node (setup.mjs is an ES module). */
function installEnvFromSetup(call: string, base: Record<string, string>): Record<string, string> {
  const script = `import * as setup from ${JSON.stringify(setupModule)};\nconst base = JSON.parse(process.env.BASE_ENV);\nprocess.stdout.write(JSON.stringify(${call}));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, BASE_ENV: JSON.stringify(base) },
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** The user agent an inner npm hands to a package's install script (what code-server's postinstall reads). */
function npmUserAgentSeenByScripts(env: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'setup-env-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({
        name: 'ua-probe',
        version: '1.0.0',
        scripts: { ua: 'node -e "process.stdout.write(process.env.npm_config_user_agent)"' },
      }),
    );
    const result = spawnSync('npm', ['run', '--silent', 'ua'], { encoding: 'utf8', env, cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('set-up: inner npm installs get a clean npm environment (issue 14)', () => {
  const polluted = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...OUTER_NPM_ENV };

  it('drops every variable the outer npm exported and keeps the rest of the environment', () => {
    const env = installEnvFromSetup('setup.cleanInstallEnv(base)', { ...polluted, KEEP_ME: 'yes' });
    assert.deepEqual(
      Object.keys(env).filter((key) => /^npm_/i.test(key) || key === 'INIT_CWD'),
      [],
    );
    assert.equal(env.KEEP_ME, 'yes');
    assert.equal(env.PATH, polluted.PATH);
  });

  it("gives code-server's install the Node that will run it, first on PATH, and yes=true", () => {
    const env = installEnvFromSetup("setup.codeServerInstallEnv(base, '/tmp/cs-tmp', '/opt/node24')", polluted);
    assert.equal(env.npm_config_user_agent, undefined);
    assert.equal(env.npm_config_yes, 'true');
    assert.equal(env.npm_config_nodedir, '/opt/node24');
    assert.equal(env.TMPDIR, '/tmp/cs-tmp');
    assert.ok(env.PATH.startsWith(`/opt/node24/bin${path.delimiter}`), env.PATH);
  });

  it('an inner npm then reports the Node that runs it, not the outer one', () => {
    const forged = { ...polluted, npm_config_user_agent: 'npm/0.0.0 node/v0.0.1 linux x64 workspaces/false' };
    // The bug itself: the forged agent leaks into an inner npm's config.
    assert.match(npmUserAgentSeenByScripts(forged), /node\/v0\.0\.1/);
    const cleaned = installEnvFromSetup('setup.cleanInstallEnv(base)', forged);
    const agent = npmUserAgentSeenByScripts(cleaned);
    assert.doesNotMatch(agent, /v0\.0\.1/);
    assert.match(agent, new RegExp(`node/${process.version.replace(/\./g, '\\.')}`));
  });
});
