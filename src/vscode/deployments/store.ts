// Known deployments: the non-secret list in globalState, one session token per deployment in
// SecretStorage (keyed by URL), and live connection state in memory.
import * as vscode from 'vscode';
import type { DeploymentConnection } from '../../coder/connection';
import type { DeploymentInfo, ScaleTestBackend } from '../backend';
import { Disposable } from '../lifecycle';
import type { SecretRedactor } from '../redact';
import { readSettings } from '../settings';

const LIST_KEY = 'coderScaletest.deployments';
const tokenKey = (url: string) => `coderScaletest.token:${url}`;

export interface KnownDeployment {
  url: string;
  /** The embedded simulated deployment started by this window. */
  simulated?: boolean;
}

export type DeploymentState =
  { state: 'checking' } | { state: 'connected'; info: DeploymentInfo } | { state: 'error'; message: string } | { state: 'signedOut' };

export class DeploymentStore extends Disposable {
  private readonly states = new Map<string, DeploymentState>();
  /**
   * The simulated deployment this window started: kept in memory only (token included), since
   * it dies with the window and other windows share globalState and SecretStorage.
   */
  private simulated: { url: string; token: string } | undefined;
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly backend: Pick<ScaleTestBackend, 'inspectDeployment'>,
    private readonly redactor: SecretRedactor,
  ) {
    super();
    this.onDidChange(() => void vscode.commands.executeCommand('setContext', 'coderScaletest.hasDeployments', this.list().length > 0));
  }

  list(): KnownDeployment[] {
    const saved = this.context.globalState
      .get<KnownDeployment[]>(LIST_KEY, [])
      .filter((deployment) => deployment.url !== this.simulated?.url);
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
}
