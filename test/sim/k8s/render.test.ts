import * as assert from 'assert';
import { execFileSync } from 'child_process';
import type { V1ConfigMap, V1Job, V1ServiceAccount } from '@kubernetes/client-node';
import { main, type CliIo } from '../../../src/cli/main';
import { defaultPlan } from '../../../src/engine/plan/plan';
import { validatePlan } from '../../../src/engine/plan/plan';
import { DASHBOARD_SESSION_LOAD } from '../../../src/engine/stages/dashboard/descriptor';
import { ECHO_CONNECTION_LOAD } from '../../../src/engine/stages/echo/descriptor';
import { CONNECTION_COSTS } from '../../../src/engine/plan/runnerCapacity';
import { registerStage } from '../../../src/engine/stages/registry';
import { renderManifests, shardResources, SIZING } from '../../../src/k8s/render';
import { toyStage } from '../../support/toyStage';

const KINDS: Record<string, string> = { ServiceAccount: 'V1ServiceAccount', ConfigMap: 'V1ConfigMap', Job: 'V1Job' };

/**
 * Round-trips each manifest through @kubernetes/client-node's own ObjectSerializer (in a plain
 * Node ESM process: the package is ESM-only). A field the client's models do not know is dropped,
 * so equality means every field is a real Kubernetes field of that kind.
 */
function throughClientModels(manifests: object[]): unknown[] {
  const script = `
    const { ObjectSerializer } = await import('@kubernetes/client-node/dist/gen/models/ObjectSerializer.js');
    const input = JSON.parse(process.argv[1]);
    process.stdout.write(JSON.stringify(input.map(([type, obj]) => ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, type), type))));`;
  const input = manifests.map((manifest) => [KINDS[(manifest as { kind: string }).kind], manifest]);
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(input)], { encoding: 'utf8', timeout: 30_000 }),
  );
}

function plan() {
  const plan = defaultPlan();
  plan.users = 10;
  plan.deployment.url = 'https://coder.example.com';
  return plan;
}

const OPTIONS = {
  shards: 3,
  image: 'ghcr.io/acme/coder-scaletest:0.1.0',
  namespace: 'scale',
  runId: 'stk8s01a',
  startAt: 1_800_000_000_000,
  url: 'https://coder.example.com',
  tokenSecret: { name: 'coder-owner', key: 'token' },
};

describe('k8s render', () => {
  it('renders an Indexed Job, the plan ConfigMap and a ServiceAccount without rights, as expected', () => {
    const [serviceAccount, configMap, job] = renderManifests({ plan: plan(), ...OPTIONS }) as [V1ServiceAccount, V1ConfigMap, V1Job];
    assert.deepStrictEqual(serviceAccount, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'coder-scaletest-stk8s01a',
        namespace: 'scale',
        labels: {
          'app.kubernetes.io/name': 'coder-scaletest',
          'app.kubernetes.io/instance': 'stk8s01a',
          'coder-scaletest/run-id': 'stk8s01a',
        },
      },
      automountServiceAccountToken: false,
    });
    assert.deepStrictEqual(JSON.parse(configMap.data!['plan.scaletest.json']), plan());
    const spec = job.spec!;
    assert.deepStrictEqual(
      { mode: spec.completionMode, completions: spec.completions, parallelism: spec.parallelism, backoffLimit: spec.backoffLimit },
      { mode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 0 },
    );
    const pod = spec.template.spec!;
    assert.strictEqual(pod.serviceAccountName, 'coder-scaletest-stk8s01a');
    assert.strictEqual(pod.automountServiceAccountToken, false);
    assert.strictEqual(pod.securityContext!.runAsNonRoot, true);
    const container = pod.containers[0];
    assert.deepStrictEqual(container.args, [
      'run',
      '/etc/coder-scaletest/plan.scaletest.json',
      '--shard',
      '$(SHARD_INDEX)/3',
      '--run-id',
      'stk8s01a',
      '--start-at',
      '1800000000000',
      '--shard-output',
      'ndjson',
      '--out',
      '/tmp/scaletest-results',
    ]);
    assert.deepStrictEqual(container.env, [
      { name: 'SHARD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
      { name: 'CODER_URL', value: 'https://coder.example.com' },
      { name: 'CODER_SESSION_TOKEN', valueFrom: { secretKeyRef: { name: 'coder-owner', key: 'token' } } },
    ]);
  });

  it('every field is one the Kubernetes client models know (validated by @kubernetes/client-node)', function () {
    this.timeout(30_000);
    const manifests = renderManifests({ plan: plan(), ...OPTIONS });
    assert.deepStrictEqual(throughClientModels(manifests), JSON.parse(JSON.stringify(manifests)));
    // The check can fail: a misspelt field does not survive the client's models.
    const [, , job] = manifests as [unknown, unknown, V1Job];
    const broken = { ...job, spec: { ...job.spec!, completionsMode: 'Indexed' } };
    assert.notDeepStrictEqual(throughClientModels([broken]), [JSON.parse(JSON.stringify(broken))]);
  });

  it("sizes each shard from the enabled stages' own loads (per connection, per dashboard session)", () => {
    const sized = plan();
    sized.users = 300;
    sized.traffic.dashboard.enabled = false;
    sized.traffic.ssh = { ...sized.traffic.ssh, transport: 'direct', directAddress: '10.0.0.5:2222' };
    // 100 users per shard × 3 echo stages = 300 connections.
    const memory = Math.ceil(SIZING.baseMemoryMiB + (300 * ECHO_CONNECTION_LOAD.memoryKiB) / 1024);
    const cpu = Math.ceil(SIZING.baseMilliCpu + 300 * ECHO_CONNECTION_LOAD.milliCpu);
    assert.deepStrictEqual(shardResources(sized, 3).requests, { cpu: `${cpu}m`, memory: `${memory}Mi` });
    sized.traffic.dashboard.enabled = true;
    sized.traffic.dashboard.maxBrowsers = 10;
    // 10 browser sessions per shard (maxBrowsers caps the 100 users).
    assert.deepStrictEqual(shardResources(sized, 3).requests, {
      cpu: `${Math.ceil(cpu + 10 * DASHBOARD_SESSION_LOAD.milliCpu)}m`,
      memory: `${Math.ceil(memory + 10 * DASHBOARD_SESSION_LOAD.memoryMiB)}Mi`,
    });
    // The coder-cli SSH transport adds a CLI process per connection: 100 per shard.
    const cli = validatePlan({ ...sized, traffic: { ...sized.traffic, ssh: { ...sized.traffic.ssh, transport: 'coder-cli' } } });
    assert.deepStrictEqual(shardResources(cli, 3).requests, {
      cpu: `${Math.ceil(cpu + 10 * DASHBOARD_SESSION_LOAD.milliCpu + 100 * CONNECTION_COSTS.sshCoderCli.cores * 1000)}m`,
      memory: `${Math.ceil(memory + 10 * DASHBOARD_SESSION_LOAD.memoryMiB + (100 * CONNECTION_COSTS.sshCoderCli.memoryBytes) / 1024 ** 2)}Mi`,
    });
    // A stage registered at run time counts with its own load, named nowhere here.
    const unregister = registerStage({ ...toyStage, runnerLoad: (_settings, users) => ({ memoryMiB: users, milliCpu: 0 }) });
    try {
      const withToy = validatePlan({ ...sized, traffic: { ...sized.traffic, toy: { enabled: true } } });
      assert.strictEqual(
        shardResources(withToy, 3).requests!.memory,
        `${Math.ceil(memory + 10 * DASHBOARD_SESSION_LOAD.memoryMiB + 100)}Mi`,
      );
    } finally {
      unregister();
    }
  });

  it('the CLI prints the documents and never the token; missing options exit 2', async () => {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaletest-k8s-'));
    try {
      const file = path.join(dir, 'p.scaletest.json');
      fs.writeFileSync(file, JSON.stringify(plan()));
      let out = '';
      let err = '';
      const io: CliIo = {
        stdout: { write: (t: string) => void (out += t) },
        stderr: { write: (t: string) => void (err += t) },
        env: { CODER_SESSION_TOKEN: 'secret-token-value-xyz' },
      };
      assert.strictEqual(await main(['k8s', 'render', file, '--shards', '2', '--image', 'img:1', '--run-id', 'stk8s01a'], io), 0, err);
      const documents = out
        .split(/^---$/m)
        .filter((text) => text.trim())
        .map((text) => JSON.parse(text));
      assert.deepStrictEqual(
        documents.map((d) => d.kind),
        ['ServiceAccount', 'ConfigMap', 'Job'],
      );
      assert.ok(!out.includes('secret-token-value-xyz'), 'the token is never in the manifests');
      err = '';
      assert.strictEqual(await main(['k8s', 'render', file, '--image', 'img:1'], io), 2);
      assert.match(err, /--shards N is required/);
      // A capacity search is judged on all users at once, so it is never split into shards.
      const searchPlan = { ...plan(), search: { from: 2, to: 8, step: 'double', resolution: 1 } } as Record<string, unknown>;
      delete searchPlan.users;
      fs.writeFileSync(file, JSON.stringify(searchPlan));
      err = '';
      out = '';
      assert.strictEqual(await main(['k8s', 'render', file, '--shards', '2', '--image', 'img:1'], io), 2);
      assert.match(err, /capacity search .* runs in one runner/);
      assert.strictEqual(out, '', 'no manifests for a search plan');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
