// The workspace's `*.scaletest.json` plans, kept current by a FileSystemWatcher, shown in the
// Plans view (run / validate / open inline) and shared with the Test Explorer.
import * as path from 'path';
import * as vscode from 'vscode';

export const PLAN_GLOB = '**/*.scaletest.json';
const EXCLUDE_GLOB = '**/{node_modules,.git,.scaletest-results}/**';

export class PlanIndex implements vscode.Disposable {
  private plans = new Map<string, vscode.Uri>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher(PLAN_GLOB);
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      this.watcher,
      this.watcher.onDidCreate(() => void this.rescan()),
      this.watcher.onDidDelete(() => void this.rescan()),
      this.watcher.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rescan()),
    );
  }

  async rescan(): Promise<void> {
    const found = await vscode.workspace.findFiles(PLAN_GLOB, EXCLUDE_GLOB);
    this.plans = new Map(found.sort((a, b) => a.fsPath.localeCompare(b.fsPath)).map((uri) => [uri.toString(), uri]));
    void vscode.commands.executeCommand('setContext', 'coderScaletest.hasPlans', this.plans.size > 0);
    this.changed.fire();
  }

  list(): vscode.Uri[] {
    return [...this.plans.values()];
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
    this.changed.dispose();
  }
}

export function planDisplayName(uri: vscode.Uri): string {
  return path.basename(uri.fsPath).replace(/\.scaletest\.json$/, '');
}

export class PlanNode extends vscode.TreeItem {
  constructor(readonly uri: vscode.Uri) {
    super(planDisplayName(uri), vscode.TreeItemCollapsibleState.None);
    this.resourceUri = uri;
    this.id = `plan:${uri.toString()}`;
    // The folder inside the workspace, if the plan is not at its root.
    const relative = vscode.workspace.asRelativePath(uri, false);
    this.description = relative.includes('/') ? path.dirname(relative) : undefined;
    this.tooltip = uri.fsPath;
    this.iconPath = new vscode.ThemeIcon('beaker');
    this.contextValue = 'plan';
    this.command = { command: 'coderScaletest.openPlan', title: 'Open Plan', arguments: [uri] };
  }
}

export class PlansTreeProvider implements vscode.TreeDataProvider<PlanNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly index: PlanIndex) {
    this.subscription = index.onDidChange(() => this.changed.fire());
  }

  getTreeItem(node: PlanNode): vscode.TreeItem {
    return node;
  }

  getChildren(): PlanNode[] {
    return this.index.list().map((uri) => new PlanNode(uri));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
