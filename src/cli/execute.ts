// Runs a plan in this process with the live table (or NDJSON), Ctrl-C handling and the summary.
import type { PreRunCheckRecord } from '../engine/run/options';
import type { DeploymentConnection } from '../coder/connection';
import { startRun, type Plan, type RunResult } from '../engine';
import { EXIT, type CliIo } from './io';
import { watchInterrupts } from './interrupts';
import { accessProblemText, cleanupCommandText, cliEvent } from './outcomeText';
import { Observers, type ObserveSettings } from './observe';
import { ProgressView, renderSummary } from './progress';

export interface ExecuteOptions {
  out: string;
  ndjson: boolean;
  chromium?: string;
  coderBinary?: string;
  /** Child processes of this process that are not the runner's (the demo's simulated deployment). */
  foreignProcessPids?: number[];
  /** /metrics, Grafana annotations, the Markdown summary (default: none). */
  observe?: ObserveSettings;
  /** The pre-run check's outcome (or that it was skipped), recorded in the report. */
  preRunCheck?: PreRunCheckRecord;
}

const NO_OBSERVERS: ObserveSettings = { lingerMs: 0 };

export async function execute(plan: Plan, connection: DeploymentConnection, options: ExecuteOptions, io: CliIo): Promise<RunResult> {
  const view = new ProgressView(io.stdout, io.stderr, options.ndjson);
  let runId: string | undefined;
  const interrupts = watchInterrupts(
    io.stderr,
    {
      stop: 'stopping traffic, cleaning up and writing the partial report',
      hurry: 'no new deletions and no more waiting for cleanup; writing the report',
      cleanupCommand: () => runId && cleanupCommandText(runId),
    },
    io.signal,
  );
  let observers: Observers | undefined;
  try {
    observers = await Observers.start(options.observe ?? NO_OBSERVERS, '0/1', io.stderr);
    const handle = startRun({
      plan,
      connection,
      outDir: options.out,
      signal: interrupts.stop,
      cleanupSignal: interrupts.hurry,
      log: (event) => view.event(cliEvent(event, runId ?? '')),
      chromiumPath: options.chromium,
      coderBinaryPath: options.coderBinary,
      foreignProcessPids: options.foreignProcessPids,
      preRunCheck: options.preRunCheck,
    });
    runId = handle.runId;
    const ended: { exitCode?: number } = {};
    observers.bind(handle.runId, {
      snapshot: () => handle.latest(),
      histograms: () => handle.histograms(),
      workspaces: () => handle.workspaces(),
      exitCode: () => ended.exitCode,
    });
    handle.subscribe((snapshot) => view.snapshot(snapshot));
    const result = await handle.done;
    ended.exitCode = result.exitCode;
    view.finish();
    if (result.exitCode === EXIT.access) {
      io.stderr.write(
        `error: ${accessProblemText(result.snapshot.reason ?? '', result.access)}\nNo users, workspaces or traffic were created.\n`,
      );
    } else {
      (options.ndjson ? io.stderr : io.stdout).write(renderSummary(result, Boolean(io.stdout.isTTY) && !options.ndjson));
    }
    await observers.finish({ snapshot: result.snapshot, reportDir: result.reportDir });
    return result;
  } finally {
    interrupts.dispose();
    await observers?.close();
  }
}
