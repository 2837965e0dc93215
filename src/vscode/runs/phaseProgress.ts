// A cancellable notification for the phases a user waits through (prepare and cleanup).
import * as vscode from 'vscode';
import { isFinished } from '../../protocol/format';
import type { RunSnapshot } from '../../protocol/snapshot';

/**
 * A cancellable notification for the phases a user waits through (prepare and cleanup);
 * cancelling aborts the run, which still cleans up per the plan's strategy.
 */
export class PhaseProgress {
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
      this.phase!.report(
        `${progress.done}/${progress.total}${progress.failed ? `, ${progress.failed} failed` : ''}`,
        Math.max(0, (fraction - this.lastFraction) * 100),
      );
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
