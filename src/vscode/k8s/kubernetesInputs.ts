// What "Run on Kubernetes…" asks for, without VS Code: the kubeconfig's contexts (read by the
// CLI in a child process, `k8s contexts`, so the Kubernetes client never loads into the
// extension host), the answers' checks, and the run spec sent to the runner child.
import { fork } from 'child_process';
import type { KubernetesRunSpec } from '../../protocol/runner';
import type { RunnerEntry } from '../processBackend';

export interface KubeContexts {
  current?: string;
  contexts: Array<{ name: string; cluster: string; namespace?: string }>;
}

/** `dist/cli.js k8s contexts`: the contexts of the user's kubeconfig (KUBECONFIG, then ~/.kube/config). */
export function listKubeContexts(entry: RunnerEntry, options: { kubeconfig?: string; timeoutMs?: number } = {}): Promise<KubeContexts> {
  return new Promise((resolve, reject) => {
    const args = ['k8s', 'contexts', ...(options.kubeconfig ? ['--kubeconfig', options.kubeconfig] : [])];
    const child = fork(entry.modulePath, args, { execArgv: entry.execArgv ?? [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill(), options.timeoutMs ?? 30_000);
    child.on('error', (error) => reject(error));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0)
        return reject(
          new Error(
            stderr.trim().replace(/^error: /, '') ||
              `listing the kubeconfig's contexts ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`,
          ),
        );
      try {
        resolve(parseContexts(stdout));
      } catch (error) {
        reject(error);
      }
    });
  });
}

export function parseContexts(text: string): KubeContexts {
  const parsed = JSON.parse(text) as Partial<KubeContexts>;
  if (!Array.isArray(parsed.contexts)) throw new Error('k8s contexts printed no list of contexts');
  return { current: parsed.current, contexts: parsed.contexts.filter((context) => typeof context?.name === 'string') };
}

/** Quick-pick items: the current context first, each with its cluster and namespace. */
export function contextChoices(contexts: KubeContexts): Array<{ label: string; description: string; namespace?: string }> {
  const ordered = [...contexts.contexts].sort((a, b) => Number(b.name === contexts.current) - Number(a.name === contexts.current));
  return ordered.map((context) => ({
    label: context.name,
    description: [
      context.name === contexts.current ? 'current' : '',
      `cluster ${context.cluster}`,
      context.namespace ? `namespace ${context.namespace}` : '',
    ]
      .filter(Boolean)
      .join(' · '),
    namespace: context.namespace,
  }));
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Each returns what is wrong with an answer (for showInputBox's validateInput), or undefined. */
export const checks = {
  shards: (text: string) =>
    /^\d+$/.test(text.trim()) && Number(text) >= 1 && Number(text) <= 1000 ? undefined : 'A whole number of shards (pods) from 1 to 1000',
  image: (text: string) =>
    /^[^\s]+$/.test(text.trim())
      ? undefined
      : 'A container image reference, e.g. ghcr.io/acme/coder-scaletest:0.1.0 (built from the Dockerfile)',
  namespace: (text: string) =>
    DNS_LABEL.test(text.trim()) && text.trim().length <= 63 ? undefined : 'A namespace name: lowercase letters, digits and -',
  secret: (text: string) => {
    const [name = '', key, extra] = text.trim().split(':');
    if (extra !== undefined || !DNS_LABEL.test(name)) return 'A Secret name, optionally :key (e.g. coder-scaletest-token:token)';
    return key === '' ? 'The key after ":" is empty' : undefined;
  },
};

export interface KubernetesAnswers {
  context: string;
  shards: string;
  image: string;
  namespace: string;
  secret: string;
  kubeconfig?: string;
}

/** The runner child's spec from the answers; throws on the first bad one. */
export function kubernetesSpec(answers: KubernetesAnswers): KubernetesRunSpec {
  for (const field of ['shards', 'image', 'namespace', 'secret'] as const) {
    const problem = checks[field](answers[field]);
    if (problem) throw new Error(`${field}: ${problem}`);
  }
  const [name, key = 'token'] = answers.secret.trim().split(':');
  return {
    shards: Number(answers.shards),
    image: answers.image.trim(),
    namespace: answers.namespace.trim(),
    context: answers.context,
    kubeconfig: answers.kubeconfig,
    tokenSecret: { name: name!, key },
  };
}
