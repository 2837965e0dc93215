// The Plans feature: the Plans view, new plans from the default, validation into the
// Problems view, and opening plans.
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { ScaleTestBackend } from '../backend';
import { registerCommand, type CommandErrors } from '../commands';
import { Disposable } from '../lifecycle';
import { planDiagnostic } from './diagnostics';
import { planDisplayName, type PlanIndex } from './planIndex';
import { PlanNode, PlansTreeProvider } from './tree';

/** Plan argument forms: a Uri (explorer, editor title), a Plans node, or `{ path }`. */
export type PlanArg = vscode.Uri | PlanNode | { path: string } | undefined;

export class PlansFeature extends Disposable {
  private readonly diagnostics = this.register(vscode.languages.createDiagnosticCollection('coder-scaletest'));

  constructor(
    private readonly plans: PlanIndex,
    private readonly backend: Pick<ScaleTestBackend, 'validatePlanText' | 'defaultPlanText'>,
    errors: CommandErrors,
  ) {
    super();
    this.register(vscode.window.registerTreeDataProvider('coderScaletest.plans', this.register(new PlansTreeProvider(plans))));
    this.register(registerCommand(errors, 'coderScaletest.newPlan', (args?: { path?: string }) => this.newPlan(args)));
    this.register(registerCommand(errors, 'coderScaletest.validatePlan', (arg?: PlanArg) => this.validatePlan(arg)));
    this.register(registerCommand(errors, 'coderScaletest.openPlan', (arg?: PlanArg) => this.openPlan(arg)));
  }

  async resolvePlan(arg: PlanArg, purpose: string): Promise<vscode.Uri | undefined> {
    if (arg instanceof vscode.Uri) return arg;
    if (arg instanceof PlanNode) return arg.uri;
    if (arg && 'path' in arg) return vscode.Uri.file(arg.path);
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active?.fsPath.endsWith('.scaletest.json')) return active;
    const plans = this.plans.list();
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
    await vscode.workspace.fs.writeFile(target, Buffer.from(this.backend.defaultPlanText(), 'utf8'));
    await this.plans.rescan();
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
      const plan = this.backend.validatePlanText(text, vscode.workspace.asRelativePath(uri));
      this.diagnostics.delete(uri);
      void vscode.window.showInformationMessage(
        `${planDisplayName(uri)} is valid: ${plan.stages.join(', ')}; ${plan.thresholds.length} thresholds.`,
      );
      return { valid: true, problems: [] };
    } catch (error) {
      const problems = (error as Error).message.split('\n').filter(Boolean);
      this.diagnostics.set(
        uri,
        problems.map((problem) => planDiagnostic(text, problem)),
      );
      void vscode.window.showErrorMessage(`${planDisplayName(uri)} is not valid: ${problems.length} problem(s), see the Problems view.`);
      return { valid: false, problems };
    }
  }
}
