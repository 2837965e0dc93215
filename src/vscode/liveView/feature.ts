// The live view feature (the "Scale Test Dashboard" panel, not Coder's dashboard): the live run,
// past runs shown in it, and two runs compared side by side.
import * as vscode from 'vscode';
import type { ScaleTestBackend } from '../backend';
import { registerCommand, type CommandErrors } from '../commands';
import { Disposable } from '../lifecycle';
import type { RunController } from '../runs/controller';
import { compareReportDirs, isPlanBaseline } from '../runs/baselineModel';
import type { RunHistory } from '../runs/pastRuns';
import { pickRun, type RunArg } from '../runs/pickRun';
import type { LiveViewPanel } from './panel';

export class LiveViewFeature extends Disposable {
  constructor(
    private readonly panel: LiveViewPanel,
    private readonly runs: RunController,
    private readonly history: RunHistory,
    private readonly backend: Pick<ScaleTestBackend, 'readReport'>,
    errors: CommandErrors,
  ) {
    super();
    this.register(registerCommand(errors, 'coderScaletest.showDashboard', () => this.showDashboard()));
    this.register(registerCommand(errors, 'coderScaletest.openRunInDashboard', (arg?: RunArg) => this.openRunInDashboard(arg)));
    this.register(
      registerCommand(errors, 'coderScaletest.compareRuns', (args?: { left?: string; right?: string }) => this.compareRuns(args)),
    );
  }

  private showDashboard(): void {
    const live = this.runs.current?.snapshot;
    if (live) {
      this.panel.unpin();
      this.panel.showLive(live);
    }
    this.panel.show();
  }

  private async openRunInDashboard(arg: RunArg): Promise<void> {
    const run = await pickRun(this.history, this.backend, arg, 'open');
    if (!run) return;
    this.panel.pin({ type: 'snapshot', snapshot: { ...run.snapshot, reportDir: run.dir ?? run.snapshot.reportDir }, source: 'report' });
    this.panel.show();
  }

  private async compareRuns(args?: { left?: string; right?: string }): Promise<void> {
    let dirs: [string, string];
    if (args?.left && args.right) dirs = [args.left, args.right];
    else {
      const runs = (await this.history.list()).filter((run) => run.snapshot);
      if (runs.length < 2) throw new Error('Comparing needs two finished runs in the results folder.');
      const picked = await vscode.window.showQuickPick(
        runs.map((run) => ({
          label: `${run.snapshot!.planName} (${run.snapshot!.runId})`,
          description: `${run.snapshot!.verdict} · ${new Date(run.snapshot!.startedAt).toLocaleString()}`,
          dir: run.dir,
        })),
        { title: 'Pick two runs to compare', canPickMany: true },
      );
      if (!picked) return;
      if (picked.length !== 2) throw new Error(`Pick exactly two runs to compare (you picked ${picked.length}).`);
      dirs = [picked[0].dir, picked[1].dir];
    }
    const [left, right] = await Promise.all(dirs.map(async (dir) => ({ dir, snapshot: await this.backend.readReport(dir) })));
    // Older run on the left, so "Change" reads as what happened since.
    const [older, newer] = left.snapshot.startedAt <= right.snapshot.startedAt ? [left, right] : [right, left];
    this.panel.pin({
      type: 'compare',
      left: { label: older.snapshot.runId, snapshot: older.snapshot },
      right: { label: newer.snapshot.runId, snapshot: newer.snapshot },
      reference: isPlanBaseline(this.history.folder(), older.snapshot.planName, older.snapshot.runId) ? 'baseline' : 'older',
      comparison: compareReportDirs(older.dir, newer.dir),
    });
    this.panel.show();
  }
}
