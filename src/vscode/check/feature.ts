// *Check Deployment* and *Push Scale-Test Template*: the pre-run check of a plan against a
// deployment, shown as a Markdown preview with each line and its advice; when the check finds
// no suitable template, the Deployments view offers the push (its title bar and the
// notification), which pushes a shipped template with its import logs in the log channel.
import * as path from 'path';
import * as vscode from 'vscode';
import type { CheckReport } from '../../engine/check/check';
import { checkMarkdown } from './markdown';
import type { TemplateKind } from '../../engine/templates/push';
import { registerCommand, type CommandErrors } from '../commands';
import { Disposable } from '../lifecycle';
import type { ScaleTestLog } from '../log';
import type { DeploymentsFeature } from '../deployments/feature';
import type { DeploymentStore } from '../deployments/store';
import type { PlanArg, PlansFeature } from '../plans/feature';
import type { ScaleTestBackend } from '../backend';

const OFFER_CONTEXT = 'coderScaletest.offerTemplatePush';
/**
 * The check's Markdown lives in a read-only document of its own scheme: an untitled document
 * would stay open, unsaved, and ask to be saved on every close.
 */
const CHECK_SCHEME = 'coder-scaletest-check';

export class CheckFeature extends Disposable {
  /** The latest check's Markdown per plan, by its document's URI. */
  private readonly checks = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();

  constructor(
    private readonly plans: PlansFeature,
    private readonly deployments: DeploymentsFeature,
    private readonly store: DeploymentStore,
    private readonly backend: Pick<ScaleTestBackend, 'checkDeployment' | 'pushTemplate'>,
    private readonly log: ScaleTestLog,
    errors: CommandErrors,
  ) {
    super();
    this.register(
      vscode.workspace.registerTextDocumentContentProvider(CHECK_SCHEME, {
        onDidChange: this.changed.event,
        provideTextDocumentContent: (uri) => this.checks.get(uri.toString()) ?? '',
      }),
    );
    this.register(this.changed);
    this.register(registerCommand(errors, 'coderScaletest.checkDeployment', (arg?: PlanArg) => this.check(arg)));
    this.register(registerCommand(errors, 'coderScaletest.pushTemplate', (arg?: { url?: string; kind?: TemplateKind }) => this.push(arg)));
    void vscode.commands.executeCommand('setContext', OFFER_CONTEXT, false);
  }

  private async check(arg?: PlanArg): Promise<CheckReport | undefined> {
    const uri = await this.plans.resolvePlan(arg, 'check');
    if (!uri) return undefined;
    const url = await this.deployments.pickDeploymentFor(uri);
    if (!url) return undefined;
    const connection = await this.store.connection(url);
    const planText = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Checking ${url} against ${vscode.workspace.asRelativePath(uri)}` },
      () => this.backend.checkDeployment(planText, vscode.workspace.asRelativePath(uri), connection),
    );
    for (const line of report.lines) this.log.info(`check ${line.status.padEnd(4)} ${line.title}: ${line.detail}`);
    const checkUri = vscode.Uri.from({ scheme: CHECK_SCHEME, path: `/${path.basename(uri.fsPath, '.json')}.check.md` });
    this.checks.set(checkUri.toString(), checkMarkdown(report));
    this.changed.fire(checkUri);
    await vscode.commands.executeCommand('markdown.showPreview', checkUri);
    await vscode.commands.executeCommand('setContext', OFFER_CONTEXT, report.offerTemplatePush);
    if (report.offerTemplatePush) {
      const choice = await vscode.window.showWarningMessage(
        `${url} has no template with what the scale test needs.`,
        'Push Scale-Test Template',
      );
      if (choice) await this.push({ url });
    } else if (!report.passed) {
      void vscode.window.showErrorMessage(
        `The pre-run check failed: ${report.lines
          .filter((l) => l.status === 'fail')
          .map((l) => l.title)
          .join(', ')}.`,
      );
    } else
      void vscode.window.showInformationMessage(
        `The pre-run check passed (${report.lines.filter((l) => l.status === 'warn').length} warning(s)).`,
      );
    return report;
  }

  private async push(arg?: { url?: string; kind?: TemplateKind }): Promise<string | undefined> {
    const url = arg?.url ?? (await this.pickUrl());
    if (!url) return undefined;
    const kind =
      arg?.kind ??
      ((
        await vscode.window.showQuickPick(
          [
            { label: 'kubernetes', description: 'a pod per workspace (templates/kubernetes)' },
            { label: 'docker', description: 'a container per workspace (templates/docker)' },
          ],
          // Often opened from a notification's button: a focus change as the notification closes
          // must not dismiss the pick before the user has seen it.
          { title: 'Which scale-test template?', ignoreFocusOut: true },
        )
      )?.label as TemplateKind | undefined);
    if (!kind) return undefined;
    const connection = await this.store.connection(url);
    const summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Pushing the ${kind} scale-test template to ${url}` },
      (progress) =>
        this.backend.pushTemplate(kind, connection, (line) => {
          this.log.info(`[template] ${line}`);
          progress.report({ message: line.trim().slice(0, 120) });
        }),
    );
    await vscode.commands.executeCommand('setContext', OFFER_CONTEXT, false);
    void vscode.window.showInformationMessage(summary);
    return summary;
  }

  private async pickUrl(): Promise<string | undefined> {
    const known = this.store.list();
    if (known.length === 1) return known[0]!.url;
    if (known.length === 0) throw new Error('No deployment connected: connect one first (Coder Scale Test: Connect to Deployment).');
    return (
      await vscode.window.showQuickPick(
        known.map(({ url }) => ({ label: url })),
        { title: 'Push the template to which deployment?' },
      )
    )?.label;
  }
}
