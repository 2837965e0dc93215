// The Runs feature: running plans (in a runner child process), stopping them, cleaning up
// leftovers, the Runs view, and the run log.
import * as vscode from 'vscode';
import type { KubernetesRunSpec } from '../../protocol/runner';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { ScaleTestBackend } from '../backend';
import type { CommandId } from '../commandIds';
import { registerCommand, type CommandErrors } from '../commands';
import type { LiveViewPanel } from '../liveView/panel';
import { normalizeDeploymentUrl } from '../deployments/deploymentUrl';
import type { DeploymentsFeature } from '../deployments/feature';
import { Disposable } from '../lifecycle';
import type { ScaleTestLog } from '../log';
import type { PlanArg, PlansFeature } from '../plans/feature';
import { BaselineCommands } from './baselineCommands';
import type { RunController } from './controller';
import type { RunHistory } from './pastRuns';
import type { RunArg } from './pickRun';
import { ReportCommands } from './reports';
import { InterruptedRunNode, RunNode, RunsTreeProvider } from './tree';

export interface RunPlanResult {
  runId: string;
  verdict: RunSnapshot['verdict'];
  status: RunSnapshot['status'];
  reportDir?: string;
}

/** Run Plan's options: the deployment (else picked), and a Kubernetes cluster to run it on as shards ("Run on Kubernetes…"). */
export interface RunPlanOptions {
  deploymentUrl?: string;
  kubernetes?: KubernetesRunSpec;
}

export class RunsFeature extends Disposable {
  readonly tree: RunsTreeProvider;

  constructor(
    private readonly runs: RunController,
    private readonly history: RunHistory,
    backend: Pick<ScaleTestBackend, 'readReport'>,
    private readonly plans: PlansFeature,
    private readonly deployments: DeploymentsFeature,
    private readonly liveView: LiveViewPanel,
    log: ScaleTestLog,
    errors: CommandErrors,
  ) {
    super();
    this.tree = this.register(new RunsTreeProvider(history, runs));
    this.register(vscode.window.createTreeView('coderScaletest.runs', { treeDataProvider: this.tree, showCollapseAll: true }));
    const resultsWatcher = this.register(vscode.workspace.createFileSystemWatcher('**/report.json'));
    this.register(resultsWatcher.onDidCreate(() => this.tree.refresh()));
    this.register(resultsWatcher.onDidDelete(() => this.tree.refresh()));
    // A baseline marked or cleared from the CLI moves the Runs view's badge.
    const baselineWatcher = this.register(vscode.workspace.createFileSystemWatcher('**/baselines/*.json'));
    for (const event of [baselineWatcher.onDidCreate, baselineWatcher.onDidChange, baselineWatcher.onDidDelete])
      this.register(event(() => this.tree.refresh()));
    this.register(
      vscode.workspace.onDidChangeConfiguration(
        (event) => event.affectsConfiguration('coderScaletest.resultsFolder') && this.tree.refresh(),
      ),
    );
    this.register(new ReportCommands(history, backend, errors));
    this.register(new BaselineCommands(history, backend, this.tree, liveView, errors));
    this.register(
      registerCommand(errors, 'coderScaletest.runPlan', (arg?: PlanArg, options?: RunPlanOptions) => this.runPlan(arg, options)),
    );
    this.register(registerCommand(errors, 'coderScaletest.stopRun', () => this.stopRun()));
    this.register(
      registerCommand(
        errors,
        'coderScaletest.cleanupRun',
        (arg?: RunArg | InterruptedRunNode | { runId: string; deploymentUrl?: string }) => this.cleanupRun(arg),
      ),
    );
    this.register(registerCommand(errors, 'coderScaletest.refreshRuns', () => this.tree.refresh()));
    this.register(registerCommand(errors, 'coderScaletest.showLog', () => log.show()));
  }

  private async runPlan(arg: PlanArg, options?: RunPlanOptions): Promise<RunPlanResult | undefined> {
    if (!vscode.workspace.isTrusted)
      throw new Error('Running a scale test is disabled in untrusted workspaces: trust this workspace first.');
    const uri = await this.plans.resolvePlan(arg, 'run');
    if (!uri) return undefined;
    const deploymentUrl = options?.deploymentUrl
      ? normalizeDeploymentUrl(options.deploymentUrl)
      : await this.deployments.pickDeploymentFor(uri);
    if (!deploymentUrl) return undefined;
    this.liveView.show();
    const outcome = await this.runs.run(uri, deploymentUrl, undefined, options?.kubernetes);
    this.tree.refresh();
    const { snapshot } = outcome;
    const verdict = `${snapshot.planName}: run ${snapshot.runId} ${snapshot.status === 'finished' ? (snapshot.verdict === 'pass' ? 'passed' : 'failed') : snapshot.status}`;
    const reportDir = outcome.reportDir ?? snapshot.reportDir;
    const show = snapshot.verdict === 'pass' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(`${verdict}${snapshot.reason ? ` — ${snapshot.reason}` : ''}`, ...(reportDir ? ['Open Report'] : [])).then((choice) => {
      if (choice && reportDir)
        void vscode.commands.executeCommand<void>('coderScaletest.openReportFile' satisfies CommandId, { runDir: reportDir });
    });
    return { runId: snapshot.runId, verdict: snapshot.verdict, status: snapshot.status, reportDir };
  }

  private stopRun(): boolean {
    const stopped = this.runs.stop();
    if (!stopped) void vscode.window.showInformationMessage('No scale test is running.');
    return stopped;
  }

  private async cleanupRun(arg?: RunArg | InterruptedRunNode | { runId: string; deploymentUrl?: string }): Promise<string | undefined> {
    if (!vscode.workspace.isTrusted) throw new Error('Cleaning up runs is disabled in untrusted workspaces: trust this workspace first.');
    let runId: string | undefined;
    let deploymentUrl: string | undefined;
    if (arg && 'runId' in arg && typeof arg.runId === 'string') {
      runId = arg.runId;
      deploymentUrl = arg.deploymentUrl;
    } else {
      const known = (await this.history.list()).filter((run) => run.snapshot);
      if (arg instanceof RunNode && arg.snapshot) {
        runId = arg.snapshot.runId;
        deploymentUrl = arg.snapshot.deploymentUrl;
      } else if (arg instanceof InterruptedRunNode) {
        runId = arg.run.runId;
        deploymentUrl = arg.run.deploymentUrl;
      } else {
        const picked = await vscode.window.showQuickPick(
          [
            ...this.runs.interrupted.map((run) => ({
              label: run.runId,
              description: `${run.planName} · ${run.deploymentUrl} · runner died`,
              url: run.deploymentUrl,
            })),
            ...known.map((run) => ({
              label: run.snapshot!.runId,
              description: `${run.snapshot!.planName} · ${run.snapshot!.deploymentUrl}`,
              url: run.snapshot!.deploymentUrl,
            })),
            { label: 'Enter a run id…', description: 'for a run killed before it wrote a report', url: undefined },
          ],
          { title: 'Clean up the leftovers of which run?' },
        );
        if (!picked) return undefined;
        runId = picked.url
          ? picked.label
          : await vscode.window.showInputBox({
              title: 'Run id to clean up',
              placeHolder: 'st1a2b3c',
              validateInput: (v) => (/^[a-z0-9]+$/.test(v) ? undefined : 'A run id is lowercase letters and digits'),
            });
        deploymentUrl = picked.url;
      }
    }
    if (!runId) return undefined;
    deploymentUrl = deploymentUrl
      ? normalizeDeploymentUrl(deploymentUrl)
      : await this.deployments.pickKnownDeployment('Clean up on which deployment?');
    if (!deploymentUrl) return undefined;
    const summary = await this.runs.cleanup(runId, deploymentUrl);
    void vscode.window.showInformationMessage(summary);
    return summary;
  }
}
