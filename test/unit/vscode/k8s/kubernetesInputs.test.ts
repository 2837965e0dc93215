import * as assert from 'assert';
import { checks, contextChoices, kubernetesSpec, parseContexts } from '../../../../src/vscode/k8s/kubernetesInputs';

describe('Run on Kubernetes… inputs (no VS Code)', () => {
  it('lists the kubeconfig contexts with the current one first, each with its cluster and namespace', () => {
    const contexts = parseContexts(
      JSON.stringify({
        current: 'prod',
        contexts: [
          { name: 'dev', cluster: 'kind-dev' },
          { name: 'prod', cluster: 'gke-prod', namespace: 'scale' },
        ],
      }),
    );
    assert.deepStrictEqual(contextChoices(contexts), [
      { label: 'prod', description: 'current · cluster gke-prod · namespace scale', namespace: 'scale' },
      { label: 'dev', description: 'cluster kind-dev', namespace: undefined },
    ]);
    assert.throws(() => parseContexts('{"current":"x"}'), /no list of contexts/);
  });

  it('checks each answer and says what is expected', () => {
    assert.strictEqual(checks.shards('3'), undefined);
    assert.match(checks.shards('0')!, /from 1 to 1000/);
    assert.match(checks.shards('2.5')!, /whole number/);
    assert.match(checks.image('has space:1')!, /image reference/);
    assert.match(checks.namespace('Scale')!, /lowercase/);
    assert.strictEqual(checks.secret('coder-scaletest-token'), undefined);
    assert.strictEqual(checks.secret('tok:value'), undefined);
    assert.match(checks.secret('tok:')!, /key after ":" is empty/);
    assert.match(checks.secret('a:b:c')!, /Secret name/);
  });

  it("builds the runner child's spec: the Secret reference, never a token", () => {
    const spec = kubernetesSpec({
      context: 'prod',
      shards: ' 4 ',
      image: 'ghcr.io/acme/coder-scaletest:0.1.0',
      namespace: 'scale',
      secret: 'owner-token',
    });
    assert.deepStrictEqual(spec, {
      shards: 4,
      image: 'ghcr.io/acme/coder-scaletest:0.1.0',
      namespace: 'scale',
      context: 'prod',
      kubeconfig: undefined,
      tokenSecret: { name: 'owner-token', key: 'token' },
    });
    assert.throws(
      () => kubernetesSpec({ context: 'prod', shards: '4', image: 'img', namespace: 'Bad_NS', secret: 's' }),
      /^Error: namespace: /,
    );
  });
});
