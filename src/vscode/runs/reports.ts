// Report files of past runs: opening one, and exporting it (HTML, JSON or JUnit XML).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ScaleTestBackend } from '../backend';
import { registerCommand, type CommandErrors } from '../commands';
import { Disposable } from '../lifecycle';
import type { RunHistory } from './pastRuns';
import { pickRun, type RunArg } from './pickRun';
import { ReportFileNode, RunNode } from './tree';

export class ReportCommands extends Disposable {
  constructor(
    private readonly history: RunHistory,
    private readonly backend: Pick<ScaleTestBackend, 'readReport'>,
    errors: CommandErrors,
  ) {
    super();
    this.register(registerCommand(errors, 'coderScaletest.openReportFile', (arg?: RunArg) => this.openReportFile(arg)));
    this.register(registerCommand(errors, 'coderScaletest.exportReport', (arg?: RunArg & { target?: string }) => this.exportReport(arg)));
  }

  private async openReportFile(arg: RunArg): Promise<void> {
    let file = arg instanceof ReportFileNode ? arg.file : arg && !(arg instanceof RunNode) ? arg.file : undefined;
    if (!file) {
      const run = await pickRun(this.history, this.backend, arg, 'open the report of');
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
    const run = await pickRun(this.history, this.backend, arg, 'export');
    const dir = run?.dir ?? run?.snapshot.reportDir;
    if (!run || !dir) return undefined;
    let target = arg && 'target' in arg ? arg.target : undefined;
    if (!target) {
      const defaultUri = vscode.Uri.file(
        path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.dirname(dir), `${run.snapshot.runId}-report.html`),
      );
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
}
