import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CoderClient } from '../../../src/coder/client';
import { main } from '../../../src/cli/main';
import { capture } from '../../support/capture';
import type { SimDeployment } from '../../../src/sim';
import { leftovers, smallPlan, startTestSim, tempDir } from '../../support/simRun';

describe('CLI', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('init writes the default plan, validate accepts it, init refuses to overwrite', async () => {
    const file = path.join(dir, 'reference.scaletest.json');
    const io = capture();
    assert.strictEqual(await main(['init', file], io), 0);
    assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).timeline.pty[0], 1);
    assert.strictEqual(await main(['validate', file], io), 0);
    assert.match(io.out(), /valid plan "reference scale test": 10 users/);
    const again = capture();
    assert.strictEqual(await main(['init', file], again), 2);
    assert.match(again.err(), /already exists; pass --force/);
  });

  it('bad usage and invalid plans exit 2 with the field and the problem', async () => {
    const file = path.join(dir, 'bad.scaletest.json');
    fs.writeFileSync(file, JSON.stringify({ users: -1, cleanup: { strategy: 'later' } }));
    const io = capture();
    assert.strictEqual(await main(['validate', file], io), 2);
    assert.match(io.err(), /users: must be >= 1/);
    assert.match(io.err(), /cleanup\.strategy: must be one of always, on-success, on-failure, never/);
    fs.writeFileSync(file, '{ "users": 3, }');
    const syntax = capture();
    assert.strictEqual(await main(['validate', file], syntax), 2);
    assert.match(syntax.err(), /not valid JSON/);
    const unknown = capture();
    assert.strictEqual(await main(['frobnicate'], unknown), 2);
    assert.match(unknown.err(), /unknown command "frobnicate"/);
    const noToken = capture({ CODER_URL: 'http://127.0.0.1:1' });
    fs.writeFileSync(file, '{}');
    assert.strictEqual(await main(['run', file], noToken), 2);
    assert.match(noToken.err(), /no session token: pass --token or set CODER_SESSION_TOKEN/);
    const version = capture();
    assert.strictEqual(await main(['--version'], version), 0);
    assert.match(version.out(), /^\d+\.\d+\.\d+\n$/);
  });

  it("COMMAND --help prints that command's usage and exits 0", async () => {
    for (const [command, option] of [
      ['run', '--coder-binary'],
      ['demo', '--slot-seconds'],
      ['cleanup', '--run-id'],
      ['init', '--force'],
      ['sim', '--faults'],
    ]) {
      const io = capture();
      assert.strictEqual(await main([command!, '--help'], io), 0, io.err());
      assert.match(io.out(), new RegExp(`^usage: coder-scaletest ${command} `));
      assert.ok(io.out().includes(`  ${option} `), `${command} --help lists ${option}`);
      assert.strictEqual(io.err(), '');
    }
    const short = capture();
    assert.strictEqual(await main(['validate', '-h'], short), 0);
    assert.match(short.out(), /^usage: coder-scaletest validate PLAN\n/);
  });

  it('a bad option is one line naming the option and what is expected, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['demo', '--bogus'], 'unknown option --bogus for "demo"; see coder-scaletest demo --help'],
      [['run', 'p.scaletest.json', '-x'], 'unknown option -x for "run"; see coder-scaletest run --help'],
      [['run', 'p.scaletest.json', '--out'], '--out needs a value: a directory for the reports; see coder-scaletest run --help'],
      // A following option is not taken as the value.
      [
        ['run', 'p.scaletest.json', '--out', '--ndjson'],
        '--out needs a value: a directory for the reports; see coder-scaletest run --help',
      ],
      [['demo', '--ndjson=yes'], '--ndjson takes no value, got "yes"; see coder-scaletest demo --help'],
      [['demo', '--users', '0'], '--users must be a whole number from 1 to 200, got "0"; see coder-scaletest demo --help'],
      [['demo', '--slot-seconds', 'soon'], '--slot-seconds must be a number from 1 to 600, got "soon"; see coder-scaletest demo --help'],
      [
        ['cleanup', '--run-id', 'abc', '--concurrency', 'many'],
        '--concurrency must be a whole number from 1 to 100, got "many"; see coder-scaletest cleanup --help',
      ],
    ];
    for (const [argv, message] of cases) {
      const io = capture({ CODER_URL: 'http://127.0.0.1:1', CODER_SESSION_TOKEN: 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB' });
      assert.strictEqual(await main(argv, io), 2, argv.join(' '));
      assert.strictEqual(io.err(), `error: ${message}\n`);
      assert.strictEqual(io.out(), '');
    }
  });

  it('setup mistakes exit 2 before anything is created: missing --ca-file, unwritable --out, JSON syntax with line and column, BOM accepted', async () => {
    const file = path.join(dir, 'plan.scaletest.json');
    fs.writeFileSync(file, '\ufeff{}');
    const env = { CODER_URL: 'http://127.0.0.1:1', CODER_SESSION_TOKEN: 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB' };
    const bom = capture();
    assert.strictEqual(await main(['validate', file], bom), 0, bom.err());
    const caFile = capture(env);
    assert.strictEqual(await main(['run', file, '--ca-file', path.join(dir, 'missing.pem')], caFile), 2);
    assert.match(caFile.err(), /--ca-file .*missing\.pem: no such readable file/);
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, '');
    const out = capture(env);
    assert.strictEqual(await main(['run', file, '--out', path.join(blocker, 'reports')], out), 2);
    assert.match(out.err(), /--out .*: cannot write reports there \(ENOTDIR\)/);
    fs.writeFileSync(file, '{\n  "users": 3,\n}');
    const syntax = capture();
    assert.strictEqual(await main(['validate', file], syntax), 2);
    assert.match(syntax.err(), /not valid JSON \(.* at line 3 column 1\)/);
  });

  it('credentials in the deployment URL never reach the output', async () => {
    const file = path.join(dir, '..', `${path.basename(dir)}-plan.scaletest.json`);
    fs.writeFileSync(file, JSON.stringify({ deployment: { url: 'http://plan:hunter2secret@127.0.0.1:1' } }));
    const io = capture({ CODER_SESSION_TOKEN: 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB' });
    const code = await main(['run', file, '--url', 'http://admin:hunter2secret@127.0.0.1:1', '--out', dir], io).finally(() =>
      fs.rmSync(file, { force: true }),
    );
    assert.strictEqual(code, 3);
    assert.ok(
      fs.readdirSync(dir, { recursive: true }).some((name) => String(name).endsWith('report.json')),
      'a report was written',
    );
    assert.match(io.err(), /ignoring the user name and password in the deployment URL/);
    assert.ok(!io.err().includes('hunter2secret') && !io.out().includes('hunter2secret'));
    for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
      const full = path.join(dir, name);
      if (fs.statSync(full).isFile()) assert.ok(!fs.readFileSync(full, 'utf8').includes('hunter2secret'), `${name} holds no password`);
    }
  });

  it('an unreachable deployment exits 3 and says what to check', async () => {
    const file = path.join(dir, 'plan.scaletest.json');
    fs.writeFileSync(file, '{}');
    const io = capture({ CODER_SESSION_TOKEN: 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB' });
    assert.strictEqual(await main(['run', file, '--url', 'http://127.0.0.1:1', '--out', dir], io), 3);
    assert.match(io.err(), /Cannot reach the Coder deployment at http:\/\/127\.0\.0\.1:1.*Nothing is listening there/);
    assert.ok(!io.err().includes('BBBBBBBBBB'));
  });

  describe('against the simulated deployment', () => {
    let sim: SimDeployment;
    beforeEach(async () => (sim = await startTestSim()));
    afterEach(async () => sim.close());

    function writePlan(mutate: (plan: ReturnType<typeof smallPlan>) => void = () => {}): string {
      const plan = smallPlan(sim, { users: 2, only: ['ssh'] });
      mutate(plan);
      const file = path.join(dir, 'small.scaletest.json');
      fs.writeFileSync(file, JSON.stringify(plan));
      return file;
    }

    it('run passes (exit 0) and --ndjson writes one complete snapshot per line', async () => {
      const io = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken });
      assert.strictEqual(await main(['run', writePlan(), '--out', dir, '--ndjson'], io), 0, io.err());
      const snapshots = io
        .out()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.ok(snapshots.length >= 2);
      assert.strictEqual(snapshots.at(-1).verdict, 'pass');
      assert.match(io.err(), /PASSED/);
      assert.ok(!io.out().includes(sim.ownerToken) && !io.err().includes(sim.ownerToken));
    });

    it('failed thresholds exit 1', async () => {
      const file = writePlan(
        (plan) => (plan.thresholds = [{ expression: 'ssh.rtt.p50 < 0.001ms', abortOnFail: false, abortAfterSeconds: 0 }]),
      );
      const io = capture();
      assert.strictEqual(await main(['run', file, '--url', sim.url, '--token', sim.ownerToken, '--out', dir], io), 1);
      assert.match(io.out(), /FAILED: 1 threshold\(s\) failed: ssh\.rtt\.p50 was/);
    });

    it('an interrupt exits 130 after cleaning up', async () => {
      const controller = new AbortController();
      const io = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken }, controller.signal);
      setTimeout(() => controller.abort(), 1500);
      assert.strictEqual(await main(['run', writePlan(), '--out', dir], io), 130);
      assert.match(io.out(), /ABORTED/);
      assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    });

    it('an interrupted cleanup starts no deletions, names what is left and exits 130', async () => {
      const io = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken });
      assert.strictEqual(await main(['run', writePlan((plan) => (plan.cleanup.strategy = 'never')), '--out', dir], io), 0);
      const runId = /coder-scaletest cleanup --run-id (\w+)/.exec(io.out())![1];
      const interrupted = new AbortController();
      interrupted.abort();
      const cleanup = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken }, interrupted.signal);
      assert.strictEqual(await main(['cleanup', '--run-id', runId!], cleanup), 130);
      const left = await leftovers(sim);
      assert.strictEqual(left.users.length, 2);
      const names = [...left.workspaces.map((n) => `workspace ${n}`), ...left.users.map((n) => `user ${n}`)];
      assert.match(cleanup.out(), /^run \w+: deleted 0 workspace\(s\) and 0 user\(s\); interrupted, left behind: /);
      for (const name of names) assert.ok(cleanup.out().includes(name), `${name} is named`);
    });

    it('cleanup --run-id removes a kept run and nothing else', async () => {
      const io = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken });
      assert.strictEqual(await main(['run', writePlan((plan) => (plan.cleanup.strategy = 'never')), '--out', dir], io), 0);
      const runId = /coder-scaletest cleanup --run-id (\w+)/.exec(io.out())![1];
      assert.strictEqual((await leftovers(sim)).users.length, 2);
      // A user of another run, whose name contains this run id as a substring, must survive.
      const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
      const org = (await owner.organizations())[0];
      await owner.createUser({
        email: 'decoy@scaletest.local',
        username: `scaletest-decoy123-${runId}x`,
        password: 'Decoy-passw0rd',
        login_type: 'password',
        organization_ids: [org.id],
      });
      owner.close();

      const listing = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken });
      assert.strictEqual(await main(['cleanup'], listing), 2);
      assert.match(listing.err(), new RegExp(`missing --run-id[\\s\\S]*${runId}  \\(2 users\\)`));

      const cleanup = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken });
      assert.strictEqual(await main(['cleanup', '--run-id', runId], cleanup), 0, cleanup.err());
      assert.match(cleanup.out(), /deleted 2 workspace\(s\) and 2 user\(s\)/);
      assert.deepStrictEqual(await leftovers(sim), { users: [`scaletest-decoy123-${runId}x`], workspaces: [] });
      const badId = capture({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken });
      assert.strictEqual(await main(['cleanup', '--run-id', 'x'], badId), 2);
      assert.match(badId.err(), /is not a run id/);
    });
  });
});
