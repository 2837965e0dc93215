// The Plans view: one node per plan, opening it on click (run / validate inline).
import * as path from 'path';
import * as vscode from 'vscode';
import { commandFor } from '../commandIds';
import { Disposable } from '../lifecycle';
import { planDisplayName, type PlanIndex } from './planIndex';

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
    this.command = commandFor('coderScaletest.openPlan', 'Open Plan', uri);
  }
}

export class PlansTreeProvider extends Disposable implements vscode.TreeDataProvider<PlanNode> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly index: PlanIndex) {
    super();
    this.register(index.onDidChange(() => this.changed.fire()));
  }

  getTreeItem(node: PlanNode): vscode.TreeItem {
    return node;
  }

  getChildren(): PlanNode[] {
    return this.index.list().map((uri) => new PlanNode(uri));
  }
}
