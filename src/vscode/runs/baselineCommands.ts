// Runs view actions for baselines: Mark as Baseline (the run becomes its plan's baseline in the
// results folder, as `coder-scaletest baseline set` does) and Compare with Baseline (the
// dashboard's compare view, the baseline as the reference).
import * as vscode from 'vscode';
import type { ScaleTestBackend } from '../backend';
import { registerCommand, type CommandErrors } from '../commands';
import type { LiveViewPanel } from '../liveView/panel';
import { Disposable } from '../lifecycle';
import { baselineCompareState, markRunAsBaseline } from './baselineModel';
import type { RunHistory } from './pastRuns';
import { pickRun, type RunArg } from './pickRun';

export class BaselineCommands extends Disposable {
  constructor(
    private readonly history: RunHistory,
    private readonly backend: Pick<ScaleTestBackend, 'readReport'>,
    private readonly tree: { refresh(): void },
    private readonly liveView: LiveViewPanel,
    errors: CommandErrors,
  ) {
    super();
    this.register(registerCommand(errors, 'coderScaletest.markBaseline', (arg?: RunArg) => this.markBaseline(arg)));
    this.register(registerCommand(errors, 'coderScaletest.compareWithBaseline', (arg?: RunArg) => this.compareWithBaseline(arg)));
  }

  private async runDir(arg: RunArg, purpose: string): Promise<string | undefined> {
    const run = await pickRun(this.history, this.backend, arg, purpose);
    const dir = run?.dir ?? run?.snapshot.reportDir;
    if (run && !dir) throw new Error(`Run ${run.snapshot.runId} has no report folder yet: wait until it has finished.`);
    return dir;
  }

  private async markBaseline(arg: RunArg): Promise<string | undefined> {
    const dir = await this.runDir(arg, 'mark as the baseline of its plan');
    if (!dir) return undefined;
    const { message, warn } = markRunAsBaseline(dir, this.history.folder());
    this.tree.refresh();
    void (warn ? vscode.window.showWarningMessage(message) : vscode.window.showInformationMessage(message));
    return message;
  }

  private async compareWithBaseline(arg: RunArg): Promise<void> {
    const dir = await this.runDir(arg, 'compare with its baseline');
    if (!dir) return;
    this.liveView.pin(baselineCompareState(this.history.folder(), dir));
    this.liveView.show();
  }
}
