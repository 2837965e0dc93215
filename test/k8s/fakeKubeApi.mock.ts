// MockKubernetesApi: an in-process HTTP server on 127.0.0.1 that speaks the few Kubernetes API
// endpoints `coder-scaletest k8s run` uses — create/delete ServiceAccount, ConfigMap and Job,
// list pods by label, delete a pod, follow a pod's log — with the API server's paths, status
// codes and Status bodies. It is a mock (there is no cluster here): its "pods" are processes of
// the real CLI (`node dist/cli.js`, the image's entrypoint) started with the Job template's
// args and env, the ConfigMap written where it is mounted, the token from a Secret it holds;
// their stdout and stderr are the pod log. Deleting the Job sends its pods SIGTERM, then
// SIGKILL after the grace period, as the kubelet does.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { V1ConfigMap, V1Job, V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import { CLI } from '../support/cliProcess';

const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

interface MockPod {
  object: V1Pod;
  jobName: string;
  process?: ChildProcess;
  log: string;
  exited: boolean;
  followers: Set<http.ServerResponse>;
  dir: string;
  deleting: boolean;
}

export interface MockRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export class MockKubernetesApi {
  readonly requests: MockRequest[] = [];
  readonly namespaces = new Set(['default']);
  /** Secrets by namespace/name: key → value. */
  readonly secrets = new Map<string, Record<string, string>>();
  readonly serviceAccounts = new Map<string, V1ServiceAccount>();
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly jobs = new Map<string, V1Job>();
  readonly pods = new Map<string, MockPod>();
  /** Bearer tokens accepted; tokens in `forbidden` authenticate but may do nothing (403). */
  readonly tokens = new Set(['mock-kube-token']);
  readonly forbidden = new Set(['mock-kube-token-no-rights']);
  terminationGraceMs = 30_000;
  private server?: http.Server;
  private sequence = 0;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    for (const pod of this.pods.values()) pod.process?.kill('SIGKILL');
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    for (const pod of this.pods.values()) fs.rmSync(pod.dir, { recursive: true, force: true });
  }

  /** A kubeconfig (JSON is YAML) with one context for this server. */
  writeKubeconfig(file: string, options: { namespace?: string; token?: string } = {}): void {
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      // Plain HTTP on loopback: the client allows it only with TLS verification off.
      clusters: [{ name: 'mock', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'mock-user', user: { token: options.token ?? 'mock-kube-token' } }],
      contexts: [
        { name: 'mock', context: { cluster: 'mock', user: 'mock-user', namespace: options.namespace ?? 'default' } },
        { name: 'mock-other', context: { cluster: 'mock', user: 'mock-user' } },
      ],
      'current-context': 'mock',
    };
    fs.writeFileSync(file, JSON.stringify(config));
  }

  /** The process behind the pod of a shard (for killing it mid-run). */
  podProcess(index: number): ChildProcess | undefined {
    return [...this.pods.values()].find((pod) => pod.object.metadata?.annotations?.[INDEX_ANNOTATION] === String(index))?.process;
  }

  /** What the run left in the mock cluster. */
  leftovers(): string[] {
    return [
      ...[...this.serviceAccounts.keys()].map((key) => `serviceaccount ${key}`),
      ...[...this.configMaps.keys()].map((key) => `configmap ${key}`),
      ...[...this.jobs.keys()].map((key) => `job ${key}`),
      ...[...this.pods.keys()].map((key) => `pod ${key}`),
    ];
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    this.requests.push({ method: request.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) });
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || (!this.tokens.has(token) && !this.forbidden.has(token)))
      return this.status(response, 401, 'Unauthorized', 'Unauthorized');
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      try {
        this.route(request.method ?? 'GET', url, body ? JSON.parse(body) : undefined, response, this.forbidden.has(token));
      } catch (error) {
        this.status(response, 500, 'InternalError', (error as Error).message);
      }
    });
  }

  private route(method: string, url: URL, body: unknown, response: http.ServerResponse, forbidden: boolean): void {
    const match =
      /^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/(serviceaccounts|configmaps|jobs|pods)(?:\/([^/]+))?(?:\/(log))?$/.exec(
        url.pathname,
      );
    if (!match) return this.status(response, 404, 'NotFound', 'the server could not find the requested resource');
    const [, namespace, resource, name, sub] = match as unknown as [string, string, string, string | undefined, string | undefined];
    if (forbidden) {
      const verb = method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : name ? 'get' : 'list';
      return this.status(
        response,
        403,
        'Forbidden',
        `${resource} is forbidden: User "mock-user" cannot ${verb} resource "${resource}" in API group "${resource === 'jobs' ? 'batch' : ''}" in the namespace "${namespace}"`,
      );
    }
    if (!this.namespaces.has(namespace))
      return this.status(response, 404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    const key = (objectName: string) => `${namespace}/${objectName}`;
    if (method === 'POST' && !name) {
      const object = body as { metadata: { name: string; namespace?: string; uid?: string; creationTimestamp?: string } };
      const store =
        resource === 'serviceaccounts'
          ? this.serviceAccounts
          : resource === 'configmaps'
            ? this.configMaps
            : resource === 'jobs'
              ? this.jobs
              : undefined;
      if (!store) return this.status(response, 405, 'MethodNotAllowed', 'not supported by the mock');
      if (store.has(key(object.metadata.name)))
        return this.status(response, 409, 'AlreadyExists', `${resource} "${object.metadata.name}" already exists`, {
          name: object.metadata.name,
          kind: resource,
        });
      object.metadata = { ...object.metadata, namespace, uid: `uid-${++this.sequence}`, creationTimestamp: new Date().toISOString() };
      store.set(key(object.metadata.name), object as never);
      if (resource === 'jobs') this.startJob(namespace, object as V1Job);
      return this.json(response, 201, object);
    }
    if (method === 'GET' && resource === 'pods' && !name) {
      const [labelKey, labelValue] = (url.searchParams.get('labelSelector') ?? '').split('=');
      const items = [...this.pods.values()]
        .filter(
          (pod) => pod.object.metadata?.namespace === namespace && (!labelKey || pod.object.metadata?.labels?.[labelKey] === labelValue),
        )
        .map((pod) => pod.object);
      return this.json(response, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(++this.sequence) }, items });
    }
    if (method === 'GET' && resource === 'pods' && name && sub === 'log') return this.followLog(this.pods.get(key(name)), url, response);
    if (method === 'DELETE' && name) return this.delete(namespace, resource, name, url, body, response);
    return this.status(response, 405, 'MethodNotAllowed', `${method} ${url.pathname} is not supported by the mock`);
  }

  private delete(namespace: string, resource: string, name: string, url: URL, body: unknown, response: http.ServerResponse): void {
    const key = `${namespace}/${name}`;
    if (resource === 'pods') {
      const pod = this.pods.get(key);
      if (!pod) return this.status(response, 404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
      const grace = Number(
        url.searchParams.get('gracePeriodSeconds') ?? (body as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds ?? NaN,
      );
      this.terminate(pod, Number.isNaN(grace) ? this.terminationGraceMs : grace * 1000);
      return this.json(response, 200, pod.object);
    }
    const store = resource === 'serviceaccounts' ? this.serviceAccounts : resource === 'configmaps' ? this.configMaps : this.jobs;
    const object = store.get(key);
    if (!object) return this.status(response, 404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
    if (resource !== 'jobs') {
      store.delete(key);
      return this.json(response, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: resource } });
    }
    const policy = url.searchParams.get('propagationPolicy') ?? (body as { propagationPolicy?: string } | undefined)?.propagationPolicy;
    const pods = [...this.pods.values()].filter((pod) => pod.jobName === key);
    if (policy !== 'Orphan') for (const pod of pods) this.terminate(pod, this.terminationGraceMs);
    // Foreground: the Job goes once its pods are gone; Background: at once, the pods after it.
    if (policy === 'Foreground' && pods.some((pod) => this.pods.has(`${namespace}/${pod.object.metadata!.name}`))) {
      (object as V1Job).metadata!.deletionTimestamp = new Date();
      const check = setInterval(() => {
        if (pods.every((pod) => !this.pods.has(`${namespace}/${pod.object.metadata!.name}`))) {
          clearInterval(check);
          this.jobs.delete(key);
        }
      }, 100);
    } else this.jobs.delete(key);
    return this.json(response, 200, object);
  }

  /** Starts one pod per completion index, each a process of the CLI as the image's entrypoint runs it. */
  private startJob(namespace: string, job: V1Job): void {
    const template = job.spec!.template;
    const container = template.spec!.containers[0]!;
    for (let index = 0; index < (job.spec!.completions ?? 1); index++) {
      const podName = `${job.metadata!.name}-${index}-${Math.random().toString(36).slice(2, 7)}`;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mock-pod-'));
      const object: V1Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: podName,
          namespace,
          labels: { ...template.metadata?.labels, 'job-name': job.metadata!.name!, [INDEX_ANNOTATION]: String(index) },
          annotations: { [INDEX_ANNOTATION]: String(index) },
          creationTimestamp: new Date(),
        },
        spec: template.spec,
        status: {
          phase: 'Pending',
          containerStatuses: [
            {
              name: container.name,
              image: container.image!,
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ContainerCreating' } },
            },
          ],
        },
      };
      const pod: MockPod = {
        object,
        jobName: `${namespace}/${job.metadata!.name}`,
        log: '',
        exited: false,
        followers: new Set(),
        dir,
        deleting: false,
      };
      this.pods.set(`${namespace}/${podName}`, pod);
      // As a kubelet would, a moment after scheduling.
      setTimeout(() => this.runContainer(namespace, pod), 300);
    }
  }

  private runContainer(namespace: string, pod: MockPod): void {
    if (pod.deleting) return this.remove(pod);
    const container = pod.object.spec!.containers[0]!;
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: pod.dir, NO_COLOR: '1' };
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = variable.value;
      else if (variable.valueFrom?.fieldRef) env[variable.name] = pod.object.metadata!.annotations![INDEX_ANNOTATION]!;
      else if (variable.valueFrom?.secretKeyRef) {
        const { name, key } = variable.valueFrom.secretKeyRef;
        const value = this.secrets.get(`${namespace}/${name}`)?.[key];
        if (value === undefined) {
          pod.object.status!.containerStatuses![0]!.state = {
            waiting: { reason: 'CreateContainerConfigError', message: `secret "${name}" not found` },
          };
          return;
        }
        env[variable.name] = value;
      }
    }
    // Volumes: the ConfigMap's files where it is mounted, an emptyDir for /tmp (paths moved under the pod's directory).
    const mounts = new Map<string, string>();
    for (const mount of container.volumeMounts ?? []) {
      const volume = pod.object.spec!.volumes!.find((candidate) => candidate.name === mount.name)!;
      const hostDir = path.join(pod.dir, mount.name);
      fs.mkdirSync(hostDir, { recursive: true });
      if (volume.configMap) {
        const configMap = this.configMaps.get(`${namespace}/${volume.configMap.name}`);
        for (const [file, text] of Object.entries(configMap?.data ?? {})) fs.writeFileSync(path.join(hostDir, file), text);
      }
      mounts.set(mount.mountPath, hostDir);
    }
    const args = (container.args ?? []).map((arg) => {
      const expanded = arg.replace(/\$\((\w+)\)/g, (whole, name: string) => env[name] ?? whole);
      const mount = [...mounts].find(([mountPath]) => expanded.startsWith(`${mountPath}/`));
      return mount ? mount[1] + expanded.slice(mount[0].length) : expanded;
    });
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    pod.process = child;
    pod.object.status = {
      ...pod.object.status,
      phase: 'Running',
      startTime: new Date(),
      containerStatuses: [
        { ...pod.object.status!.containerStatuses![0]!, ready: true, started: true, state: { running: { startedAt: new Date() } } },
      ],
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8').on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.append(pod, `${line}\n`);
      });
    }
    child.on('close', (code, signal) => {
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      pod.exited = true;
      pod.object.status = {
        ...pod.object.status,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            ...pod.object.status!.containerStatuses![0]!,
            ready: false,
            started: false,
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } },
          },
        ],
      };
      for (const follower of pod.followers) follower.end();
      pod.followers.clear();
      if (pod.deleting) this.remove(pod);
    });
  }

  private append(pod: MockPod, text: string): void {
    pod.log += text;
    for (const follower of pod.followers) follower.write(text);
  }

  private followLog(pod: MockPod | undefined, url: URL, response: http.ServerResponse): void {
    if (!pod) return this.status(response, 404, 'NotFound', 'pods not found');
    if (!pod.process)
      return this.status(
        response,
        400,
        'BadRequest',
        `container "shard" in pod "${pod.object.metadata!.name}" is waiting to start: ContainerCreating`,
      );
    response.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    response.write(pod.log);
    if (pod.exited || url.searchParams.get('follow') !== 'true') return void response.end();
    pod.followers.add(response);
    response.on('close', () => pod.followers.delete(response));
  }

  /** The kubelet's termination: SIGTERM, then SIGKILL after the grace period; the pod object goes once the container has exited. */
  private terminate(pod: MockPod, graceMs: number): void {
    if (pod.deleting && graceMs > 0) return;
    pod.deleting = true;
    pod.object.metadata!.deletionTimestamp = new Date();
    if (!pod.process || pod.exited) return this.remove(pod);
    if (graceMs === 0) pod.process.kill('SIGKILL');
    else {
      pod.process.kill('SIGTERM');
      setTimeout(() => !pod.exited && pod.process!.kill('SIGKILL'), graceMs).unref();
    }
  }

  private remove(pod: MockPod): void {
    this.pods.delete(`${pod.object.metadata!.namespace}/${pod.object.metadata!.name}`);
  }

  private json(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  /** The API server's error body (a metav1.Status). */
  private status(
    response: http.ServerResponse,
    code: number,
    reason: string,
    message: string,
    details?: { name: string; kind: string },
  ): void {
    this.json(response, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
  }
}
