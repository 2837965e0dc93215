import * as assert from 'assert';
import { defaultPlan } from '../../../src/engine';
import { renderManifests, type PodMonitor } from '../../../src/k8s/render';
import type { V1Job } from '@kubernetes/client-node';

const base = {
  plan: defaultPlan(),
  shards: 3,
  image: 'registry.example.com/coder-scaletest:0.1.0',
  namespace: 'scaletest',
  runId: 'stk8s1',
  startAt: 1_900_000_000_000,
  url: 'https://coder.example.com',
  tokenSecret: { name: 'coder-scaletest-token', key: 'token' },
};

describe('k8s render: the pods on Prometheus', () => {
  it('without a metrics port: no scrape annotations, no /metrics', () => {
    const job = renderManifests(base)[2] as V1Job;
    assert.strictEqual(job.spec!.template.metadata!.annotations, undefined);
    assert.ok(!job.spec!.template.spec!.containers[0].args!.includes('--metrics-address'));
  });

  it('with one: every pod serves /metrics on all interfaces, annotated for scraping; a PodMonitor selects the run', () => {
    const manifests = renderManifests({ ...base, metricsPort: 9464, podMonitor: true });
    const job = manifests[2] as V1Job;
    assert.deepStrictEqual(job.spec!.template.metadata!.annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9464',
      'prometheus.io/path': '/metrics',
    });
    const container = job.spec!.template.spec!.containers[0];
    assert.deepStrictEqual(container.args!.slice(-2), ['--metrics-address', '0.0.0.0:9464']);
    assert.deepStrictEqual(container.ports, [{ name: 'metrics', containerPort: 9464 }]);
    const monitor = manifests[3] as PodMonitor;
    assert.strictEqual(monitor.kind, 'PodMonitor');
    assert.deepStrictEqual(monitor.spec.selector.matchLabels, { 'coder-scaletest/run-id': 'stk8s1' });
    assert.strictEqual(job.spec!.template.metadata!.labels!['coder-scaletest/run-id'], 'stk8s1');
    assert.strictEqual(monitor.spec.podMetricsEndpoints[0].port, container.ports![0].name);
  });
});
