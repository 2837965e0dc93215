// Every command of the extension. Each accepts an optional argument object so tests and
// other extensions can drive it without input boxes; without one it asks the user.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunSnapshot } from '../protocol/snapshot';
import type { DeploymentInfo, ScaleTestBackend, SimDeploymentHandle } from './backend';
import type { CommandId } from './commandIds';
import type { DashboardHost } from './dashboardPanel';
import { normalizeDeploymentUrl } from './deploymentUrl';
import { DeploymentNode, type DeploymentStore } from './deployments';
import type { ScaleTestLog } from './log';
import { PlanNode, planDisplayName, type PlanIndex } from './plans';
import type { SecretRedactor } from './redact';
import type { RunController } from './runController';
import { ReportFileNode, RunNode, type RunHistory, type RunsTreeProvider } from './runs';
import { readSettings, setDefaultDeployment } from './settings';

export interface CommandContext {
  context: vscode.ExtensionContext;
  backend: ScaleTestBackend;
  deployments: DeploymentStore;
  plans: PlanIndex;
  runs: RunController;
  history: RunHistory;
  runsTree: RunsTreeProvider;
  dashboard: DashboardHost;
  log: ScaleTestLog;
  redactor: SecretRedactor;
  diagnostics: vscode.DiagnosticCollection;
}

export interface ConnectArgs {
  url?: string;
  token?: string;
  email?: string;
  password?: string;
}

export interface RunPlanResult {
  runId: string;
  verdict: RunSnapshot['verdict'];
  status: RunSnapshot['status'];
  reportDir?: string;
}

/** Plan argument forms: a Uri (explorer, editor title), a Plans node, or `{ path }`. */
type PlanArg = vscode.Uri | PlanNode | { path: string } | undefined;
/** Run argument forms: a Runs node, or `{ runDir }`. */
type RunArg = RunNode | ReportFileNode | { runDir?: string; file?: string } | undefined;

export class Commands {
  private sim: SimDeploymentHandle | undefined;
  /** The last error a command showed (integration tests read it through the extension API). */
  lastError: string | undefined;

  constructor(private readonly c: CommandContext) {}

  register(): vscode.Disposable[] {
    const handlers: Record<CommandId, (...args: never[]) => unknown> = {
      'coderScaletest.connect': (args?: ConnectArgs) => this.connect(args ?? {}),
      'coderScaletest.logout': (arg?: DeploymentNode | { url: string }) => this.logout(arg),
      'coderScaletest.refreshDeployments': () => this.c.deployments.refresh(),
      'coderScaletest.setDefaultDeployment': (arg?: DeploymentNode | { url: string }) => this.setDefault(arg),
      'coderScaletest.startSimulatedDeployment': () => this.startSim(),
      'coderScaletest.stopSimulatedDeployment': () => this.stopSim(),
      'coderScaletest.newPlan': (args?: { path?: string }) => this.newPlan(args),
      'coderScaletest.validatePlan': (arg?: PlanArg) => this.validatePlan(arg),
      'coderScaletest.runPlan': (arg?: PlanArg, options?: { deploymentUrl?: string }) => this.runPlan(arg, options),
      'coderScaletest.openPlan': (arg?: PlanArg) => this.openPlan(arg),
      'coderScaletest.stopRun': () => this.stopRun(),
      'coderScaletest.cleanupRun': (arg?: RunArg | { runId: string; deploymentUrl?: string }) => this.cleanupRun(arg),
      'coderScaletest.showDashboard': () => this.showDashboard(),
      'coderScaletest.openRunInDashboard': (arg?: RunArg) => this.openRunInDashboard(arg),
      'coderScaletest.openReportFile': (arg?: RunArg) => this.openReportFile(arg),
      'coderScaletest.exportReport': (arg?: RunArg & { target?: string }) => this.exportReport(arg),
      'coderScaletest.compareRuns': (args?: { left?: string; right?: string }) => this.compareRuns(args),
      'coderScaletest.refreshRuns': () => this.c.runsTree.refresh(),
      'coderScaletest.showLog': () => this.c.log.show(),
    };
    return Object.entries(handlers).map(([id, handler]) =>
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await (handler as (...a: unknown[]) => unknown)(...args);
        } catch (error) {
          this.fail(error);
          return undefined;
        }
      }),
    );
  }

  /** Stops the simulated deployment this window started (on deactivate). */
  async disposeSim(): Promise<void> {
    await this.sim?.close();
    this.sim = undefined;
  }

  private fail(error: unknown): void {
    const message = this.c.redactor.redact(error instanceof Error ? error.message : String(error));
    this.lastError = message;
    this.c.log.error(message);
    void vscode.window.showErrorMessage(message, 'Show Log').then((choice) => choice && this.c.log.show());
  }

  // ---- deployments ----

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
      void vscode.window.showWarningMessage('Coder Scale Test: TLS certificate verification is off (coderScaletest.tls.insecure). Use this only for test deployments you control.');
    }
    let token = args.token;
    if (!token) {
      let email = args.email;
      let password = args.password;
      if (!email || !password) {
        const method = email
          ? 'password'
          : await vscode.window.showQuickPick(
              [
                { label: 'Session token', description: 'from `coder tokens create` or the dashboard', value: 'token' as const },
                { label: 'Email and password', description: 'an owner account with password login', value: 'password' as const },
              ],
              { title: 'Connect to a Coder deployment (2/2)', placeHolder: 'How do you want to sign in?', ignoreFocusOut: true },
            ).then((choice) => choice?.value);
        if (!method) return undefined;
        if (method === 'token') {
          token = await vscode.window.showInputBox({ title: `Session token for ${url}`, password: true, ignoreFocusOut: true, prompt: 'Stored in VS Code SecretStorage' });
          if (!token) return undefined;
        } else {
          email ??= await vscode.window.showInputBox({ title: `Email for ${url}`, ignoreFocusOut: true, placeHolder: 'admin@example.com' });
          if (!email) return undefined;
          password = await vscode.window.showInputBox({ title: `Password for ${email}`, password: true, ignoreFocusOut: true });
          if (!password) return undefined;
        }
      }
      if (!token) {
        this.c.redactor.add(password);
        token = await this.c.backend.login(url, email!, password!, tls);
      }
    }
    const info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Connecting to ${url}…` }, () =>
      this.c.deployments.add(url, token!),
    );
    this.c.log.info(`Connected to ${url} (${info.version}) as ${info.username}${info.isOwner ? ', owner' : ''}`);
    if (!info.isOwner) {
      void vscode.window.showWarningMessage(`${info.username} is not an owner of ${url}: scale tests create users and workspaces and need the owner role.`);
    } else if (!readSettings().defaultDeployment) {
      await setDefaultDeployment(url);
    }
    return info;
  }

  private async pickKnownDeployment(title: string, arg?: DeploymentNode | { url: string }): Promise<string | undefined> {
    if (arg instanceof DeploymentNode) return arg.deployment.url;
    if (arg?.url) return normalizeDeploymentUrl(arg.url);
    const known = this.c.deployments.list();
    if (known.length === 0) throw new Error('No deployment is known yet: connect to one or start the simulated deployment.');
    if (known.length === 1) return known[0].url;
    return (await vscode.window.showQuickPick(known.map((d) => ({ label: d.url, description: d.simulated ? 'simulated' : undefined })), { title }))?.label;
  }

  private async logout(arg?: DeploymentNode | { url: string }): Promise<void> {
    const url = await this.pickKnownDeployment('Log out of which deployment?', arg);
    if (!url) return;
    await this.c.deployments.logout(url);
    this.c.log.info(`Logged out of ${url}`);
  }

  private async setDefault(arg?: DeploymentNode | { url: string }): Promise<void> {
    const url = await this.pickKnownDeployment('Default deployment for runs', arg);
    if (url) await setDefaultDeployment(url);
  }

  private async startSim(): Promise<{ url: string }> {
    if (this.sim) {
      void vscode.window.showInformationMessage(`The simulated deployment is already running at ${this.sim.url}.`);
      return { url: this.sim.url };
    }
    const sim = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Starting the simulated Coder deployment…' }, () =>
      this.c.backend.startSimDeployment(),
    );
    this.sim = sim;
    this.c.redactor.add(sim.ownerToken);
    await vscode.commands.executeCommand('setContext', 'coderScaletest.simRunning', true);
    await this.c.deployments.add(sim.url, sim.ownerToken, true);
    this.c.log.info(`Simulated deployment running at ${sim.url} (owner ${sim.ownerEmail})`);
    return { url: sim.url };
  }

  private async stopSim(): Promise<void> {
    const sim = this.sim;
    if (!sim) {
      void vscode.window.showInformationMessage('The simulated deployment is not running.');
      return;
    }
    if (this.c.runs.current?.snapshot?.deploymentUrl === sim.url) throw new Error('A run is using the simulated deployment: stop the run first.');
    this.sim = undefined;
    await sim.close();
    await vscode.commands.executeCommand('setContext', 'coderScaletest.simRunning', false);
    await this.c.deployments.logout(sim.url);
    if (readSettings().defaultDeployment === sim.url) await setDefaultDeployment(undefined);
    this.c.log.info(`Simulated deployment at ${sim.url} stopped`);
  }

  /** The deployment to run a plan against: the plan's, the default, the only one, or the user's pick. */
  async pickDeploymentFor(planUri: vscode.Uri): Promise<string | undefined> {
    const known = this.c.deployments.list();
    const knownUrls = new Set(known.map((d) => d.url));
    try {
      const plan = this.c.backend.validatePlanText(Buffer.from(await vscode.workspace.fs.readFile(planUri)).toString('utf8'), planUri.fsPath);
      if (plan.deploymentUrl && knownUrls.has(normalizeDeploymentUrl(plan.deploymentUrl))) return normalizeDeploymentUrl(plan.deploymentUrl);
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
        return this.c.deployments.list()[0]?.url;
      }
      return undefined;
    }
    return (await vscode.window.showQuickPick(known.map((d) => ({ label: d.url, description: d.simulated ? 'simulated' : undefined })), { title: 'Run against which deployment?' }))?.label;
  }

  // ---- plans ----

  private async resolvePlan(arg: PlanArg, purpose: string): Promise<vscode.Uri | undefined> {
    if (arg instanceof vscode.Uri) return arg;
    if (arg instanceof PlanNode) return arg.uri;
    if (arg && 'path' in arg) return vscode.Uri.file(arg.path);
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active?.fsPath.endsWith('.scaletest.json')) return active;
    const plans = this.c.plans.list();
    if (plans.length === 1) return plans[0];
    if (plans.length === 0) throw new Error('No *.scaletest.json plan in this workspace: create one with "Coder Scale Test: New Plan".');
    const picked = await vscode.window.showQuickPick(
      plans.map((uri) => ({ label: planDisplayName(uri), description: vscode.workspace.asRelativePath(uri), uri })),
      { title: `Which plan to ${purpose}?` },
    );
    return picked?.uri;
  }

  private async newPlan(args?: { path?: string }): Promise<vscode.Uri | undefined> {
    let target: vscode.Uri | undefined;
    if (args?.path) target = vscode.Uri.file(args.path);
    else {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      if (folder) {
        const name = await vscode.window.showInputBox({
          title: 'New scale test plan',
          prompt: 'File name (".scaletest.json" is added)',
          value: 'smoke',
          validateInput: (value) => (/^[\w.-]+$/.test(value) ? undefined : 'Use letters, digits, ".", "-" or "_"'),
        });
        if (!name) return undefined;
        target = vscode.Uri.joinPath(folder, `${name.replace(/\.scaletest\.json$/, '')}.scaletest.json`);
      } else {
        target = await vscode.window.showSaveDialog({ filters: { 'Scale test plan': ['scaletest.json'] }, saveLabel: 'Create Plan' });
      }
    }
    if (!target) return undefined;
    if (fs.existsSync(target.fsPath)) throw new Error(`${target.fsPath} already exists: choose another name.`);
    await vscode.workspace.fs.writeFile(target, Buffer.from(this.c.backend.defaultPlanText(), 'utf8'));
    await this.c.plans.rescan();
    await vscode.window.showTextDocument(target);
    return target;
  }

  private async openPlan(arg: PlanArg): Promise<void> {
    const uri = await this.resolvePlan(arg, 'open');
    if (uri) await vscode.window.showTextDocument(uri);
  }

  private async validatePlan(arg: PlanArg): Promise<{ valid: boolean; problems: string[] } | undefined> {
    const uri = await this.resolvePlan(arg, 'validate');
    if (!uri) return undefined;
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    try {
      const plan = this.c.backend.validatePlanText(text, vscode.workspace.asRelativePath(uri));
      this.c.diagnostics.delete(uri);
      void vscode.window.showInformationMessage(`${planDisplayName(uri)} is valid: ${plan.stages.join(', ')}; ${plan.thresholds.length} thresholds.`);
      return { valid: true, problems: [] };
    } catch (error) {
      const problems = (error as Error).message.split('\n').filter(Boolean);
      this.c.diagnostics.set(uri, problems.map((problem) => planDiagnostic(text, problem)));
      void vscode.window.showErrorMessage(`${planDisplayName(uri)} is not valid: ${problems.length} problem(s), see the Problems view.`);
      return { valid: false, problems };
    }
  }

  private async runPlan(arg: PlanArg, options?: { deploymentUrl?: string }): Promise<RunPlanResult | undefined> {
    if (!vscode.workspace.isTrusted) throw new Error('Running a scale test is disabled in untrusted workspaces: trust this workspace first.');
    const uri = await this.resolvePlan(arg, 'run');
    if (!uri) return undefined;
    const deploymentUrl = options?.deploymentUrl ? normalizeDeploymentUrl(options.deploymentUrl) : await this.pickDeploymentFor(uri);
    if (!deploymentUrl) return undefined;
    this.c.dashboard.show();
    const outcome = await this.c.runs.run(uri, deploymentUrl);
    this.c.runsTree.refresh();
    const { snapshot } = outcome;
    const verdict = `${snapshot.planName}: run ${snapshot.runId} ${snapshot.status === 'finished' ? (snapshot.verdict === 'pass' ? 'passed' : 'failed') : snapshot.status}`;
    const reportDir = outcome.reportDir ?? snapshot.reportDir;
    const show = snapshot.verdict === 'pass' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(`${verdict}${snapshot.reason ? ` — ${snapshot.reason}` : ''}`, ...(reportDir ? ['Open Report'] : [])).then((choice) => {
      if (choice && reportDir) void this.openReportFile({ runDir: reportDir });
    });
    return { runId: snapshot.runId, verdict: snapshot.verdict, status: snapshot.status, reportDir };
  }

  private stopRun(): boolean {
    const stopped = this.c.runs.stop();
    if (!stopped) void vscode.window.showInformationMessage('No scale test is running.');
    return stopped;
  }

  // ---- runs and reports ----

  private async snapshotOf(arg: RunArg, purpose: string): Promise<{ snapshot: RunSnapshot; dir?: string } | undefined> {
    if (arg instanceof RunNode && arg.snapshot) return { snapshot: arg.snapshot, dir: arg.dir };
    const dir = arg instanceof ReportFileNode ? path.dirname(arg.file) : arg && !(arg instanceof RunNode) ? (arg.runDir ?? (arg.file ? path.dirname(arg.file) : undefined)) : undefined;
    if (dir) return { snapshot: await this.c.backend.readReport(dir), dir };
    const runs = (await this.c.history.list()).filter((run) => run.snapshot);
    if (runs.length === 0) throw new Error('No finished run in the results folder (setting coderScaletest.resultsFolder): run a plan first.');
    const picked = await vscode.window.showQuickPick(
      runs.map((run) => ({ label: `${run.snapshot!.planName} (${run.snapshot!.runId})`, description: run.snapshot!.verdict, run })),
      { title: `Which run to ${purpose}?` },
    );
    return picked ? { snapshot: picked.run.snapshot!, dir: picked.run.dir } : undefined;
  }

  private async cleanupRun(arg?: RunArg | { runId: string; deploymentUrl?: string }): Promise<string | undefined> {
    if (!vscode.workspace.isTrusted) throw new Error('Cleaning up runs is disabled in untrusted workspaces: trust this workspace first.');
    let runId: string | undefined;
    let deploymentUrl: string | undefined;
    if (arg && 'runId' in arg && typeof arg.runId === 'string') {
      runId = arg.runId;
      deploymentUrl = arg.deploymentUrl;
    } else {
      const known = (await this.c.history.list()).filter((run) => run.snapshot);
      if (arg instanceof RunNode && arg.snapshot) {
        runId = arg.snapshot.runId;
        deploymentUrl = arg.snapshot.deploymentUrl;
      } else {
        const picked = await vscode.window.showQuickPick(
          [
            ...known.map((run) => ({ label: run.snapshot!.runId, description: `${run.snapshot!.planName} · ${run.snapshot!.deploymentUrl}`, url: run.snapshot!.deploymentUrl })),
            { label: 'Enter a run id…', description: 'for a run killed before it wrote a report', url: undefined },
          ],
          { title: 'Clean up the leftovers of which run?' },
        );
        if (!picked) return undefined;
        runId = picked.url ? picked.label : await vscode.window.showInputBox({ title: 'Run id to clean up', placeHolder: 'st1a2b3c', validateInput: (v) => (/^[a-z0-9]+$/.test(v) ? undefined : 'A run id is lowercase letters and digits') });
        deploymentUrl = picked.url;
      }
    }
    if (!runId) return undefined;
    deploymentUrl = deploymentUrl ? normalizeDeploymentUrl(deploymentUrl) : await this.pickKnownDeployment('Clean up on which deployment?');
    if (!deploymentUrl) return undefined;
    const summary = await this.c.runs.cleanup(runId, deploymentUrl);
    void vscode.window.showInformationMessage(summary);
    return summary;
  }

  private showDashboard(): void {
    const live = this.c.runs.current?.snapshot;
    if (live) {
      this.c.dashboard.unpin();
      this.c.dashboard.showLive(live);
    }
    this.c.dashboard.show();
  }

  private async openRunInDashboard(arg: RunArg): Promise<void> {
    const run = await this.snapshotOf(arg, 'open');
    if (!run) return;
    this.c.dashboard.pin({ type: 'snapshot', snapshot: { ...run.snapshot, reportDir: run.dir ?? run.snapshot.reportDir }, source: 'report' });
    this.c.dashboard.show();
  }

  private async openReportFile(arg: RunArg): Promise<void> {
    let file = arg instanceof ReportFileNode ? arg.file : arg && !(arg instanceof RunNode) ? arg.file : undefined;
    if (!file) {
      const run = await this.snapshotOf(arg, 'open the report of');
      const dir = run?.dir ?? run?.snapshot.reportDir;
      if (!dir) return;
      file = path.join(dir, 'report.html');
    }
    if (!fs.existsSync(file)) throw new Error(`${file} does not exist (the run may not have finished writing its reports).`);
    // A browser can open a local file only where VS Code runs on the desktop; in a web
    // workbench (code-server) the file opens in the editor instead.
    if (file.endsWith('.html') && vscode.env.uiKind === vscode.UIKind.Desktop) {
      const opened = await vscode.env.openExternal(vscode.Uri.file(file));
      if (opened) return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  }

  private async exportReport(arg?: RunArg & { target?: string }): Promise<string | undefined> {
    const run = await this.snapshotOf(arg, 'export');
    const dir = run?.dir ?? run?.snapshot.reportDir;
    if (!run || !dir) return undefined;
    let target = arg && 'target' in arg ? arg.target : undefined;
    if (!target) {
      const defaultUri = vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.dirname(dir), `${run.snapshot.runId}-report.html`));
      target = (
        await vscode.window.showSaveDialog({
          defaultUri,
          title: `Export the report of ${run.snapshot.runId}`,
          filters: { 'HTML report': ['html'], 'JSON report': ['json'], 'JUnit XML': ['xml'] },
        })
      )?.fsPath;
    }
    if (!target) return undefined;
    const source = target.endsWith('.json') ? 'report.json' : target.endsWith('.xml') ? 'junit.xml' : 'report.html';
    await fs.promises.copyFile(path.join(dir, source), target);
    void vscode.window.showInformationMessage(`Exported ${source} of ${run.snapshot.runId} to ${target}`);
    return target;
  }

  private async compareRuns(args?: { left?: string; right?: string }): Promise<void> {
    let dirs: [string, string];
    if (args?.left && args.right) dirs = [args.left, args.right];
    else {
      const runs = (await this.c.history.list()).filter((run) => run.snapshot);
      if (runs.length < 2) throw new Error('Comparing needs two finished runs in the results folder.');
      const picked = await vscode.window.showQuickPick(
        runs.map((run) => ({ label: `${run.snapshot!.planName} (${run.snapshot!.runId})`, description: `${run.snapshot!.verdict} · ${new Date(run.snapshot!.startedAt).toLocaleString()}`, dir: run.dir })),
        { title: 'Pick two runs to compare', canPickMany: true },
      );
      if (!picked) return;
      if (picked.length !== 2) throw new Error(`Pick exactly two runs to compare (you picked ${picked.length}).`);
      dirs = [picked[0].dir, picked[1].dir];
    }
    const [left, right] = await Promise.all(dirs.map((dir) => this.c.backend.readReport(dir)));
    // Older run on the left, so "Change" reads as what happened since.
    const ordered = left.startedAt <= right.startedAt ? [left, right] : [right, left];
    this.c.dashboard.pin({
      type: 'compare',
      left: { label: ordered[0].runId, snapshot: ordered[0] },
      right: { label: ordered[1].runId, snapshot: ordered[1] },
    });
    this.c.dashboard.show();
  }
}

/** Places a validation problem (`field.path: message`) on the line where that field is written. */
export function planDiagnostic(text: string, problem: string): vscode.Diagnostic {
  const field = /^([\w$.[\]]+):/.exec(problem)?.[1];
  const key = field?.split('.').pop()?.replace(/\[\d+\]$/, '');
  let range = new vscode.Range(0, 0, 0, 1);
  if (key) {
    const lines = text.split('\n');
    const line = lines.findIndex((candidate) => candidate.includes(`"${key}"`));
    if (line >= 0) range = new vscode.Range(line, lines[line].indexOf(`"${key}"`), line, lines[line].indexOf(`"${key}"`) + key.length + 2);
  }
  const diagnostic = new vscode.Diagnostic(range, problem, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'coder-scaletest';
  return diagnostic;
}
