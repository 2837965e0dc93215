// What the extension needs from the engine, the Coder client and the simulated deployment,
// in one narrow interface: commands and views depend on this, not on those modules, so tests
// can see exactly what crosses the boundary. No vscode import here.
import type { CheckReport } from '../engine/check/check';
import type { TemplateKind } from '../engine/templates/push';
import type { DeploymentConnection, TlsOptions } from '../coder/connection';
import type { KubernetesRunSpec } from '../protocol/runner';
import type { RunSnapshot } from '../protocol/snapshot';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DeploymentInfo {
  version: string;
  username: string;
  isOwner: boolean;
}

export interface SimDeploymentHandle {
  url: string;
  /** Owner session token; goes to SecretStorage, never to logs or the webview. */
  ownerToken: string;
  ownerEmail: string;
  /** The process serving it (a child of the extension host). */
  pid?: number;
  /** Settles with the reason if the deployment's process ends on its own (crash, kill). */
  exited?: Promise<string>;
  close(): Promise<void>;
}

export interface RunRequest {
  planText: string;
  planSource: string;
  connection: DeploymentConnection;
  outDir: string;
  signal: AbortSignal;
  log(level: LogLevel, line: string): void;
  chromiumPath?: string;
  coderBinaryPath?: string;
  /** Run the plan as shards on a Kubernetes cluster (the runner child coordinates the pods). */
  kubernetes?: KubernetesRunSpec;
}

export interface RunOutcome {
  snapshot: RunSnapshot;
  reportDir?: string;
}

export interface RunningTest {
  runId: string;
  /** The process running the engine (a child of the extension host). */
  runnerPid?: number;
  latest(): RunSnapshot | undefined;
  subscribe(listener: (snapshot: RunSnapshot) => void): () => void;
  abort(): void;
  done: Promise<RunOutcome>;
}

export interface CleanupRequest {
  runId: string;
  connection: DeploymentConnection;
  /** The run's directory: its journal, when there, says exactly what to delete. */
  runDir?: string;
  /** Stops new deletions; those under way finish; the summary names what was left. */
  signal?: AbortSignal;
  /** After each deletion: how many of the total are done (or failed). */
  onProgress?(progress: { done: number; total: number; failed: number }): void;
  log(level: LogLevel, line: string): void;
}

export interface ScaleTestBackend {
  /** Parses and validates plan text; throws an Error listing every problem. */
  validatePlanText(text: string, source: string): { name: string; deploymentUrl?: string; stages: string[]; thresholds: string[] };
  /** The default plan as pretty JSON (written by "New Plan"). */
  defaultPlanText(): string;
  /** Checks the deployment and the user behind the token. */
  inspectDeployment(connection: DeploymentConnection): Promise<DeploymentInfo>;
  /** Email + password login; returns a session token. */
  login(url: string, email: string, password: string, tls?: TlsOptions): Promise<string>;
  startRun(request: RunRequest): Promise<RunningTest>;
  cleanupRun(request: CleanupRequest): Promise<string>;
  /** The pre-run check of plan text against a deployment (read-only). */
  checkDeployment(planText: string, source: string, connection: DeploymentConnection): Promise<CheckReport>;
  /** Pushes a shipped scale-test template; `log` hears progress and the import job's logs. Resolves with a summary. */
  pushTemplate(kind: TemplateKind, connection: DeploymentConnection, log: (line: string) => void): Promise<string>;
  /** The final snapshot of a finished run, from `<dir>/report.json`. */
  readReport(dir: string): Promise<RunSnapshot>;
  startSimDeployment(): Promise<SimDeploymentHandle>;
}
