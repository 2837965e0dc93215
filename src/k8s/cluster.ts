// The few Kubernetes API calls `k8s run` makes, through @kubernetes/client-node: the user's
// kubeconfig (its context, credentials and exec plugins), create and delete the run's objects,
// list its pods, follow a pod's log. Every failure becomes a sentence that says what was wrong
// and what to do. The client is ESM-only and heavy: it is loaded on first use, from its own
// bundle (dist/k8s-client.js), so nothing else of the CLI pays for it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import type { CoreV1Api, BatchV1Api, KubeConfig, V1ConfigMap, V1Job, V1Pod, V1ServiceAccount } from '@kubernetes/client-node';

type ClientModule = typeof import('./clientBundle');

/** dist/k8s-client.js beside the bundle (see clientBundle.ts); unbundled, the package itself. */
function loadClient(): Promise<ClientModule> {
  const bundled = path.join(__dirname, 'k8s-client.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file beside the bundle, found at run time
  if (fs.existsSync(bundled)) return Promise.resolve(require(bundled) as ClientModule);
  return import('./clientBundle');
}

/** A mistake in what the user asked for (exit 2): kubeconfig, context, namespace, a name in use. */
export class KubernetesSetupError extends Error {}
/** The cluster refused or could not be reached (exit 3). */
export class KubernetesAccessError extends Error {}

export interface ClusterTarget {
  /** A kubeconfig file (default: $KUBECONFIG, then ~/.kube/config). */
  kubeconfig?: string;
  /** A context of it (default: its current context). */
  context?: string;
  /** Default: the context's namespace, then "default". */
  namespace?: string;
}

export interface KubeContextInfo {
  name: string;
  cluster: string;
  namespace?: string;
}

/** Which kubeconfig files apply, as kubectl reads them. */
function kubeconfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (explicit) return [explicit];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(path.delimiter).filter(Boolean);
  return [path.join(os.homedir(), '.kube', 'config')];
}

async function loadKubeConfig(target: ClusterTarget, env: NodeJS.ProcessEnv): Promise<KubeConfig> {
  const files = kubeconfigFiles(target.kubeconfig, env).filter((file) => fs.existsSync(file));
  if (files.length === 0) {
    const where = target.kubeconfig
      ? `--kubeconfig ${target.kubeconfig}: no such file`
      : `no kubeconfig found (${env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG}` : '~/.kube/config'} does not exist)`;
    throw new KubernetesSetupError(
      `${where}; pass --kubeconfig FILE or set KUBECONFIG to the cluster's kubeconfig (e.g. the one your cloud's CLI writes)`,
    );
  }
  const { KubeConfig } = await loadClient();
  const config = new KubeConfig();
  try {
    for (const file of files) {
      const one = new KubeConfig();
      one.loadFromFile(file);
      config.mergeConfig(one, config.getContexts().length > 0);
    }
  } catch (error) {
    throw new KubernetesSetupError(
      `cannot read the kubeconfig ${files.join(', ')}: ${(error as Error).message}; check that it is a valid kubeconfig (kubectl config view)`,
    );
  }
  return config;
}

/** The contexts of the user's kubeconfig, and the current one (for the extension's picker). */
export async function listContexts(
  target: Pick<ClusterTarget, 'kubeconfig'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ current?: string; contexts: KubeContextInfo[] }> {
  const config = await loadKubeConfig(target, env);
  return {
    current: config.getCurrentContext() || undefined,
    contexts: config.getContexts().map((context) => ({ name: context.name, cluster: context.cluster, namespace: context.namespace })),
  };
}

/** The objects of one run, as `k8s render` prints them. */
export interface RunObjects {
  serviceAccount: V1ServiceAccount;
  configMap: V1ConfigMap;
  job: V1Job;
}

export class Cluster {
  private constructor(
    readonly config: KubeConfig,
    readonly context: string,
    readonly server: string,
    readonly namespace: string,
    private readonly core: CoreV1Api,
    private readonly batch: BatchV1Api,
    private readonly client: ClientModule,
  ) {}

  static async connect(target: ClusterTarget, env: NodeJS.ProcessEnv = process.env): Promise<Cluster> {
    const config = await loadKubeConfig(target, env);
    const names = config.getContexts().map((context) => context.name);
    const available = names.length ? `available: ${names.join(', ')}` : 'it has no contexts';
    const context = target.context ?? config.getCurrentContext();
    if (!context) throw new KubernetesSetupError(`the kubeconfig has no current context; pass --context NAME (${available})`);
    if (!names.includes(context))
      throw new KubernetesSetupError(`context "${context}" is not in the kubeconfig (${available}); pass --context with one of them`);
    config.setCurrentContext(context);
    const server = config.getCurrentCluster()?.server;
    if (!server)
      throw new KubernetesSetupError(
        `context "${context}" names no cluster with a server address; fix the kubeconfig (kubectl config view)`,
      );
    const client = await loadClient();
    const namespace = target.namespace ?? config.getContextObject(context)?.namespace ?? 'default';
    return new Cluster(
      config,
      context,
      server,
      namespace,
      config.makeApiClient(client.CoreV1Api),
      config.makeApiClient(client.BatchV1Api),
      client,
    );
  }

  /** Creates the ServiceAccount, the ConfigMap and the Job, in that order; on a failure, deletes what it created. */
  async createRun(objects: RunObjects): Promise<void> {
    const namespace = this.namespace;
    const created: Array<() => Promise<unknown>> = [];
    const steps: Array<[string, () => Promise<unknown>, () => Promise<unknown>]> = [
      [
        `serviceaccount ${objects.serviceAccount.metadata!.name}`,
        () => this.core.createNamespacedServiceAccount({ namespace, body: objects.serviceAccount }),
        () => this.core.deleteNamespacedServiceAccount({ namespace, name: objects.serviceAccount.metadata!.name! }),
      ],
      [
        `configmap ${objects.configMap.metadata!.name}`,
        () => this.core.createNamespacedConfigMap({ namespace, body: objects.configMap }),
        () => this.core.deleteNamespacedConfigMap({ namespace, name: objects.configMap.metadata!.name! }),
      ],
      [
        `job ${objects.job.metadata!.name}`,
        () => this.batch.createNamespacedJob({ namespace, body: objects.job }),
        () => this.deleteJob(objects.job.metadata!.name!),
      ],
    ];
    for (const [what, create, remove] of steps) {
      try {
        await create();
      } catch (error) {
        for (const undo of created.reverse()) await undo().catch(() => undefined);
        throw this.explain(error, `create ${what}`);
      }
      created.push(remove);
    }
  }

  /** Deletes the Job and, through the garbage collector, its pods (they get their termination grace period). */
  async deleteJob(name: string): Promise<void> {
    await this.ignoreMissing(
      () => this.batch.deleteNamespacedJob({ namespace: this.namespace, name, propagationPolicy: 'Foreground' }),
      `delete job ${name}`,
    );
  }

  /** Deletes the run's objects; the Job unless a teardown already did. */
  async deleteRunObjects(objects: RunObjects, options: { jobDeleted?: boolean } = {}): Promise<void> {
    if (!options.jobDeleted) await this.deleteJob(objects.job.metadata!.name!);
    await this.ignoreMissing(
      () => this.core.deleteNamespacedConfigMap({ namespace: this.namespace, name: objects.configMap.metadata!.name! }),
      'delete the configmap',
    );
    await this.ignoreMissing(
      () => this.core.deleteNamespacedServiceAccount({ namespace: this.namespace, name: objects.serviceAccount.metadata!.name! }),
      'delete the serviceaccount',
    );
  }

  /** Kills a pod now (grace period 0): a second stop no longer waits for the shards' own cleanup. */
  async killPod(name: string): Promise<void> {
    await this.ignoreMissing(
      () => this.core.deleteNamespacedPod({ namespace: this.namespace, name, gracePeriodSeconds: 0 }),
      `delete pod ${name}`,
    );
  }

  async listPods(labelSelector: string): Promise<V1Pod[]> {
    try {
      return (await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector })).items;
    } catch (error) {
      throw this.explain(error, 'list the pods');
    }
  }

  /**
   * Follows a container's log from its start; `onLine` gets each line, `onEnd` once the stream
   * has ended (the container stopped, or the connection dropped). Returns a stop function.
   */
  async followLog(pod: string, container: string, onLine: (line: string) => void, onEnd: () => void): Promise<() => void> {
    let partial = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
        callback();
      },
      final(callback) {
        if (partial) onLine(partial);
        partial = '';
        callback();
      },
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      onEnd();
    };
    sink.on('finish', end);
    sink.on('close', end);
    try {
      const controller = await new this.client.Log(this.config).log(this.namespace, pod, container, sink, { follow: true });
      return () => {
        controller.abort();
        end();
      };
    } catch (error) {
      end();
      throw this.explain(error, `follow the log of pod ${pod}`);
    }
  }

  private async ignoreMissing(call: () => Promise<unknown>, what: string): Promise<void> {
    try {
      await call();
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return;
      throw this.explain(error, what);
    }
  }

  /** An API failure as a sentence: what was refused or unreachable, and what to do. */
  explain(error: unknown, what: string): Error {
    const status = (error as { code?: unknown }).code;
    const where = `namespace "${this.namespace}" of context "${this.context}" (${this.server})`;
    if (typeof status !== 'number') {
      const detail = (error as Error).message;
      // node-fetch's FetchError carries the socket's error code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT…).
      if (typeof status === 'string' || /request to .* failed/.test(detail)) {
        return new KubernetesAccessError(
          `cannot reach the Kubernetes API at ${this.server} (context "${this.context}") to ${what}: ${detail}; check the kubeconfig's server address, your network or VPN, and that the cluster is up`,
        );
      }
      return new KubernetesSetupError(
        `the Kubernetes client could not ${what} with context "${this.context}": ${detail}; check that context's cluster and user in the kubeconfig (kubectl config view)`,
      );
    }
    const message = apiMessage((error as { body?: unknown }).body);
    if (status === 401)
      return new KubernetesAccessError(
        `the cluster at ${this.server} rejected the credentials of context "${this.context}" (401) to ${what}; log in again (refresh the kubeconfig's credentials) and retry`,
      );
    if (status === 403) {
      return new KubernetesAccessError(
        `forbidden (403) to ${what} in ${where}${message ? `: ${message}` : ''}; the kubeconfig's user needs to create, get and delete serviceaccounts, configmaps and jobs, list and delete pods and get pods/log there (docs/kubernetes.md has a Role)`,
      );
    }
    if (status === 404 && /namespaces? "?[^"]*"? not found/i.test(message ?? '')) {
      return new KubernetesSetupError(
        `namespace "${this.namespace}" does not exist in context "${this.context}"; create it (kubectl create namespace ${this.namespace}) or pass --namespace`,
      );
    }
    if (status === 409)
      return new KubernetesSetupError(
        `cannot ${what} in ${where}: it already exists${message ? ` (${message})` : ''}; pick another --run-id, or delete the earlier run's objects`,
      );
    return new KubernetesAccessError(`the Kubernetes API refused to ${what} in ${where}: ${status}${message ? ` ${message}` : ''}`);
  }
}

function apiMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 300) || undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}
