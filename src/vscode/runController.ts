// Runs a plan through the engine and keeps every face current while it goes: the status bar,
// cancellable progress for prepare and cleanup, the log channel, the dashboard and whoever
// subscribes (Runs view, Test Explorer). One run at a time per window.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { isFinished } from '../protocol/format';
import type { RunSnapshot } from '../protocol/snapshot';
import type { LogLevel, RunOutcome, RunningTest, ScaleTestBackend } from './backend';
import type { DashboardHost } from './dashboardPanel';
import type { DeploymentStore } from './deployments';
import type { ScaleTestLog } from './log';
import type { SecretRedactor } from './redact';
import { statusBarSummary } from './runModel';
import { readSettings } from './settings';

export interface LiveRun {
  planUri: vscode.Uri;
  test: RunningTest;
  snapshot?: RunSnapshot;
}

export interface RunFinished {
  planUri: vscode.Uri;
  outcome?: RunOutcome;
  error?: Error;
}

export class RunController implements vscode.Disposable {
  private live: LiveRun | undefined;
  private readonly statusBar = vscode.window.createStatusBarItem('coderScaletest.run', vscode.StatusBarAlignment.Left, 50);
  private readonly started = new vscode.EventEmitter<LiveRun>();
  private readonly updated = new vscode.EventEmitter<RunSnapshot>();
  private readonly finished = new vscode.EventEmitter<RunFinished>();
  readonly onDidStart = this.started.event;
  readonly onDidUpdate = this.updated.event;
  readonly onDidFinish = this.finished.event;

  constructor(
    private readonly backend: ScaleTestBackend,
    private readonly deployments: DeploymentStore,
    private readonly dashboard: DashboardHost,
    private readonly log: ScaleTestLog,
    private readonly redactor: SecretRedactor,
    private readonly resultsFolder: () => string,
  ) {
    this.statusBar.name = 'Coder Scale Test';
    this.statusBar.command = 'coderScaletest.showDashboard';
  }

  get current(): LiveRun | undefined {
    return this.live;
  }

  /** Runs the plan in `planUri` against `deploymentUrl`; resolves when the run has ended. */
  async run(planUri: vscode.Uri, deploymentUrl: string, signal?: AbortSignal): Promise<RunOutcome> {
    if (this.live) throw new Error(`A run is already going (${this.live.test.runId}): stop it first.`);
    if (!vscode.workspace.isTrusted) throw new Error('Running a scale test is disabled in untrusted workspaces: trust this workspace first.');
    const planText = Buffer.from(await vscode.workspace.fs.readFile(planUri)).toString('utf8');
    const connection = await this.deployments.connection(deploymentUrl);
    const settings = readSettings();
    const outDir = this.resultsFolder();
    fs.mkdirSync(outDir, { recursive: true });
    const abort = new AbortController();
    signal?.addEventListener('abort', () => abort.abort(), { once: true });

    this.info(`Starting ${vscode.workspace.asRelativePath(planUri)} against ${deploymentUrl}; reports in ${outDir}`);
    let test: RunningTest;
    try {
      test = await this.backend.startRun({
        planText,
        planSource: planUri.fsPath,
        connection,
        outDir,
        signal: abort.signal,
        log: (level, line) => this.write(level, line),
        chromiumPath: settings.chromiumPath,
        coderBinaryPath: settings.coderBinaryPath,
      });
    } catch (error) {
      this.error(`Run could not start: ${(error as Error).message}`);
      throw error;
    }
    this.dashboard.unpin();
    const live: LiveRun = { planUri, test };
    this.live = live;
    void vscode.commands.executeCommand('setContext', 'coderScaletest.runActive', true);
    this.started.fire(live);
    abort.signal.addEventListener('abort', () => test.abort(), { once: true });
    const progress = new PhaseProgress(() => abort.abort());
    const unsubscribe = test.subscribe((snapshot) => {
      live.snapshot = snapshot;
      this.showStatus(snapshot);
      progress.update(snapshot);
      this.dashboard.showLive(snapshot);
      this.updated.fire(snapshot);
    });

    try {
      const outcome = await test.done;
      live.snapshot = outcome.snapshot;
      this.dashboard.showLive(outcome.snapshot);
      this.showStatus(outcome.snapshot);
      this.info(`Run ${outcome.snapshot.runId} ${outcome.snapshot.status}: ${outcome.snapshot.verdict}${outcome.snapshot.reason ? ` (${outcome.snapshot.reason})` : ''}`);
      this.finished.fire({ planUri, outcome });
      return outcome;
    } catch (error) {
      this.error(`Run ${test.runId} failed: ${(error as Error).message}`);
      this.finished.fire({ planUri, error: error as Error });
      throw error;
    } finally {
      unsubscribe();
      progress.end();
      this.live = undefined;
      void vscode.commands.executeCommand('setContext', 'coderScaletest.runActive', false);
      // The finished verdict stays visible for a while, then the item goes away.
      setTimeout(() => {
        if (!this.live) this.statusBar.hide();
      }, 60_000);
    }
  }

  stop(): boolean {
    if (!this.live) return false;
    this.info(`Stopping run ${this.live.test.runId} (cleanup follows the plan's strategy)`);
    this.live.test.abort();
    return true;
  }

  /** Deletes what run `runId` left behind, with progress; cancelling stops new deletions and the summary names what is left. */
  async cleanup(runId: string, deploymentUrl: string): Promise<string> {
    const connection = await this.deployments.connection(deploymentUrl);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Cleaning up run ${runId}`, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const cancellation = token.onCancellationRequested(() => {
          this.info(`Cleanup of run ${runId} cancelled: deletions under way finish, no new ones start`);
          controller.abort();
        });
        let reportedFraction = 0;
        try {
          const summary = await this.backend.cleanupRun({
            runId,
            connection,
            signal: controller.signal,
            onProgress: ({ done, total, failed }) => {
              const fraction = total ? (done + failed) / total : 1;
              progress.report({ message: `${done}/${total} deleted${failed ? `, ${failed} failed` : ''}`, increment: (fraction - reportedFraction) * 100 });
              reportedFraction = fraction;
            },
            log: (level, line) => {
              this.write(level, line);
              progress.report({ message: this.redactor.redact(line) });
            },
          });
          this.info(summary);
          return summary;
        } finally {
          cancellation.dispose();
        }
      },
    );
  }

  private showStatus(snapshot: RunSnapshot): void {
    const { text, tooltip } = statusBarSummary(snapshot);
    this.statusBar.text = text;
    this.statusBar.tooltip = tooltip;
    this.statusBar.backgroundColor =
      snapshot.verdict === 'fail' || snapshot.thresholds.some((t) => t.verdict === 'fail') ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.statusBar.show();
  }

  private write(level: LogLevel, line: string): void {
    this.log.write(level, line);
  }

  private info(line: string): void {
    this.log.info(line);
  }

  private error(line: string): void {
    this.log.error(line);
  }

  dispose(): void {
    this.live?.test.abort();
    this.statusBar.dispose();
    this.started.dispose();
    this.updated.dispose();
    this.finished.dispose();
  }
}

/**
 * A cancellable notification for the phases a user waits through (prepare and cleanup);
 * cancelling aborts the run, which still cleans up per the plan's strategy.
 */
class PhaseProgress {
  private phase: { status: string; report(message: string, increment?: number): void; close(): void } | undefined;
  private lastFraction = 0;

  constructor(private readonly onCancel: () => void) {}

  update(snapshot: RunSnapshot): void {
    const status = snapshot.status === 'starting' ? 'preparing' : snapshot.status;
    const phaseStage = status === 'preparing' ? 'prepare' : status === 'cleaning' ? 'cleanup' : undefined;
    if (!phaseStage || isFinished(snapshot)) {
      this.end();
      return;
    }
    if (this.phase?.status !== status) {
      this.end();
      this.open(status, phaseStage === 'prepare' ? `Preparing ${snapshot.planName}` : `Cleaning up ${snapshot.runId}`);
    }
    const stage = snapshot.stages.find((candidate) => candidate.name === phaseStage);
    const progress = stage?.progress;
    if (progress && progress.total > 0) {
      const fraction = progress.done / progress.total;
      this.phase!.report(`${progress.done}/${progress.total}${progress.failed ? `, ${progress.failed} failed` : ''}`, Math.max(0, (fraction - this.lastFraction) * 100));
      this.lastFraction = fraction;
    }
  }

  end(): void {
    this.phase?.close();
    this.phase = undefined;
    this.lastFraction = 0;
  }

  private open(status: string, title: string): void {
    let close!: () => void;
    const closed = new Promise<void>((resolve) => (close = resolve));
    let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      reporter = progress;
      token.onCancellationRequested(() => this.onCancel());
      return closed;
    });
    this.phase = {
      status,
      report: (message, increment) => reporter?.report({ message, increment }),
      close,
    };
  }
}
