// `coder-scaletest k8s render PLAN --shards N --image IMAGE`: prints the manifests of a sharded
// run on Kubernetes (docs/kubernetes.md). `k8s run` is not built yet: the manifests are applied
// with kubectl and the shards' logs merged as the docs describe.
import { checkRunId, newRunId } from '../engine/naming';
import type { Plan } from '../engine/plan';
import { manifestsText, renderManifests } from '../k8s/render';
import { parseCommandArgs, stringOption, UsageError, wholeNumberOption, type CommandSpec } from './args';
import type { Output } from './progress';

export const K8S_COMMAND: CommandSpec = {
  name: 'k8s',
  summary: 'print the Kubernetes manifests of a sharded run (k8s render PLAN)',
  usage: 'render PLAN --shards N --image IMAGE [options]',
  description: `Prints the manifests of a sharded run (an Indexed Job, one pod per shard; a ConfigMap with the plan; a ServiceAccount with no rights) as YAML documents, for kubectl apply -f -. The owner's session token comes from a Secret you create first; it is never written into the manifests. See docs/kubernetes.md.`,
  options: [
    { flags: '--shards <N>', help: 'shards (pods), 1 to 1000', expects: 'a whole number of shards from 1 to 1000' },
    { flags: '--image <IMAGE>', help: 'the runner image (see the Dockerfile)', expects: 'a container image reference, e.g. ghcr.io/acme/coder-scaletest:0.1.0' },
    { flags: '--namespace <NS>', help: 'the namespace (default: default)', expects: 'a Kubernetes namespace name' },
    { flags: '--url <URL>', help: "the deployment as the pods reach it (default: the plan's deployment.url)", expects: 'the deployment URL' },
    { flags: '--token-secret <NAME[:KEY]>', help: 'the Secret holding the owner session token (default: coder-scaletest-token:token)', expects: 'a Secret name, optionally :key' },
    { flags: '--run-id <ID>', help: 'the run id (default: a new one)', expects: 'a run id: 4-12 lowercase letters or digits, starting with a letter' },
    { flags: '--start-delay <S>', help: 'seconds from now to the agreed traffic start: apply within it (default: 300)', expects: 'seconds, 1 to 86400' },
  ],
};

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export async function runK8sCommand(args: string[], io: { stdout: Output }, readPlan: (file: string | undefined) => Plan): Promise<number> {
  const { values, positionals } = parseCommandArgs(K8S_COMMAND, args);
  const [action, planFile] = positionals;
  if (action === 'run') throw new UsageError('k8s run is not available yet: use `k8s render … | kubectl apply -f -` as docs/kubernetes.md describes', 'k8s');
  if (action !== 'render') throw new UsageError(`expected "k8s render PLAN", got "k8s ${action ?? ''}"`, 'k8s');
  const plan = readPlan(planFile);
  const shards = wholeNumberOption('k8s', 'shards', stringOption(values, 'shards'), NaN, 1, 1000);
  if (Number.isNaN(shards)) throw new UsageError('--shards N is required: how many shards (pods) to run', 'k8s');
  const image = stringOption(values, 'image');
  if (!image) throw new UsageError('--image is required: the runner image built from the Dockerfile', 'k8s');
  const namespace = stringOption(values, 'namespace') ?? 'default';
  if (!NAMESPACE.test(namespace) || namespace.length > 63) throw new UsageError(`--namespace ${namespace}: not a Kubernetes namespace name (lowercase letters, digits and -)`, 'k8s');
  const url = stringOption(values, 'url') ?? plan.deployment.url;
  if (!url) throw new UsageError("no deployment URL: pass --url or set deployment.url in the plan", 'k8s');
  const runId = stringOption(values, 'run-id') ?? newRunId(plan.runIdPrefix);
  try {
    checkRunId(runId);
  } catch (error) {
    throw new UsageError(`--run-id: ${(error as Error).message}`, 'k8s');
  }
  const [secretName, secretKey = 'token'] = (stringOption(values, 'token-secret') ?? 'coder-scaletest-token').split(':');
  const startDelayS = wholeNumberOption('k8s', 'start-delay', stringOption(values, 'start-delay'), 300, 1, 86_400);
  const manifests = renderManifests({ plan, shards, image, namespace, runId, url, startAt: Date.now() + startDelayS * 1000, tokenSecret: { name: secretName!, key: secretKey } });
  io.stdout.write(manifestsText(manifests));
  return 0;
}
