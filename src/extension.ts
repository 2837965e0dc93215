// Entry point of the extension host bundle: wires the pieces and registers disposables.
import * as vscode from 'vscode';
import type { RunSnapshot } from './protocol/snapshot';
import { COMMAND_IDS } from './vscode/commandIds';
import { Commands } from './vscode/commands';
import { DashboardHost, type RenderedReport } from './vscode/dashboardPanel';
import { DeploymentStore, DeploymentsTreeProvider, type DeploymentState, type KnownDeployment } from './vscode/deployments';
import { createEngineBackend } from './vscode/engineBackend';
import { ScaleTestLog } from './vscode/log';
import { PlanIndex, PlansTreeProvider } from './vscode/plans';
import { SecretRedactor } from './vscode/redact';
import { RunController } from './vscode/runController';
import { RunHistory, RunNode, RunsTreeProvider } from './vscode/runs';
import { readSettings, resultsFolder } from './vscode/settings';
import { PlanTests, type RecordedResult } from './vscode/testing';

/** What `activate` returns: read by this extension's integration tests. */
export interface ScaleTestExtensionApi {
  commandIds: readonly string[];
  resultsFolder(): string;
  currentRun(): RunSnapshot | undefined;
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

let commands: Commands | undefined;

export function activate(context: vscode.ExtensionContext): ScaleTestExtensionApi {
  const backend = createEngineBackend();
  const redactor = new SecretRedactor();
  const log = new ScaleTestLog(redactor);
  const results = () => resultsFolder(context);
  const deployments = new DeploymentStore(context, backend, redactor);
  const plans = new PlanIndex();
  const dashboard = new DashboardHost(context.extensionUri);
  const runs = new RunController(backend, deployments, dashboard, log, redactor, results);
  const history = new RunHistory(backend, results);
  const runsTree = new RunsTreeProvider(history, runs);
  const diagnostics = vscode.languages.createDiagnosticCollection('coder-scaletest');
  commands = new Commands({ context, backend, deployments, plans, runs, history, runsTree, dashboard, log, redactor, diagnostics });
  const tests = new PlanTests(plans, backend, runs, (uri) => commands!.pickDeploymentFor(uri));
  const resultsWatcher = vscode.workspace.createFileSystemWatcher('**/report.json');

  context.subscriptions.push(
    log,
    deployments,
    plans,
    dashboard,
    runs,
    runsTree,
    diagnostics,
    tests,
    resultsWatcher,
    resultsWatcher.onDidCreate(() => runsTree.refresh()),
    resultsWatcher.onDidDelete(() => runsTree.refresh()),
    vscode.window.registerTreeDataProvider('coderScaletest.deployments', new DeploymentsTreeProvider(deployments)),
    vscode.window.registerTreeDataProvider('coderScaletest.plans', new PlansTreeProvider(plans)),
    vscode.window.createTreeView('coderScaletest.runs', { treeDataProvider: runsTree, showCollapseAll: true }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('coderScaletest.resultsFolder')) runsTree.refresh();
      if (event.affectsConfiguration('coderScaletest')) void deployments.refresh();
      if (event.affectsConfiguration('coderScaletest.tls.insecure') && readSettings().tls.insecure) {
        void vscode.window.showWarningMessage(
          'Coder Scale Test: TLS certificate verification is now off for every deployment. Use this only for test deployments you control; prefer coderScaletest.tls.caFile.',
        );
      }
    }),
    ...commands.register(),
  );

  void vscode.commands.executeCommand('setContext', 'coderScaletest.simRunning', false);
  void plans.rescan();
  void deployments.refresh();

  return {
    commandIds: COMMAND_IDS,
    resultsFolder: results,
    currentRun: () => runs.current?.snapshot,
    lastError: () => commands?.lastError,
    logLines: () => log.recentLines(),
    deployments: () => deployments.list().map((deployment) => ({ ...deployment, state: deployments.state(deployment.url) })),
    runsTree: async () => {
      const roots = (await runsTree.getChildren()) as RunNode[];
      return roots.map((root) => ({
        label: String(root.label),
        description: String(root.description ?? ''),
        children: root.children().map((child) => ({
          label: String(child.label),
          description: String(child.description ?? ''),
          icon: child.iconPath instanceof vscode.ThemeIcon ? child.iconPath.id : '',
        })),
      }));
    },
    testResults: () => Object.fromEntries(tests.lastResults),
    testItems: () => tests.items(),
    dashboard: {
      isOpen: () => dashboard.isOpen,
      probe: (timeoutMs) => dashboard.probe(timeoutMs),
      recordPosts: (on) => dashboard.recordPosts(on),
    },
  };
}

export async function deactivate(): Promise<void> {
  await commands?.disposeSim();
}
