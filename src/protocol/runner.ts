// Messages between the VS Code extension host and its runner child process (`dist/cli.js
// __runner`, started with child_process.fork, so an IPC channel carries these objects). One
// child runs one scale test; the host only renders what it receives. (The simulated
// deployment has its own child process and messages: src/sim/process.ts.)
//
// Every message carries `v` (RUNNER_PROTOCOL_VERSION): a child that receives another version
// answers `failed` and exits, so a stale bundle never misreads a message. Secrets (the session
// token) travels only inside `startRun` over the IPC channel, never in argv or env.
// See docs/runner-protocol.md.
import type { RunSnapshot } from './snapshot';

export const RUNNER_PROTOCOL_VERSION = 1;

/** The argument that puts dist/cli.js into runner mode (internal; not in the CLI's help). */
export const RUNNER_MODE_ARG = '__runner';

export type RunnerLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface RunnerConnection {
  url: string;
  /** Owner session token: a secret. */
  token?: string;
  tls?: { caFile?: string; insecure?: boolean };
}

/** A sharded run on a Kubernetes cluster (`k8s run`) in place of a local one: the child creates the pods and merges them. */
export interface KubernetesRunSpec {
  shards: number;
  image: string;
  /** Default: the context's namespace, then "default". */
  namespace?: string;
  /** A context of the kubeconfig (default: its current context). */
  context?: string;
  /** Default: KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  /** The Secret the pods read the owner's session token from. */
  tokenSecret: { name: string; key: string };
  /** Seconds from the launch to the agreed traffic start (default 90). */
  startDelayS?: number;
}

export type HostToRunner =
  /** Run this plan; the child answers `runStarted`, then `snapshot`s and `log`s, then `runDone`. */
  | {
      v: 1;
      type: 'startRun';
      planText: string;
      planSource: string;
      connection: RunnerConnection;
      outDir: string;
      chromiumPath?: string;
      coderBinaryPath?: string;
      /** The simulated deployment's Prometheus endpoint, used when the plan names none. */
      prometheusUrl?: string;
      /** Run the plan as shards on this Kubernetes cluster. */
      kubernetes?: KubernetesRunSpec;
    }
  /** Stop: the run takes its own abort path (partial report, cleanup per the plan's strategy). */
  | { v: 1; type: 'stop'; reason?: string };

export type RunnerToHost =
  | { v: 1; type: 'runStarted'; runId: string; pid: number }
  /** A complete snapshot (never a delta), about once a second. */
  | { v: 1; type: 'snapshot'; snapshot: RunSnapshot }
  | { v: 1; type: 'log'; level: RunnerLogLevel; line: string }
  | { v: 1; type: 'runDone'; snapshot: RunSnapshot; reportDir: string; exitCode: number }
  /** The request could not be carried out (invalid plan, wrong version…); the child exits next. */
  | { v: 1; type: 'failed'; message: string };

/** Narrows an IPC message to a runner message of this protocol version, or undefined. */
export function asRunnerMessage<M extends { v: number; type: string }>(message: unknown): M | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const candidate = message as { v?: unknown; type?: unknown };
  return candidate.v === RUNNER_PROTOCOL_VERSION && typeof candidate.type === 'string' ? (message as M) : undefined;
}
