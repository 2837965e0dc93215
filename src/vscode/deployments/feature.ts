// The Deployments feature: connecting (token or email + password), logging out, the default
// deployment, and the simulated deployment, which runs in a child process of its own.
import * as vscode from 'vscode';
import type { DeploymentInfo, ScaleTestBackend, SimDeploymentHandle } from '../backend';
import { registerCommand, type CommandErrors } from '../commands';
import { Disposable } from '../lifecycle';
import type { ScaleTestLog } from '../log';
import type { SecretRedactor } from '../redact';
import { readSettings, setDefaultDeployment } from '../settings';
import { normalizeDeploymentUrl } from './deploymentUrl';
import type { DeploymentStore } from './store';
import { DeploymentNode, DeploymentsTreeProvider } from './tree';

export interface ConnectArgs {
  url?: string;
  token?: string;
  email?: string;
  password?: string;
}

type DeploymentArg = DeploymentNode | { url: string } | undefined;

export class DeploymentsFeature extends Disposable {
  private sim: SimDeploymentHandle | undefined;

  constructor(
    private readonly store: DeploymentStore,
    private readonly backend: Pick<ScaleTestBackend, 'login' | 'startSimDeployment' | 'validatePlanText'>,
    private readonly log: ScaleTestLog,
    private readonly redactor: SecretRedactor,
    errors: CommandErrors,
    /** Whether a live run targets this deployment (it must not be stopped under the run). */
    private readonly runUsing: (url: string) => boolean,
  ) {
    super();
    this.register(vscode.window.registerTreeDataProvider('coderScaletest.deployments', this.register(new DeploymentsTreeProvider(store))));
    this.register(registerCommand(errors, 'coderScaletest.connect', (args?: ConnectArgs) => this.connect(args ?? {})));
    this.register(registerCommand(errors, 'coderScaletest.logout', (arg?: DeploymentArg) => this.logout(arg)));
    this.register(registerCommand(errors, 'coderScaletest.refreshDeployments', () => this.store.refresh()));
    this.register(registerCommand(errors, 'coderScaletest.setDefaultDeployment', (arg?: DeploymentArg) => this.setDefault(arg)));
    this.register(registerCommand(errors, 'coderScaletest.startSimulatedDeployment', () => this.startSim()));
    this.register(registerCommand(errors, 'coderScaletest.stopSimulatedDeployment', () => this.stopSim()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('coderScaletest')) void this.store.refresh();
        if (event.affectsConfiguration('coderScaletest.tls.insecure') && readSettings().tls.insecure) {
          void vscode.window.showWarningMessage(
            'Coder Scale Test: TLS certificate verification is now off for every deployment. Use this only for test deployments you control; prefer coderScaletest.tls.caFile.',
          );
        }
      }),
    );
    void vscode.commands.executeCommand('setContext', 'coderScaletest.simRunning', false);
  }

  /** The process serving the simulated deployment, if this window started one. */
  get simPid(): number | undefined {
    return this.sim?.pid;
  }

  /** Stops the simulated deployment this window started (on deactivate), waiting a bounded time. */
  async disposeSim(): Promise<void> {
    const sim = this.sim;
    this.sim = undefined;
    await sim?.close();
  }

  private async simExited(sim: SimDeploymentHandle, reason: string): Promise<void> {
    if (this.sim !== sim) return;
    this.sim = undefined;
    this.log.error(`Simulated deployment at ${sim.url} stopped unexpectedly: ${reason}`);
    await vscode.commands.executeCommand('setContext', 'coderScaletest.simRunning', false);
    await this.store.logout(sim.url);
  }

  private async connect(args: ConnectArgs): Promise<DeploymentInfo | undefined> {
    const rawUrl =
      args.url ??
      (await vscode.window.showInputBox({
        title: 'Connect to a Coder deployment (1/2)',
        prompt: 'Access URL of the deployment',
        placeHolder: 'https://coder.example.com',
        ignoreFocusOut: true,
        validateInput: (value) => {
          try {
            normalizeDeploymentUrl(value);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
      }));
    if (!rawUrl) return undefined;
    const url = normalizeDeploymentUrl(rawUrl);
    const tls = readSettings().tls;
    if (tls.insecure) {
      void vscode.window.showWarningMessage(
        'Coder Scale Test: TLS certificate verification is off (coderScaletest.tls.insecure). Use this only for test deployments you control.',
      );
    }
    let token = args.token;
    if (!token) {
      let email = args.email;
      let password = args.password;
      if (!email || !password) {
        const method = email
          ? 'password'
          : await vscode.window
              .showQuickPick(
                [
                  { label: 'Session token', description: 'from `coder tokens create` or the dashboard', value: 'token' as const },
                  { label: 'Email and password', description: 'an owner account with password login', value: 'password' as const },
                ],
                { title: 'Connect to a Coder deployment (2/2)', placeHolder: 'How do you want to sign in?', ignoreFocusOut: true },
              )
              .then((choice) => choice?.value);
        if (!method) return undefined;
        if (method === 'token') {
          token = await vscode.window.showInputBox({
            title: `Session token for ${url}`,
            password: true,
            ignoreFocusOut: true,
            prompt: 'Stored in VS Code SecretStorage',
          });
          if (!token) return undefined;
        } else {
          email ??= await vscode.window.showInputBox({ title: `Email for ${url}`, ignoreFocusOut: true, placeHolder: 'admin@example.com' });
          if (!email) return undefined;
          password = await vscode.window.showInputBox({ title: `Password for ${email}`, password: true, ignoreFocusOut: true });
          if (!password) return undefined;
        }
      }
      if (!token) {
        this.redactor.add(password);
        token = await this.backend.login(url, email!, password!, tls);
      }
    }
    const info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Connecting to ${url}…` }, () =>
      this.store.add(url, token!),
    );
    this.log.info(`Connected to ${url} (${info.version}) as ${info.username}${info.isOwner ? ', owner' : ''}`);
    if (!info.isOwner) {
      void vscode.window.showWarningMessage(
        `${info.username} is not an owner of ${url}: scale tests create users and workspaces and need the owner role.`,
      );
    } else if (!readSettings().defaultDeployment) {
      await setDefaultDeployment(url);
    }
    return info;
  }

  async pickKnownDeployment(title: string, arg?: DeploymentArg): Promise<string | undefined> {
    if (arg instanceof DeploymentNode) return arg.deployment.url;
    if (arg?.url) return normalizeDeploymentUrl(arg.url);
    const known = this.store.list();
    if (known.length === 0) throw new Error('No deployment is known yet: connect to one or start the simulated deployment.');
    if (known.length === 1) return known[0].url;
    return (
      await vscode.window.showQuickPick(
        known.map((d) => ({ label: d.url, description: d.simulated ? 'simulated' : undefined })),
        { title },
      )
    )?.label;
  }

  private async logout(arg?: DeploymentArg): Promise<void> {
    const url = await this.pickKnownDeployment('Log out of which deployment?', arg);
    if (!url) return;
    await this.store.logout(url);
    this.log.info(`Logged out of ${url}`);
  }

  private async setDefault(arg?: DeploymentArg): Promise<void> {
    const url = await this.pickKnownDeployment('Default deployment for runs', arg);
    if (url) await setDefaultDeployment(url);
  }

  private async startSim(): Promise<{ url: string }> {
    if (this.sim) {
      void vscode.window.showInformationMessage(`The simulated deployment is already running at ${this.sim.url}.`);
      return { url: this.sim.url };
    }
    const sim = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Starting the simulated Coder deployment…' },
      () => this.backend.startSimDeployment(),
    );
    this.sim = sim;
    this.redactor.add(sim.ownerToken);
    void sim.exited?.then((reason) => this.simExited(sim, reason));
    await vscode.commands.executeCommand('setContext', 'coderScaletest.simRunning', true);
    await this.store.add(sim.url, sim.ownerToken, true);
    this.log.info(`Simulated deployment running at ${sim.url} (owner ${sim.ownerEmail})`);
    return { url: sim.url };
  }

  private async stopSim(): Promise<void> {
    const sim = this.sim;
    if (!sim) {
      void vscode.window.showInformationMessage('The simulated deployment is not running.');
      return;
    }
    if (this.runUsing(sim.url)) throw new Error('A run is using the simulated deployment: stop the run first.');
    this.sim = undefined;
    await sim.close();
    await vscode.commands.executeCommand('setContext', 'coderScaletest.simRunning', false);
    await this.store.logout(sim.url);
    if (readSettings().defaultDeployment === sim.url) await setDefaultDeployment(undefined);
    this.log.info(`Simulated deployment at ${sim.url} stopped`);
  }

  /** The deployment to run a plan against: the plan's, the default, the only one, or the user's pick. */
  async pickDeploymentFor(planUri: vscode.Uri): Promise<string | undefined> {
    const known = this.store.list();
    const knownUrls = new Set(known.map((d) => d.url));
    try {
      const plan = this.backend.validatePlanText(Buffer.from(await vscode.workspace.fs.readFile(planUri)).toString('utf8'), planUri.fsPath);
      if (plan.deploymentUrl && knownUrls.has(normalizeDeploymentUrl(plan.deploymentUrl)))
        return normalizeDeploymentUrl(plan.deploymentUrl);
    } catch {
      // An invalid plan is reported by the run itself, with every problem listed.
    }
    const preferred = readSettings().defaultDeployment;
    if (preferred && knownUrls.has(preferred)) return preferred;
    if (known.length === 1) return known[0].url;
    if (known.length === 0) {
      const choice = await vscode.window.showWarningMessage('No Coder deployment is connected.', 'Start Simulated Deployment', 'Connect…');
      if (choice === 'Start Simulated Deployment') return (await this.startSim()).url;
      if (choice === 'Connect…') {
        await this.connect({});
        return this.store.list()[0]?.url;
      }
      return undefined;
    }
    return (
      await vscode.window.showQuickPick(
        known.map((d) => ({ label: d.url, description: d.simulated ? 'simulated' : undefined })),
        { title: 'Run against which deployment?' },
      )
    )?.label;
  }
}
