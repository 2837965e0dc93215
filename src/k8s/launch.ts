// Starts a sharded run on a Kubernetes cluster: the cluster from the user's kubeconfig, the
// objects `k8s render` prints (created, not printed), and the pods as the coordinator's shard
// source. Shared by `coder-scaletest k8s run` and the extension's runner child.
import type { DeploymentConnection } from '../coder/connection';
import type { Plan } from '../engine/plan/plan';
import { newShardMerger, type ShardSource } from '../shard/coordinator';
import type { ShardMerger } from '../shard/merge';
import { Cluster, type ClusterTarget, type RunObjects } from './cluster';
import { podShardSource } from './podShards';
import { renderManifests } from './render';
import type { V1ConfigMap, V1Job, V1ServiceAccount } from '@kubernetes/client-node';

export interface KubernetesRunRequest extends ClusterTarget {
  plan: Plan;
  /** The deployment as the coordinator reaches it (its owner token cleans up after a teardown); the pods get the URL, never the token. */
  connection: DeploymentConnection;
  /** The deployment URL as the pods reach it (default: the connection's). */
  podUrl?: string;
  shards: number;
  image: string;
  /** The Secret (and key) holding the owner's session token, which the pods read. */
  tokenSecret: { name: string; key: string };
  runId: string;
  startDelayS: number;
  out: string;
  /** The pods serve /metrics on this port, with scrape annotations (render.ts). */
  metricsPort?: number;
  env?: NodeJS.ProcessEnv;
  log(line: string): void;
}

export interface LaunchedKubernetesRun {
  runId: string;
  count: number;
  reportDir: string;
  merger: ShardMerger;
  source: ShardSource;
  cluster: Cluster;
}

/** Connects, creates the run's objects and starts following its pods; throws a KubernetesSetupError or KubernetesAccessError. */
export async function launchKubernetesRun(request: KubernetesRunRequest): Promise<LaunchedKubernetesRun> {
  const cluster = await Cluster.connect(request, request.env);
  const startAt = Date.now() + request.startDelayS * 1000;
  const [serviceAccount, configMap, job] = renderManifests({
    plan: request.plan,
    shards: request.shards,
    image: request.image,
    namespace: cluster.namespace,
    runId: request.runId,
    startAt,
    url: request.podUrl ?? request.connection.url,
    tokenSecret: request.tokenSecret,
    metricsPort: request.metricsPort,
  });
  const objects: RunObjects = {
    serviceAccount: serviceAccount as V1ServiceAccount,
    configMap: configMap as V1ConfigMap,
    job: job as V1Job,
  };
  request.log(
    `run ${request.runId}: creating ${request.shards} shard pods in namespace ${cluster.namespace} of context ${cluster.context}; traffic starts at ${new Date(startAt).toISOString()}`,
  );
  await cluster.createRun(objects);
  const reportDir = `${request.out}/${request.runId}`;
  const merger = newShardMerger(request.plan, request.connection, request.runId, request.shards, reportDir);
  const source = podShardSource({ cluster, objects, merger, runId: request.runId, count: request.shards, startAt, log: request.log });
  return { runId: request.runId, count: request.shards, reportDir, merger, source, cluster };
}
