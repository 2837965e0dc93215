// What the extension shows of baselines, without touching VS Code (unit-testable): the Runs
// view's badge, and the comparison the dashboard's compare view draws. Baselines live where
// the CLI keeps them: `<results folder>/baselines/<plan>.json` (docs/baselines.md).
import type { BaselineComparison } from '../../engine/baseline/compare';
import { listBaselines, markBaseline, readBaseline, type BaselineRecord } from '../../engine/baseline/store';
import { readReport } from '../../engine/outputs/report/reportFile';
import type { LiveViewState } from '../../protocol/messages';
import { engineModule } from '../engineModule';

export const BASELINE_BADGE = '★ baseline';

/** Run ids that are the baseline of their plan in `resultsFolder`. */
export function baselineRunIds(resultsFolder: string): Set<string> {
  return new Set(listBaselines(resultsFolder).map((record) => record.runId));
}

/** The Runs view's description of a past run, with the badge when it is its plan's baseline. */
export function withBaselineBadge(description: string, isBaseline: boolean): string {
  return isBaseline ? `${BASELINE_BADGE} · ${description}` : description;
}

/** Marks the run in `runDir` as its plan's baseline; the sentence to show, and whether it is a warning. */
export function markRunAsBaseline(runDir: string, resultsFolder: string): { message: string; warn: boolean } {
  const { record, replaced } = markBaseline(runDir, resultsFolder);
  const failed = record.verdict !== 'pass';
  return {
    message:
      `Run ${record.runId} is now the baseline of "${record.planName}"${replaced ? ` (replacing run ${replaced})` : ''}: ` +
      `thresholds like "pty.rtt.p95 < baseline * 1.2" and the reports of its later runs compare with it.` +
      (failed ? ` Note: this run did not pass (${record.verdict}).` : ''),
    warn: failed,
  };
}

/**
 * `current` against `reference` on their reports' histograms; undefined when a report cannot be
 * read or has none (reports of older versions), so the compare view still shows the figures.
 */
export function compareReportDirs(referenceDir: string, currentDir: string): BaselineComparison | undefined {
  try {
    return engineModule().compareWithBaseline(readReport(referenceDir), readReport(currentDir));
  } catch {
    return undefined;
  }
}

/** Whether run `runId` is the baseline of plan `planName` in `resultsFolder`. */
export function isPlanBaseline(resultsFolder: string, planName: string, runId: string): boolean {
  try {
    return readBaseline(resultsFolder, planName)?.runId === runId;
  } catch {
    return false;
  }
}

/** The dashboard state comparing the run in `currentDir` with its plan's baseline. */
export function baselineCompareState(resultsFolder: string, currentDir: string): Extract<LiveViewState, { type: 'compare' }> {
  const current = readReport(currentDir);
  const record: BaselineRecord | null = readBaseline(resultsFolder, current.planName);
  if (!record) {
    throw new Error(
      `"${current.planName}" has no baseline in ${resultsFolder}: mark one of its runs as the baseline first (Runs view → Mark as Baseline).`,
    );
  }
  if (record.runId === current.runId)
    throw new Error(`Run ${current.runId} is itself the baseline of "${current.planName}": pick a later run to compare with it.`);
  return {
    type: 'compare',
    left: { label: `baseline ${record.runId}`, snapshot: { ...record.snapshot, reportDir: undefined } },
    right: { label: current.runId, snapshot: { ...current.snapshot, reportDir: currentDir } },
    reference: 'baseline',
    comparison: engineModule().compareWithBaseline(record, current),
  };
}
