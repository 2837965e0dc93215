// The Runs view: the live run on top, then runs whose runner died (their leftovers can be
// cleaned up), then past runs found in the results folder, each with its stages, thresholds
// and report files as children.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunSnapshot } from '../../protocol/snapshot';
import { commandFor } from '../commandIds';
import { Disposable } from '../lifecycle';
import type { InterruptedRun, RunController } from './controller';
import type { RunHistory } from './pastRuns';
import { baselineRunIds, withBaselineBadge } from './baselineModel';
import { describeRun, REPORT_FILES, type NodeIcon, type RunChildNode } from './runModel';

const ICONS: Record<NodeIcon, [string, string]> = {
  pass: ['pass', 'testing.iconPassed'],
  fail: ['error', 'testing.iconFailed'],
  pending: ['circle-large-outline', 'testing.iconQueued'],
  skipped: ['circle-slash', 'testing.iconSkipped'],
  running: ['sync~spin', 'testing.runAction'],
};

function themeIcon(icon: NodeIcon): vscode.ThemeIcon {
  const [id, color] = ICONS[icon];
  return new vscode.ThemeIcon(id, new vscode.ThemeColor(color));
}

export type RunsNode = RunNode | InterruptedRunNode | RunDetailNode | ReportFileNode;

export class RunNode extends vscode.TreeItem {
  constructor(
    readonly snapshot: RunSnapshot | undefined,
    readonly dir: string | undefined,
    readonly live: boolean,
    error?: string,
    /** The baseline of its plan (docs/baselines.md). */
    readonly isBaseline = false,
  ) {
    super(path.basename(dir ?? 'run'), vscode.TreeItemCollapsibleState.Collapsed);
    if (snapshot) {
      const model = describeRun(snapshot, live);
      this.label = model.label;
      this.description = withBaselineBadge(model.description, isBaseline);
      this.tooltip = isBaseline ? `${model.tooltip}\nThe baseline of its plan: later runs are compared with it.` : model.tooltip;
      this.iconPath = themeIcon(model.icon);
      this.id = `run:${snapshot.runId}${live ? ':live' : ''}`;
    } else {
      this.description = 'unreadable report';
      this.tooltip = error;
      this.iconPath = new vscode.ThemeIcon('warning');
      this.collapsibleState = vscode.TreeItemCollapsibleState.None;
    }
    this.contextValue = live ? 'run.live' : 'run.past';
    if (dir) this.command = commandFor('coderScaletest.openRunInDashboard', 'Open in Dashboard', { runDir: dir });
    else if (live) this.command = commandFor('coderScaletest.showDashboard', 'Open Dashboard');
  }

  children(): RunsNode[] {
    if (!this.snapshot) return [];
    const details = describeRun(this.snapshot, this.live).children.map((child) => new RunDetailNode(child, this.snapshot!.runId));
    const files = this.dir
      ? REPORT_FILES.filter((file) => fs.existsSync(path.join(this.dir!, file))).map(
          (file) => new ReportFileNode(path.join(this.dir!, file)),
        )
      : [];
    return [...details, ...files];
  }
}

export class RunDetailNode extends vscode.TreeItem {
  constructor(
    readonly model: RunChildNode,
    private readonly runId: string,
  ) {
    // A stage with worst workspaces opens onto them.
    super(model.label, model.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    this.id = `run:${runId}:${model.id}`;
    this.description = model.description;
    this.tooltip = model.tooltip;
    this.iconPath = themeIcon(model.icon);
    this.contextValue = model.kind;
  }

  children(): RunDetailNode[] {
    return (this.model.children ?? []).map((child) => new RunDetailNode(child, this.runId));
  }
}

export class ReportFileNode extends vscode.TreeItem {
  constructor(readonly file: string) {
    super(path.basename(file), vscode.TreeItemCollapsibleState.None);
    this.resourceUri = vscode.Uri.file(file);
    this.iconPath = new vscode.ThemeIcon(file.endsWith('.html') ? 'globe' : file.endsWith('.xml') ? 'checklist' : 'json');
    this.contextValue = 'reportFile';
    this.command = commandFor('coderScaletest.openReportFile', 'Open Report', { file });
  }
}

/** A run whose runner process died before it finished: no report, maybe leftovers. */
export class InterruptedRunNode extends vscode.TreeItem {
  constructor(readonly run: InterruptedRun) {
    super(`${run.planName} (${run.runId})`, vscode.TreeItemCollapsibleState.None);
    this.id = `run:${run.runId}:interrupted`;
    this.description = 'runner died · leftovers?';
    this.tooltip = `${run.reason}\nDeployment: ${run.deploymentUrl}`;
    this.iconPath = new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('testing.iconFailed'));
    this.contextValue = 'run.interrupted';
  }

  children(): RunsNode[] {
    return [];
  }
}

export class RunsTreeProvider extends Disposable implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly history: RunHistory,
    private readonly controller: RunController,
  ) {
    super();
    this.register(controller.onDidUpdate(() => this.changed.fire()));
    this.register(controller.onDidFinish(() => this.changed.fire()));
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (node) return node instanceof RunNode || node instanceof RunDetailNode ? node.children() : [];
    const live = this.controller.current;
    const roots: (RunNode | InterruptedRunNode)[] = [];
    if (live?.snapshot) roots.push(new RunNode(live.snapshot, undefined, true));
    for (const run of this.controller.interrupted) roots.push(new InterruptedRunNode(run));
    const baselines = baselineRunIds(this.history.folder());
    for (const run of await this.history.list())
      roots.push(new RunNode(run.snapshot, run.dir, false, run.error, baselines.has(run.snapshot?.runId ?? '')));
    void vscode.commands.executeCommand(
      'setContext',
      'coderScaletest.hasRuns',
      roots.some((root) => root instanceof InterruptedRunNode || !root.live),
    );
    return roots;
  }
}
