// Known deployments: the non-secret list in globalState, one session token per deployment in
// SecretStorage (keyed by URL), live connection state in memory, and the Deployments view.
import * as vscode from 'vscode';
import type { DeploymentConnection } from '../coder/connection';
import type { DeploymentInfo, ScaleTestBackend } from './backend';
import type { SecretRedactor } from './redact';
import { readSettings } from './settings';


const LIST_KEY = 'coderScaletest.deployments';
const tokenKey = (url: string) => `coderScaletest.token:${url}`;

export interface KnownDeployment {
  url: string;
  /** The embedded simulated deployment started by this window. */
  simulated?: boolean;
}

export type DeploymentState =
  | { state: 'checking' }
  | { state: 'connected'; info: DeploymentInfo }
  | { state: 'error'; message: string }
  | { state: 'signedOut' };

export class DeploymentStore implements vscode.Disposable {
  private readonly states = new Map<string, DeploymentState>();
  /**
   * The simulated deployment this window started: kept in memory only (token included), since
   * it dies with the window and other windows share globalState and SecretStorage.
   */
  private simulated: { url: string; token: string } | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly backend: ScaleTestBackend,
    private readonly redactor: SecretRedactor,
  ) {
    this.onDidChange(() => void vscode.commands.executeCommand('setContext', 'coderScaletest.hasDeployments', this.list().length > 0));
  }

  list(): KnownDeployment[] {
    const saved = this.context.globalState.get<KnownDeployment[]>(LIST_KEY, []).filter((deployment) => deployment.url !== this.simulated?.url);
    return this.simulated ? [{ url: this.simulated.url, simulated: true }, ...saved] : saved;
  }

  state(url: string): DeploymentState {
    return this.states.get(url) ?? { state: 'signedOut' };
  }

  /** Checks the token against the deployment, then remembers both. Throws on failure. */
  async add(url: string, token: string, simulated = false): Promise<DeploymentInfo> {
    this.redactor.add(token);
    this.setState(url, { state: 'checking' });
    let info: DeploymentInfo;
    try {
      info = await this.backend.inspectDeployment({ url, token, tls: readSettings().tls });
    } catch (error) {
      this.setState(url, { state: 'error', message: this.redactor.redact((error as Error).message) });
      throw error;
    }
    if (simulated) {
      this.simulated = { url, token };
    } else {
      await this.context.secrets.store(tokenKey(url), token);
      const others = this.context.globalState.get<KnownDeployment[]>(LIST_KEY, []).filter((deployment) => deployment.url !== url);
      await this.context.globalState.update(LIST_KEY, [...others, { url }]);
    }
    this.setState(url, { state: 'connected', info });
    return info;
  }

  /** Forgets the token; the simulated deployment is forgotten altogether. */
  async logout(url: string): Promise<void> {
    if (this.simulated?.url === url) this.simulated = undefined;
    else await this.context.secrets.delete(tokenKey(url));
    this.states.delete(url);
    this.changed.fire();
  }

  private async token(url: string): Promise<string | undefined> {
    const token = this.simulated?.url === url ? this.simulated.token : await this.context.secrets.get(tokenKey(url));
    this.redactor.add(token);
    return token;
  }

  async connection(url: string): Promise<DeploymentConnection> {
    const token = await this.token(url);
    if (!token) throw new Error(`Not signed in to ${url}: run "Coder Scale Test: Connect to Deployment" first.`);
    return { url, token, tls: readSettings().tls };
  }

  /** Re-checks every known deployment that has a token. */
  async refresh(): Promise<void> {
    await Promise.all(
      this.list().map(async ({ url }) => {
        const token = await this.token(url);
        if (!token) {
          this.setState(url, { state: 'signedOut' });
          return;
        }
        this.setState(url, { state: 'checking' });
        try {
          this.setState(url, { state: 'connected', info: await this.backend.inspectDeployment({ url, token, tls: readSettings().tls }) });
        } catch (error) {
          this.setState(url, { state: 'error', message: this.redactor.redact((error as Error).message) });
        }
      }),
    );
  }

  private setState(url: string, state: DeploymentState): void {
    this.states.set(url, state);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class DeploymentNode extends vscode.TreeItem {
  constructor(readonly deployment: KnownDeployment, state: DeploymentState, isDefault: boolean) {
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
      this.command = { command: 'coderScaletest.connect', title: 'Connect to Deployment', arguments: [{ url: deployment.url }] };
      this.tooltip += '\nClick to sign in again';
    }
  }
}

export class DeploymentsTreeProvider implements vscode.TreeDataProvider<DeploymentNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: DeploymentStore) {
    this.subscription = store.onDidChange(() => this.changed.fire());
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(node: DeploymentNode): vscode.TreeItem {
    return node;
  }

  getChildren(): DeploymentNode[] {
    const defaultUrl = readSettings().defaultDeployment;
    return this.store.list().map((deployment) => new DeploymentNode(deployment, this.store.state(deployment.url), deployment.url === defaultUrl));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
