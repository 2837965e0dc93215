// The Deployments view: each known deployment with its version, signed-in user and state.
import * as vscode from 'vscode';
import { commandFor } from '../commandIds';
import { Disposable } from '../lifecycle';
import { readSettings } from '../settings';
import type { DeploymentState, DeploymentStore, KnownDeployment } from './store';

export class DeploymentNode extends vscode.TreeItem {
  constructor(
    readonly deployment: KnownDeployment,
    state: DeploymentState,
    isDefault: boolean,
  ) {
    super(deployment.simulated ? `Simulated deployment` : deployment.url, vscode.TreeItemCollapsibleState.None);
    const parts: string[] = [];
    let tooltip = deployment.url;
    switch (state.state) {
      case 'connected':
        parts.push(state.info.version, state.info.isOwner ? `${state.info.username} (owner)` : `${state.info.username} (not owner)`);
        this.iconPath = new vscode.ThemeIcon(
          state.info.isOwner ? 'vm-active' : 'warning',
          new vscode.ThemeColor(state.info.isOwner ? 'testing.iconPassed' : 'list.warningForeground'),
        );
        tooltip += `\nConnected as ${state.info.username}${state.info.isOwner ? ' (owner)' : ' — not an owner: scale tests need the owner role'}\nVersion ${state.info.version}`;
        break;
      case 'checking':
        parts.push('checking…');
        this.iconPath = new vscode.ThemeIcon('loading~spin');
        break;
      case 'error':
        parts.push('unreachable');
        this.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
        tooltip += `\n${state.message}`;
        break;
      case 'signedOut':
        parts.push('signed out');
        this.iconPath = new vscode.ThemeIcon('vm-outline');
        break;
    }
    if (deployment.simulated) parts.unshift(deployment.url);
    if (isDefault) parts.push('default');
    this.description = parts.join(' · ');
    this.tooltip = tooltip;
    this.id = `deployment:${deployment.url}`;
    this.contextValue = deployment.simulated ? 'deployment.simulated' : 'deployment';
    if ((state.state === 'signedOut' || state.state === 'error') && !deployment.simulated) {
      this.command = commandFor('coderScaletest.connect', 'Connect to Deployment', { url: deployment.url });
      this.tooltip += '\nClick to sign in again';
    }
  }
}

export class DeploymentsTreeProvider extends Disposable implements vscode.TreeDataProvider<DeploymentNode> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: DeploymentStore) {
    super();
    this.register(store.onDidChange(() => this.changed.fire()));
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(node: DeploymentNode): vscode.TreeItem {
    return node;
  }

  getChildren(): DeploymentNode[] {
    const defaultUrl = readSettings().defaultDeployment;
    return this.store
      .list()
      .map((deployment) => new DeploymentNode(deployment, this.store.state(deployment.url), deployment.url === defaultUrl));
  }
}
