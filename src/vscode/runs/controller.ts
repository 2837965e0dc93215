// Runs a plan in a runner child process and keeps every face current while it goes: the
// status bar, cancellable progress for prepare and cleanup, the log channel, the dashboard and
// whoever subscribes (Runs view, Test Explorer). One run at a time per window. A runner that
// dies is remembered as an interrupted run, whose leftovers the Runs view can clean up.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { KubernetesRunSpec } from '../../protocol/runner';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { LogLevel, RunOutcome, RunningTest, ScaleTestBackend } from '../backend';
import type { LiveViewPanel } from '../liveView/panel';
import type { DeploymentStore } from '../deployments/store';
import { Disposable } from '../lifecycle';
import type { ScaleTestLog } from '../log';
import { RunnerExitedError } from '../processBackend';
import type { SecretRedactor } from '../redact';
import { readSettings } from '../settings';
import { HostLagMonitor, type HostLag } from './hostLag';
import { PhaseProgress } from './phaseProgress';
import { statusBarSummary } from './runModel';

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

/** A run whose runner process died: what is known of it, so its leftovers can be cleaned up. */
export interface InterruptedRun {
  runId: string;
  planName: string;
  deploymentUrl: string;
  reason: string;
  at: number;
}

export class RunController extends Disposable {
  private live: LiveRun | undefined;
  private readonly statusBar = this.register(vscode.window.createStatusBarItem('coderScaletest.run', vscode.StatusBarAlignment.Left, 50));
  private readonly started = this.register(new vscode.EventEmitter<LiveRun>());
  private readonly updated = this.register(new vscode.EventEmitter<RunSnapshot>());
  private readonly finished = this.register(new vscode.EventEmitter<RunFinished>());
  readonly onDidStart = this.started.event;
  readonly onDidUpdate = this.updated.event;
  readonly onDidFinish = this.finished.event;
  private readonly interruptedRuns = new Map<string, InterruptedRun>();
  /** The extension host's own event-loop delay during the last (or current) run. */
  private hostLag: HostLagMonitor | undefined;

  constructor(
    private readonly backend: Pick<ScaleTestBackend, 'startRun' | 'cleanupRun'>,
    private readonly deployments: DeploymentStore,
    private readonly liveView: LiveViewPanel,
    private readonly log: ScaleTestLog,
    private readonly redactor: SecretRedactor,
    private readonly resultsFolder: () => string,
  ) {
    super();
    this.statusBar.name = 'Coder Scale Test';
    this.statusBar.command = 'coderScaletest.showDashboard';
  }

  get current(): LiveRun | undefined {
    return this.live;
  }

  /** Runs whose runner died, newest first. */
  get interrupted(): InterruptedRun[] {
    return [...this.interruptedRuns.values()].sort((a, b) => b.at - a.at);
  }

  /** The extension host's event-loop delay while the last run went (undefined before any run). */
  lastHostLag(): HostLag | undefined {
    return this.hostLag?.read();
  }

  /** Runs the plan in `planUri` against `deploymentUrl`; resolves when the run has ended. */
  async run(planUri: vscode.Uri, deploymentUrl: string, signal?: AbortSignal, kubernetes?: KubernetesRunSpec): Promise<RunOutcome> {
    if (this.live) throw new Error(`A run is already going (${this.live.test.runId}): stop it first.`);
    if (!vscode.workspace.isTrusted)
      throw new Error('Running a scale test is disabled in untrusted workspaces: trust this workspace first.');
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
        kubernetes,
      });
    } catch (error) {
      this.error(`Run could not start: ${(error as Error).message}`);
      throw error;
    }
    this.liveView.unpin();
    this.hostLag?.dispose();
    this.hostLag = new HostLagMonitor();
    this.info(`Run ${test.runId} runs in process ${test.runnerPid ?? '?'} (this extension host is process ${process.pid})`);
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
      this.liveView.showLive(snapshot);
      this.updated.fire(snapshot);
    });

    try {
      const outcome = await test.done;
      live.snapshot = outcome.snapshot;
      this.liveView.showLive(outcome.snapshot);
      this.showStatus(outcome.snapshot);
      this.info(
        `Run ${outcome.snapshot.runId} ${outcome.snapshot.status}: ${outcome.snapshot.verdict}${outcome.snapshot.reason ? ` (${outcome.snapshot.reason})` : ''}`,
      );
      this.finished.fire({ planUri, outcome });
      return outcome;
    } catch (error) {
      const message = this.redactor.redact((error as Error).message);
      this.error(`Run ${test.runId} failed: ${message}`);
      if (error instanceof RunnerExitedError)
        this.remember(test.runId, live.snapshot?.planName ?? vscode.workspace.asRelativePath(planUri), deploymentUrl, message);
      this.finished.fire({ planUri, error: error as Error });
      throw error;
    } finally {
      const lag = this.hostLag?.stop();
      if (lag)
        this.info(
          `Extension host event-loop delay during run ${test.runId}: p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms, max ${lag.maxMs} ms`,
        );
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

  private remember(runId: string, planName: string, deploymentUrl: string, reason: string): void {
    this.interruptedRuns.set(runId, {
      runId,
      planName,
      deploymentUrl,
      reason: `${reason}. Its users and workspaces may still exist: clean them up from the Runs view.`,
      at: Date.now(),
    });
  }

  /**
   * Stops the live run through its own abort path (cleanup per strategy) and waits at most
   * `timeoutMs` for it to finish; a runner still cleaning up after that goes on by itself.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    const live = this.live;
    if (!live) return;
    live.test.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([live.test.done.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
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
            runDir: path.join(this.resultsFolder(), runId),
            signal: controller.signal,
            onProgress: ({ done, total, failed }) => {
              const fraction = total ? (done + failed) / total : 1;
              progress.report({
                message: `${done}/${total} deleted${failed ? `, ${failed} failed` : ''}`,
                increment: (fraction - reportedFraction) * 100,
              });
              reportedFraction = fraction;
            },
            log: (level, line) => {
              this.write(level, line);
              progress.report({ message: this.redactor.redact(line) });
            },
          });
          this.info(summary);
          if (!controller.signal.aborted && !/could not delete/.test(summary)) this.interruptedRuns.delete(runId);
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
      snapshot.verdict === 'fail' || snapshot.thresholds.some((t) => t.verdict === 'fail')
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : undefined;
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

  override dispose(): void {
    this.live?.test.abort();
    this.hostLag?.dispose();
    super.dispose();
  }
}
