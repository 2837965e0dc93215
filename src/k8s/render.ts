// `coder-scaletest k8s render`: the manifests of a sharded run on Kubernetes. An Indexed Job
// (completion index = shard index) runs one shard per pod; the plan comes from a ConfigMap; the
// owner's session token from a Secret the user created (never inline); the pods' ServiceAccount
// has no rights at all (shards talk to Coder, never to the Kubernetes API). The objects are typed
// with @kubernetes/client-node's own models (type-only import: nothing of it is bundled here).
import type { V1ConfigMap, V1Job, V1ResourceRequirements, V1ServiceAccount } from '@kubernetes/client-node';
import { enabledStages, trafficSettings, type Plan } from '../engine/plan/plan';

/**
 * An idle runner's share of a shard's requests (Node + engine ≈ 150 MiB); each enabled stage
 * adds its own load (its descriptor's runnerLoad: the echo stages per connection, the
 * dashboard per browser session). Limits give `limitFactor` headroom over the requests.
 */
export const SIZING = {
  baseMemoryMiB: 150,
  baseMilliCpu: 250,
  limitFactor: 2,
} as const;

export interface RenderOptions {
  plan: Plan;
  shards: number;
  image: string;
  namespace: string;
  runId: string;
  /** Epoch ms of traffic T0 every shard agrees on. */
  startAt: number;
  /** The deployment URL the pods use (default: the plan's deployment.url). */
  url: string;
  /** Secret holding the owner's session token, and its key. */
  tokenSecret: { name: string; key: string };
  /** Each pod serves /metrics on this port (every interface), with Prometheus's scrape annotations. */
  metricsPort?: number;
  /** Also a PodMonitor (Prometheus Operator, monitoring.coreos.com/v1) selecting the run's pods. */
  podMonitor?: boolean;
}

/** The Prometheus Operator's PodMonitor, as far as this file writes it. */
export interface PodMonitor {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PodMonitor';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string; interval: string }> };
}

export type Manifest = V1ServiceAccount | V1ConfigMap | V1Job | PodMonitor;

/** The pods' /metrics port when the run is to be scraped: --metrics-port, else the plan's observe.metricsAddress port. */
export const METRICS_PORT_NAME = 'metrics';

export const PLAN_FILE = 'plan.scaletest.json';
const PLAN_MOUNT = '/etc/coder-scaletest';
/** The Job's pods set this env var from their completion index annotation. */
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

/**
 * What one shard's pod requests: an idle runner plus every enabled stage's load for the shard's
 * users (all stages counted at once, as overlapping windows in the default timeline can run).
 */
export function shardResources(plan: Plan, shards: number): V1ResourceRequirements {
  const users = Math.ceil(plan.users / shards);
  let memoryMiB: number = SIZING.baseMemoryMiB;
  let milliCpu: number = SIZING.baseMilliCpu;
  for (const stage of enabledStages(plan)) {
    const load = stage.runnerLoad?.(trafficSettings(plan, stage.id), users);
    memoryMiB += load?.memoryMiB ?? 0;
    milliCpu += load?.milliCpu ?? 0;
  }
  memoryMiB = Math.ceil(memoryMiB);
  milliCpu = Math.ceil(milliCpu);
  return {
    requests: { cpu: `${milliCpu}m`, memory: `${memoryMiB}Mi` },
    limits: { cpu: `${milliCpu * SIZING.limitFactor}m`, memory: `${memoryMiB * SIZING.limitFactor}Mi` },
  };
}

export function renderManifests(options: RenderOptions): [V1ServiceAccount, V1ConfigMap, V1Job, ...PodMonitor[]] {
  const name = `coder-scaletest-${options.runId}`;
  const labels = {
    'app.kubernetes.io/name': 'coder-scaletest',
    'app.kubernetes.io/instance': options.runId,
    'coder-scaletest/run-id': options.runId,
  };
  const metadata = (suffix = '') => ({ name: `${name}${suffix}`, namespace: options.namespace, labels: { ...labels } });
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: metadata(),
    // The shards need no Kubernetes API access: no token mounted, no Role bound.
    automountServiceAccountToken: false,
  };
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata('-plan'),
    data: { [PLAN_FILE]: `${JSON.stringify(options.plan, null, 2)}\n` },
  };
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(),
    spec: {
      completionMode: 'Indexed',
      completions: options.shards,
      parallelism: options.shards,
      // A retried shard would prepare its users a second time: a failed pod is a lost shard.
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: {
          labels: { ...labels },
          // The annotations most Prometheus Kubernetes scrape configs follow (prometheus.io/*).
          ...(options.metricsPort !== undefined
            ? {
                annotations: {
                  'prometheus.io/scrape': 'true',
                  'prometheus.io/port': String(options.metricsPort),
                  'prometheus.io/path': '/metrics',
                },
              }
            : {}),
        },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: name,
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'shard',
              image: options.image,
              args: [
                'run',
                `${PLAN_MOUNT}/${PLAN_FILE}`,
                '--shard',
                `$(SHARD_INDEX)/${options.shards}`,
                '--run-id',
                options.runId,
                '--start-at',
                String(options.startAt),
                '--shard-output',
                'ndjson',
                '--out',
                '/tmp/scaletest-results',
                ...(options.metricsPort !== undefined ? ['--metrics-address', `0.0.0.0:${options.metricsPort}`] : []),
              ],
              ...(options.metricsPort !== undefined ? { ports: [{ name: METRICS_PORT_NAME, containerPort: options.metricsPort }] } : {}),
              env: [
                { name: 'SHARD_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${INDEX_ANNOTATION}']` } } },
                { name: 'CODER_URL', value: options.url },
                {
                  name: 'CODER_SESSION_TOKEN',
                  valueFrom: { secretKeyRef: { name: options.tokenSecret.name, key: options.tokenSecret.key } },
                },
              ],
              resources: shardResources(options.plan, options.shards),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'plan', mountPath: PLAN_MOUNT, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'plan', configMap: { name: `${name}-plan` } },
            // Chromium and the reports write here; the root filesystem stays read-only.
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
  if (!options.podMonitor) return [serviceAccount, configMap, job];
  if (options.metricsPort === undefined) throw new Error('a PodMonitor needs the pods to serve /metrics: give --metrics-port');
  const podMonitor: PodMonitor = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: metadata(),
    spec: {
      selector: { matchLabels: { 'coder-scaletest/run-id': options.runId } },
      podMetricsEndpoints: [{ port: METRICS_PORT_NAME, path: '/metrics', interval: '15s' }],
    },
  };
  return [serviceAccount, configMap, job, podMonitor];
}

/** YAML-compatible output: one JSON document per object, separated by `---` (JSON is YAML). */
export function manifestsText(manifests: Manifest[]): string {
  return manifests.map((manifest) => `---\n${JSON.stringify(manifest, null, 2)}\n`).join('');
}
