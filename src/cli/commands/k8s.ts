// `coder-scaletest k8s render|run|contexts`: a sharded run on Kubernetes (docs/kubernetes.md).
//   render   prints the manifests (an Indexed Job, the plan's ConfigMap, a ServiceAccount)
//   run      creates them, follows the pods' logs and merges them into one live view and verdict
//   contexts lists the kubeconfig's contexts as JSON (for the extension's picker)
import type { DeploymentConnection } from '../../coder/connection';
import { checkRunId, newRunId } from '../../engine/run/naming';
import type { Plan } from '../../engine/plan/plan';
import { KubernetesAccessError, KubernetesSetupError, listContexts } from '../../k8s/cluster';
import { launchKubernetesRun } from '../../k8s/launch';
import { manifestsText, renderManifests } from '../../k8s/render';
import { parseCommandArgs, stringOption, UsageError, wholeNumberOption, type CommandSpec, type OptionValues } from '../args';
import { STOP_SIGNALS } from '../interrupts';
import type { Output } from '../progress';
import { runCoordinatorView } from './runSharded';

export const K8S_COMMAND: CommandSpec = {
  name: 'k8s',
  summary: 'a sharded run on Kubernetes: k8s run PLAN (create, follow, merge), k8s render PLAN (print the manifests)',
  usage: 'run|render PLAN --shards N --image IMAGE [options] | contexts',
  description: `run creates the objects of a sharded run (an Indexed Job, one pod per shard; a ConfigMap with the plan; a ServiceAccount with no rights) in the kubeconfig's cluster, follows every pod's log and merges the shards into one live view, one verdict and one report, with the exit codes of a local run; on Ctrl-C, a failure or a lost pod it deletes the Job and cleans up every shard's users. render prints the same objects as YAML documents, for kubectl apply -f -. The pods read the owner's session token from a Secret you create first; it is never written into the objects. k8s run itself also needs the token (CODER_SESSION_TOKEN or --token-file) to clean up after a lost shard. contexts prints the kubeconfig's contexts as JSON. See docs/kubernetes.md.`,
  options: [
    { flags: '--shards <N>', help: 'shards (pods), 1 to 1000', expects: 'a whole number of shards from 1 to 1000' },
    {
      flags: '--image <IMAGE>',
      help: 'the runner image (see the Dockerfile)',
      expects: 'a container image reference, e.g. ghcr.io/acme/coder-scaletest:0.1.0',
    },
    { flags: '--namespace <NS>', help: "the namespace (default: the context's, then default)", expects: 'a Kubernetes namespace name' },
    {
      flags: '--url <URL>',
      help: "the deployment as the pods reach it (default: CODER_URL, then the plan's deployment.url)",
      expects: 'the deployment URL',
    },
    {
      flags: '--token-secret <NAME[:KEY]>',
      help: 'the Secret holding the owner session token (default: coder-scaletest-token:token)',
      expects: 'a Secret name, optionally :key',
    },
    {
      flags: '--run-id <ID>',
      help: 'the run id (default: a new one)',
      expects: 'a run id: 4-12 lowercase letters or digits, starting with a letter',
    },
    {
      flags: '--start-delay <S>',
      help: 'seconds from now to the agreed traffic start (default: render 300, run 90: time to pull the image and prepare)',
      expects: 'seconds, 1 to 86400',
    },
    {
      flags: '--context <NAME>',
      help: 'run: the kubeconfig context (default: its current context)',
      expects: 'a context name of the kubeconfig',
    },
    {
      flags: '--kubeconfig <FILE>',
      help: 'run, contexts: the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)',
      expects: 'a kubeconfig file',
    },
    {
      flags: '--token-file <FILE>',
      help: "run: a file with the owner's session token, for the coordinator's cleanup (or CODER_SESSION_TOKEN)",
      expects: 'a file holding one session token',
    },
    {
      flags: '--metrics-port <PORT>',
      help: "each pod serves Prometheus /metrics on this port, with prometheus.io/scrape annotations (default: the plan's observe.metricsAddress port, else off)",
      expects: 'a port from 1 to 65535',
    },
    { flags: '--pod-monitor', help: 'render: also a Prometheus Operator PodMonitor for the pods (needs --metrics-port)' },
    { flags: '--out <DIR>', help: 'run: where the merged reports go (default: scaletest-results)', expects: 'a directory' },
    { flags: '--ndjson', help: 'run: one merged snapshot per second as JSON lines' },
    { flags: '--ca-file <PEM>', help: "run: extra CA for the coordinator's connection to the deployment", expects: 'a PEM file' },
    { flags: '--insecure', help: "run: skip TLS verification of the coordinator's connection to the deployment (not recommended)" },
  ],
};

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface K8sCommandHelpers {
  readPlan(file: string | undefined): Plan;
  connectionFrom(values: OptionValues, env: NodeJS.ProcessEnv, stderr: Output, plan?: Plan): DeploymentConnection;
  checkOutDir(out: string): void;
}

interface K8sIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export async function runK8sCommand(args: string[], io: K8sIo, helpers: K8sCommandHelpers): Promise<number> {
  const { values, positionals } = parseCommandArgs(K8S_COMMAND, args);
  const [action, planFile] = positionals;
  try {
    if (action === 'contexts') {
      io.stdout.write(`${JSON.stringify(await listContexts({ kubeconfig: stringOption(values, 'kubeconfig') }, io.env))}\n`);
      return 0;
    }
    if (action === 'render') return render(values, helpers.readPlan(planFile), io);
    if (action === 'run') return await run(values, planFile, io, helpers);
  } catch (error) {
    if (error instanceof KubernetesSetupError) throw new UsageError(error.message);
    if (error instanceof KubernetesAccessError) {
      io.stderr.write(`error: ${error.message}\nNothing was left on the cluster; no users or workspaces were created.\n`);
      return 3;
    }
    throw error;
  }
  throw new UsageError(`expected "k8s run PLAN", "k8s render PLAN" or "k8s contexts", got "k8s ${action ?? ''}"`, 'k8s');
}

/** What render and run share: shards, image, namespace, run id, the token's Secret. */
function common(values: OptionValues, plan: Plan) {
  // Each step of a search is judged on all users at once; shards would each judge a share.
  if (plan.search)
    throw new UsageError('a capacity search (search in the plan) runs in one runner, not as shards: use `run PLAN` without k8s', 'k8s');
  const shards = wholeNumberOption('k8s', 'shards', stringOption(values, 'shards'), NaN, 1, 1000);
  if (Number.isNaN(shards)) throw new UsageError('--shards N is required: how many shards (pods) to run', 'k8s');
  const image = stringOption(values, 'image');
  if (!image) throw new UsageError('--image is required: the runner image built from the Dockerfile', 'k8s');
  const namespace = stringOption(values, 'namespace');
  if (namespace !== undefined && (!NAMESPACE.test(namespace) || namespace.length > 63)) {
    throw new UsageError(`--namespace ${namespace}: not a Kubernetes namespace name (lowercase letters, digits and -)`, 'k8s');
  }
  const runId = stringOption(values, 'run-id') ?? newRunId(plan.runIdPrefix);
  try {
    checkRunId(runId);
  } catch (error) {
    throw new UsageError(`--run-id: ${(error as Error).message}`, 'k8s');
  }
  const [secretName, secretKey = 'token'] = (stringOption(values, 'token-secret') ?? 'coder-scaletest-token').split(':');
  if (!secretName || !NAMESPACE.test(secretName)) throw new UsageError(`--token-secret: "${secretName}" is not a Secret name`, 'k8s');
  const planPort = plan.observe.metricsAddress ? Number(/:(\d+)$/.exec(plan.observe.metricsAddress)?.[1]) : undefined;
  const metricsPort = wholeNumberOption('k8s', 'metrics-port', stringOption(values, 'metrics-port'), planPort ?? NaN, 1, 65_535);
  if (values['pod-monitor'] === true && Number.isNaN(metricsPort))
    throw new UsageError('--pod-monitor needs --metrics-port: the port the pods serve /metrics on', 'k8s');
  return {
    shards,
    image,
    namespace,
    runId,
    tokenSecret: { name: secretName, key: secretKey },
    metricsPort: Number.isNaN(metricsPort) ? undefined : metricsPort,
  };
}

function render(values: OptionValues, plan: Plan, io: K8sIo): number {
  const { shards, image, namespace = 'default', runId, tokenSecret, metricsPort } = common(values, plan);
  const url = stringOption(values, 'url') ?? io.env.CODER_URL ?? plan.deployment.url;
  if (!url) throw new UsageError('no deployment URL: pass --url, set CODER_URL, or set deployment.url in the plan', 'k8s');
  const startDelayS = wholeNumberOption('k8s', 'start-delay', stringOption(values, 'start-delay'), 300, 1, 86_400);
  io.stdout.write(
    manifestsText(
      renderManifests({
        plan,
        shards,
        image,
        namespace,
        runId,
        url,
        startAt: Date.now() + startDelayS * 1000,
        tokenSecret,
        metricsPort,
        podMonitor: values['pod-monitor'] === true,
      }),
    ),
  );
  return 0;
}

async function run(values: OptionValues, planFile: string | undefined, io: K8sIo, helpers: K8sCommandHelpers): Promise<number> {
  const plan = helpers.readPlan(planFile);
  const { shards, image, namespace, runId, tokenSecret, metricsPort } = common(values, plan);
  // The coordinator's own connection (the token only cleans up after a teardown; the pods read theirs from the Secret).
  const connection = helpers.connectionFrom(values, io.env, io.stderr, plan);
  const out = stringOption(values, 'out') ?? 'scaletest-results';
  helpers.checkOutDir(out);
  const startDelayS = wholeNumberOption('k8s', 'start-delay', stringOption(values, 'start-delay'), 90, 1, 86_400);
  const log = (line: string) => io.stderr.write(`${line}\n`);
  // A stop while the objects are being created takes effect once they exist (they are then torn down).
  const early = new AbortController();
  const stopEarly = (signal: NodeJS.Signals) => {
    log(`${signal}: the run's objects are being created; they are deleted as soon as they exist`);
    early.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stopEarly);
  const launched = await launchKubernetesRun({
    plan,
    connection,
    shards,
    image,
    namespace,
    context: stringOption(values, 'context'),
    kubeconfig: stringOption(values, 'kubeconfig'),
    tokenSecret,
    runId,
    startDelayS,
    out,
    metricsPort,
    env: io.env,
    log,
  }).finally(() => STOP_SIGNALS.forEach((signal) => process.off(signal, stopEarly)));
  const signal = io.signal ? AbortSignal.any([io.signal, early.signal]) : early.signal;
  return runCoordinatorView({ ...launched, plan, connection, ndjson: values.ndjson === true, io: { ...io, signal } });
}
