// Entry point of the extension host bundle: builds the shared services, then one feature per
// folder of src/vscode (deployments, plans, runs, dashboard, testing), each registering its own
// commands and disposables. Runs and the simulated deployment run in child processes.
import { CheckFeature } from './vscode/check/feature';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunSnapshot } from './protocol/snapshot';
import { COMMAND_IDS } from './vscode/commandIds';
import { CommandErrors } from './vscode/commands';
import { LiveViewFeature } from './vscode/liveView/feature';
import { LiveViewPanel, type RenderedReport } from './vscode/liveView/panel';
import { DeploymentsFeature } from './vscode/deployments/feature';
import { DeploymentStore, type DeploymentState, type KnownDeployment } from './vscode/deployments/store';
import { KubernetesFeature } from './vscode/k8s/feature';
import { lazyEngineBackend } from './vscode/engineModule';
import { ScaleTestLog } from './vscode/log';
import { PlansFeature } from './vscode/plans/feature';
import { PlanIndex } from './vscode/plans/planIndex';
import { createProcessBackend } from './vscode/processBackend';
import { SecretRedactor } from './vscode/redact';
import { RunController } from './vscode/runs/controller';
import { RunsFeature } from './vscode/runs/feature';
import { RunHistory } from './vscode/runs/pastRuns';
import type { HostLag } from './vscode/runs/hostLag';
import { resultsFolder } from './vscode/settings';
import { PlanTests, type RecordedResult } from './vscode/testing/planTests';

/** What `activate` returns: read by this extension's integration tests. */
export interface ScaleTestExtensionApi {
  commandIds: readonly string[];
  resultsFolder(): string;
  currentRun(): RunSnapshot | undefined;
  /** Process ids: this extension host, the live run's runner, the simulated deployment's. */
  processes(): { host: number; runner?: number; sim?: number };
  /** The extension host's own event-loop delay during the last run (the bench records it). */
  hostEventLoopLag(): HostLag | undefined;
  lastError(): string | undefined;
  /** The last lines of the "Coder Scale Test" log. */
  logLines(): string[];
  /** Known deployments with their connection state. */
  deployments(): (KnownDeployment & { state: DeploymentState })[];
  /** The Runs view's roots and their children, as labels and descriptions. */
  runsTree(): Promise<{ label: string; description: string; children: { label: string; description: string; icon: string }[] }[]>;
  testResults(): Record<string, RecordedResult>;
  testItems(): { label: string; children: string[] }[];
  dashboard: {
    isOpen(): boolean;
    probe(timeoutMs?: number): Promise<RenderedReport>;
    recordPosts(on: boolean): string[];
  };
}

/** How long closing the window waits for a live run's abort path (stop traffic, clean up). */
const SHUTDOWN_WAIT_MS = 10_000;

let shutdown: (() => Promise<void>) | undefined;

export function activate(context: vscode.ExtensionContext): ScaleTestExtensionApi {
  const register = <T extends vscode.Disposable>(disposable: T): T => {
    context.subscriptions.push(disposable);
    return disposable;
  };
  const cli = { modulePath: path.join(context.extensionPath, 'dist', 'cli.js') };
  const backend = { ...lazyEngineBackend(), ...createProcessBackend(cli) };
  const redactor = new SecretRedactor();
  const log = register(new ScaleTestLog(redactor));
  const errors = new CommandErrors(log, redactor);
  const results = () => resultsFolder(context);
  const store = register(new DeploymentStore(context, backend, redactor));
  const planIndex = register(new PlanIndex());
  const panel = register(new LiveViewPanel(context.extensionUri));
  const runs = register(new RunController(backend, store, panel, log, redactor, results));
  const history = new RunHistory(backend, results);

  const deployments = register(
    new DeploymentsFeature(store, backend, log, redactor, errors, (url) => runs.current?.snapshot?.deploymentUrl === url),
  );
  const plans = register(new PlansFeature(planIndex, backend, errors));
  const runsFeature = register(new RunsFeature(runs, history, backend, plans, deployments, panel, log, errors));
  register(new LiveViewFeature(panel, runs, history, backend, errors));
  register(new KubernetesFeature(cli, context.globalState, errors));
  register(new CheckFeature(plans, deployments, store, backend, log, errors));
  const tests = register(new PlanTests(planIndex, backend, runs, (uri) => deployments.pickDeploymentFor(uri)));

  shutdown = async () => {
    // The run first: its cleanup needs the deployment, which may be the simulated one.
    await runs.shutdown(SHUTDOWN_WAIT_MS);
    await deployments.disposeSim();
  };
  void planIndex.rescan();
  void store.refresh();

  return {
    commandIds: COMMAND_IDS,
    resultsFolder: results,
    currentRun: () => runs.current?.snapshot,
    processes: () => ({ host: process.pid, runner: runs.current?.test.runnerPid, sim: deployments.simPid }),
    hostEventLoopLag: () => runs.lastHostLag(),
    lastError: () => errors.lastError,
    logLines: () => log.recentLines(),
    deployments: () => store.list().map((deployment) => ({ ...deployment, state: store.state(deployment.url) })),
    runsTree: async () => {
      const roots = await runsFeature.tree.getChildren();
      return roots.map((root) => ({
        label: String(root.label),
        description: String(root.description ?? ''),
        children: ('children' in root ? root.children() : []).map((child) => ({
          label: String(child.label),
          description: String(child.description ?? ''),
          icon: child.iconPath instanceof vscode.ThemeIcon ? child.iconPath.id : '',
        })),
      }));
    },
    testResults: () => Object.fromEntries(tests.lastResults),
    testItems: () => tests.items(),
    dashboard: {
      isOpen: () => panel.isOpen,
      probe: (timeoutMs) => panel.probe(timeoutMs),
      recordPosts: (on) => panel.recordPosts(on),
    },
  };
}

export async function deactivate(): Promise<void> {
  await shutdown?.();
}
