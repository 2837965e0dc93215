// `coder-scaletest k8s run` end to end without a cluster: the built CLI (dist/cli.js: the
// Kubernetes client is ESM-only and runs bundled, not under mocha's loader) against
// MockKubernetesApi, whose pods are real shard processes against the simulated deployment.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RunReport } from '../../src/engine/outputs/report/report';
import type { SimDeployment } from '../../src/sim';
import type { RunSnapshot } from '../../src/protocol/snapshot';
import { listKubeContexts } from '../../src/vscode/k8s/kubernetesInputs';
import { startRunInChild } from '../../src/vscode/processBackend';
import { leftovers, smallPlan, startTestSim } from '../support/simRun';
import { CLI, runCli } from '../support/cliProcess';
import { MockKubernetesApi } from './fakeKubeApi.mock';

/**
 * Nothing of the run left in the cluster. A Job deleted with propagationPolicy Foreground (as
 * the launcher deletes it) goes once its pods are gone, which can be a moment after the run
 * reported its end — on a real cluster as in the mock — so the cluster gets a bounded while.
 */
async function assertClusterEmpty(kube: MockKubernetesApi, message?: string): Promise<void> {
  for (const until = Date.now() + 10_000; kube.leftovers().length > 0 && Date.now() < until;)
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepStrictEqual(kube.leftovers(), [], message);
}

describe('k8s run against MockKubernetesApi (pods are shard processes against the simulated deployment)', function () {
  this.timeout(120_000);
  let sim: SimDeployment;
  let kube: MockKubernetesApi;
  let dir: string;
  let planFile: string;
  let longPlanFile: string;
  let kubeconfig: string;

  before(async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is built (npm run build)`);
    sim = await startTestSim();
    kube = new MockKubernetesApi();
    await kube.start();
    kube.namespaces.add('scale');
    kube.secrets.set('scale/coder-scaletest-token', { token: sim.ownerToken });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaletest-k8s-run-'));
    planFile = path.join(dir, 'sharded.scaletest.json');
    fs.writeFileSync(planFile, JSON.stringify(smallPlan(sim, { users: 6, only: ['ssh', 'pty'] })));
    // For the kill and abort tests: 8 s of traffic, so a merged "running" snapshot is always seen before it ends.
    longPlanFile = path.join(dir, 'longer.scaletest.json');
    fs.writeFileSync(longPlanFile, JSON.stringify(smallPlan(sim, { users: 6, slotSeconds: 4, only: ['ssh', 'pty'] })));
    kubeconfig = path.join(dir, 'kubeconfig');
    kube.writeKubeconfig(kubeconfig, { namespace: 'scale' });
  });
  after(async () => {
    await kube?.close();
    await sim?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    kube.requests.length = 0;
    kube.terminationGraceMs = 30_000;
  });

  const start = (out: string, extra: string[] = [], plan = planFile) =>
    // HOME in a temporary directory: never the machine's own ~/.kube/config.
    runCli(
      [
        'k8s',
        'run',
        plan,
        '--shards',
        '3',
        '--image',
        'registry.test/coder-scaletest:0.1.0',
        '--kubeconfig',
        kubeconfig,
        '--start-delay',
        '8',
        '--url',
        sim.url,
        '--out',
        out,
        '--ndjson',
        ...extra,
      ],
      sim,
      {
        HOME: os.tmpdir(),
      },
    );
  const readReport = (out: string): RunReport => {
    const [runId] = fs.readdirSync(out);
    return JSON.parse(fs.readFileSync(path.join(out, runId!, 'report.json'), 'utf8')) as RunReport;
  };
  const jobDeletions = () => kube.requests.filter((request) => request.method === 'DELETE' && request.path.includes('/jobs/'));

  it('three pods: every user prepared exactly once, one merged verdict, nothing left on the deployment or the cluster', async () => {
    const out = path.join(dir, 'pass');
    const run = start(out);
    const { code, stdout, stderr } = await run.done;
    assert.strictEqual(code, 0, stderr);
    const report = readReport(out);
    assert.strictEqual(report.verdict, 'pass');
    const prepare = report.stages.find((stage) => stage.name === 'prepare')!;
    assert.deepStrictEqual(prepare.progress && [prepare.progress.done, prepare.progress.total, prepare.progress.failed], [6, 6, 0]);
    assert.deepStrictEqual(report.cleanup, { deletedUsers: 6, deletedWorkspaces: 6, leftovers: [] });
    const pty = report.stages.find((stage) => stage.name === 'pty')!;
    assert.ok(pty.latency.count > 0 && pty.completed === pty.latency.count, "the merged histogram holds every pod's round trips");
    // The pods ran what k8s render prints: shard I/3 of one run id, the token from the Secret.
    const created = kube.requests.filter((request) => request.method === 'POST').map((request) => request.path);
    assert.deepStrictEqual(created, [
      '/api/v1/namespaces/scale/serviceaccounts',
      '/api/v1/namespaces/scale/configmaps',
      '/apis/batch/v1/namespaces/scale/jobs',
    ]);
    assert.ok(!(stdout + stderr).includes(sim.ownerToken), 'the token is never printed');
    const snapshots = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { runId: string });
    assert.ok(snapshots.length > 3 && snapshots.every((snapshot) => snapshot.runId === report.runId), 'one merged live view');
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    await assertClusterEmpty(kube, 'the Job, ConfigMap and ServiceAccount were deleted');
  });

  it('a pod killed mid-run: the shard is named lost, the Job deleted, every shard cleaned up, exit 5 (runner)', async () => {
    const out = path.join(dir, 'killed');
    const run = start(out, [], longPlanFile);
    await run.waitFor(/"status":"running"/, 60_000);
    kube.podProcess(1)!.kill('SIGKILL');
    const { code, stdout, stderr } = await run.done;
    assert.strictEqual(code, 5, stderr);
    const report = readReport(out);
    assert.strictEqual(report.verdict, 'fail');
    assert.match(report.reason!, /shard 1\/3 was lost \(its pod failed: its container exited with code 137/);
    assert.match(stdout + stderr, /lost\s+shard 1\/3/);
    assert.deepStrictEqual(
      jobDeletions().map((request) => request.query.propagationPolicy),
      ['Foreground'],
      'the Job was deleted once, its pods with it',
    );
    assert.match(stderr, /torn down: deleting what is left of every shard's users/);
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    await assertClusterEmpty(kube);
  });

  it('SIGINT to k8s run: the Job is deleted, every shard cleaned up, exit 130', async () => {
    const out = path.join(dir, 'aborted');
    const run = start(out, [], longPlanFile);
    await run.waitFor(/"status":"running"/, 60_000);
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    assert.strictEqual(code, 130, stderr);
    assert.strictEqual(readReport(out).verdict, 'fail');
    assert.strictEqual(jobDeletions().length >= 1, true, 'the Job was deleted');
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    await assertClusterEmpty(kube);
  });

  it("the extension's path: the runner child (dist/cli.js __runner) runs the plan on Kubernetes and relays the merged snapshots", async () => {
    const contexts = await listKubeContexts({ modulePath: CLI }, { kubeconfig });
    assert.deepStrictEqual(contexts, {
      current: 'mock',
      contexts: [
        { name: 'mock', cluster: 'mock', namespace: 'scale' },
        { name: 'mock-other', cluster: 'mock' },
      ],
    });
    const logs: string[] = [];
    const test = await startRunInChild(
      { modulePath: CLI },
      {
        planText: fs.readFileSync(planFile, 'utf8'),
        planSource: planFile,
        connection: { url: sim.url, token: sim.ownerToken },
        outDir: path.join(dir, 'extension'),
        signal: new AbortController().signal,
        log: (_level, line) => logs.push(line),
        kubernetes: {
          shards: 2,
          image: 'registry.test/coder-scaletest:0.1.0',
          kubeconfig,
          context: 'mock',
          tokenSecret: { name: 'coder-scaletest-token', key: 'token' },
          startDelayS: 8,
        },
      },
    );
    const seen: RunSnapshot[] = [];
    test.subscribe((snapshot) => seen.push(snapshot));
    const { snapshot, reportDir } = await test.done;
    assert.strictEqual(snapshot.verdict, 'pass', snapshot.reason);
    assert.ok(
      seen.some((live) => live.status === 'running' && live.runId === test.runId),
      'the merged live snapshots reached the host',
    );
    assert.ok(reportDir && fs.existsSync(path.join(reportDir, 'report.json')));
    assert.ok(
      logs.some((line) => /creating 2 shard pods in namespace scale of context mock/.test(line)),
      logs.join('\n'),
    );
    assert.ok(!logs.join('\n').includes(sim.ownerToken), 'the token never reaches the log');
    assert.deepStrictEqual(await leftovers(sim), { users: [], workspaces: [] });
    await assertClusterEmpty(kube);
    await assert.rejects(
      listKubeContexts({ modulePath: CLI }, { kubeconfig: path.join(dir, 'nope') }),
      /--kubeconfig .*nope: no such file/,
    );
  });

  it('bad kubeconfig, missing context or namespace, unreachable cluster, no rights: one clear error, nothing created', async () => {
    const out = path.join(dir, 'errors');
    const cases: Array<[string[], number, RegExp]> = [
      [['--kubeconfig', path.join(dir, 'missing')], 2, /--kubeconfig .*missing: no such file; pass --kubeconfig FILE or set KUBECONFIG/],
      [['--context', 'prod'], 2, /context "prod" is not in the kubeconfig \(available: mock, mock-other\)/],
      [
        ['--namespace', 'nowhere'],
        2,
        /namespace "nowhere" does not exist in context "mock"; create it \(kubectl create namespace nowhere\)/,
      ],
    ];
    for (const [extra, expected, message] of cases) {
      const { code, stderr } = await start(out, extra).done;
      assert.strictEqual(code, expected, stderr);
      assert.match(stderr, message);
    }
    const unreachable = path.join(dir, 'kubeconfig-unreachable');
    fs.writeFileSync(unreachable, fs.readFileSync(kubeconfig, 'utf8').replace(kube.url, 'http://127.0.0.1:9'));
    const closed = await start(out, ['--kubeconfig', unreachable]).done;
    assert.strictEqual(closed.code, 3, closed.stderr);
    assert.match(
      closed.stderr,
      /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:9 \(context "mock"\) to create serviceaccount .*ECONNREFUSED/,
    );
    const noRights = path.join(dir, 'kubeconfig-no-rights');
    kube.writeKubeconfig(noRights, { namespace: 'scale', token: 'mock-kube-token-no-rights' });
    const { code, stderr } = await start(out, ['--kubeconfig', noRights]).done;
    assert.strictEqual(code, 3, stderr);
    assert.match(
      stderr,
      /forbidden \(403\) to create serviceaccount .* in namespace "scale".*needs to create, get and delete serviceaccounts/,
    );
    await assertClusterEmpty(kube);
  });
});
