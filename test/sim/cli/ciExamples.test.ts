// examples/ci: the GitHub Actions workflow and the GitLab CI job are valid — GitHub's own
// workflow parser and schema (@actions/workflow-parser), GitLab's CI schema as gitlab-ci-local
// checks it — and the shell they run works: each script, as the CI would run it, against the
// simulator with the built CLI (dist/cli.js, where the runner image has /opt/coder-scaletest),
// on a two-user plan instead of the nightly one. Each validator is shown a broken copy too, so
// a validator that accepts anything fails here.
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import type { SimDeployment } from '../../../src/sim';
import { CLI } from '../../support/cliProcess';
import { smallPlan, startTestSim, tempDir } from '../../support/simRun';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLES = path.join(ROOT, 'examples/ci');
const GITHUB = path.join(EXAMPLES, 'github-actions.yml');
const GITLAB = path.join(EXAMPLES, 'gitlab-ci.yml');

/** GitHub's parser's errors per file (test/support/githubWorkflowErrors.mjs says why a process of its own). */
function githubErrors(...files: string[]): Record<string, string[]> {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/githubWorkflowErrors.mjs'), ...files], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.strictEqual(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, string[]>;
}

/** `gitlab-ci-local --list` on `content` as a project's .gitlab-ci.yml: its exit status and output. */
function gitlabList(content: string): { status: number | null; output: string } {
  const project = tempDir();
  fs.writeFileSync(path.join(project, '.gitlab-ci.yml'), content);
  // gitlab-ci-local uses Set.prototype.union (Node 22+): core-js adds it on Node 20.
  const result = spawnSync(
    process.execPath,
    ['--require', require.resolve('core-js/actual/set/union'), require.resolve('gitlab-ci-local'), '--list'],
    { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: project, NO_COLOR: '1' } },
  );
  fs.rmSync(project, { recursive: true, force: true });
  return { status: result.status, output: result.stdout + result.stderr };
}

/**
 * A script as the CI's shell runs it, in `cwd`, with `env` only (plus PATH and HOME). Not
 * spawnSync: the simulator answers from this process's event loop.
 */
function shell(script: string, cwd: string, env: Record<string, string>, options: string[] = []) {
  const child = spawn('bash', [...options, '-c', script], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  return new Promise<{ status: number | null; output: string }>((resolve) => child.once('close', (status) => resolve({ status, output })));
}

interface GithubStep {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

describe('examples/ci: the GitHub Actions workflow and the GitLab CI job', function () {
  this.timeout(180_000);
  let sim: SimDeployment;
  let dir: string;
  let planFile: string;
  before(async function () {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build first (node esbuild.mjs)`);
    sim = await startTestSim();
    dir = tempDir();
    planFile = path.join(dir, 'ci.scaletest.json');
    const plan = smallPlan(sim, { users: 2, only: ['pty'] });
    delete (plan as { deployment?: unknown }).deployment;
    fs.writeFileSync(planFile, JSON.stringify(plan));
  });
  after(async () => {
    await sim?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the workflow passes GitHub’s parser; a job without runs-on does not', () => {
    const broken = path.join(dir, 'broken.yml');
    fs.writeFileSync(broken, fs.readFileSync(GITHUB, 'utf8').replace(/^ {4}runs-on: .*\n/m, ''));
    const errors = githubErrors(GITHUB, broken);
    assert.deepStrictEqual(errors[GITHUB], []);
    assert.ok(
      errors[broken].some((error) => /runs-on/.test(error)),
      JSON.stringify(errors[broken]),
    );
  });

  it('the job passes GitLab’s CI schema (gitlab-ci-local); a misspelt keyword does not', () => {
    const content = fs.readFileSync(GITLAB, 'utf8');
    const valid = gitlabList(content);
    assert.strictEqual(valid.status, 0, valid.output);
    assert.match(valid.output, /json schema validated/);
    const broken = gitlabList(content.replace('interruptible:', 'interruptable:'));
    assert.notStrictEqual(broken.status, 0, broken.output);
    assert.match(broken.output, /'interruptable' property is not expected/);
  });

  it('the workflow’s steps run the plan, write what it uploads and publishes, and gate on the exit code', async () => {
    const workflow = parse(fs.readFileSync(GITHUB, 'utf8')) as {
      jobs: { scaletest: { env: Record<string, string>; steps: GithubStep[] } };
    };
    const steps = workflow.jobs.scaletest.steps;
    const step = (name: string) => steps.find((s) => s.name === name)!;
    const work = fs.mkdtempSync(path.join(dir, 'github-'));
    const outputs = path.join(work, 'github-output');
    const summary = path.join(work, 'step-summary.md');
    // The job's env, as the runner sets it from vars/secrets/inputs.
    const env = {
      CODER_URL: sim.url,
      CODER_SESSION_TOKEN: sim.ownerToken,
      PLAN: planFile,
      SCALETEST: `${process.execPath} ${CLI}`,
      GITHUB_OUTPUT: outputs,
      GITHUB_STEP_SUMMARY: summary,
    };
    assert.deepStrictEqual(Object.keys(workflow.jobs.scaletest.env).sort(), ['CODER_SESSION_TOKEN', 'CODER_URL', 'PLAN', 'SCALETEST']);

    const run = await shell(step('Run the plan').run!, work, env, ['-e']);
    assert.strictEqual(run.status, 0, run.output);
    assert.match(fs.readFileSync(outputs, 'utf8'), /^exit-code=0$/m);
    // What the upload and JUnit steps pick up: results/*/{report.html,report.json,junit.xml}.
    const [runId] = fs.readdirSync(path.join(work, 'results'));
    for (const file of ['report.html', 'report.json', 'junit.xml']) assert.ok(fs.existsSync(path.join(work, 'results', runId, file)), file);
    assert.match(fs.readFileSync(summary, 'utf8'), /PASS|passed/i, 'the summary reached the job summary by itself');
    assert.ok(!fs.readFileSync(summary, 'utf8').includes(sim.ownerToken), 'no token in the summary');

    // The cleanup step, as exit code 4 would run it: it names the run by its report's folder.
    const cleanup = await shell(step('Remove what the run left behind').run!, work, env, ['-e']);
    assert.strictEqual(cleanup.status, 0, cleanup.output);
    assert.match(cleanup.output, new RegExp(runId));

    // The gate passes 0 and fails every other code with its own annotation.
    const gate = step('Gate on the exit code');
    assert.strictEqual((await shell(gate.run!, work, { CODE: '0' }, ['-e'])).status, 0);
    const failed = await shell(gate.run!, work, { CODE: '4' }, ['-e']);
    assert.deepStrictEqual([failed.status, /^::error::Cleanup left resources behind/m.test(failed.output)], [4, true]);
  });

  it('the GitLab job’s script runs the plan and leaves the summary and JUnit where its artifacts point', async () => {
    const job = (parse(fs.readFileSync(GITLAB, 'utf8')) as Record<string, { script: string[]; variables: Record<string, string> }>)[
      'coder-scaletest'
    ];
    const work = fs.mkdtempSync(path.join(dir, 'gitlab-'));
    // GitLab's shell runs the script lines in one shell that stops at the first failing line.
    const run = await shell(
      job.script.join('\n'),
      work,
      {
        ...job.variables,
        CODER_URL: sim.url,
        CODER_SESSION_TOKEN: sim.ownerToken,
        PLAN: planFile,
        SCALETEST: `${process.execPath} ${CLI}`,
      },
      ['-e', '-o', 'pipefail'],
    );
    assert.strictEqual(run.status, 0, run.output);
    const [runId] = fs.readdirSync(path.join(work, 'results')).filter((name) => name !== 'summary.md');
    assert.ok(fs.existsSync(path.join(work, 'results', runId, 'junit.xml')), 'reports:junit results/*/junit.xml');
    assert.strictEqual(
      fs.readFileSync(path.join(work, 'results/summary.md'), 'utf8'),
      fs.readFileSync(path.join(work, 'results', runId, 'summary.md'), 'utf8'),
    );
  });
});
