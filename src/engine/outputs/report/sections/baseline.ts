// The report's baseline section (report.json `baseline`, and a table in report.html): which run
// was the plan's baseline and, per stage, whether this run was better, worse or the same.
import type { RunSnapshot } from '../../../../protocol/snapshot';
import type { RunArtifacts } from '../../sinks';
import { compareWithBaseline, type BaselineComparison, type StageComparison } from '../../../baseline/compare';
import type { BaselineLookup } from '../../../baseline/store';
import { escapeMarkup as escape } from '../markup';

export interface BaselineReportSection {
  runId: string;
  planName: string;
  markedAt: number;
  startedAt: number;
  /** False when the plan's shape changed since the baseline was measured (its thresholds were not applied). */
  planMatches: boolean;
  differences: string[];
  comparison: BaselineComparison;
}

/** The section for a run that had a baseline; undefined when it had none. */
export function baselineSection(
  lookup: BaselineLookup | undefined,
  current: { runId: string; snapshot: RunSnapshot; histograms: RunArtifacts['histograms'] },
): BaselineReportSection | undefined {
  if (!lookup || lookup.kind === 'none') return undefined;
  const { record } = lookup;
  return {
    runId: record.runId,
    planName: record.planName,
    markedAt: record.markedAt,
    startedAt: record.startedAt,
    planMatches: lookup.kind === 'ok',
    differences: lookup.kind === 'stale' ? lookup.differences : [],
    comparison: compareWithBaseline({ runId: record.runId, snapshot: record.snapshot, histograms: record.histograms }, current),
  };
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(0));

export const CHANGE_SYMBOLS = { better: '▼ better', worse: '▲ worse', same: '= same', 'no-data': '– no data' } as const;

function stageRow(stage: StageComparison): string {
  const shifts =
    stage.comparison?.quantiles
      .map((shift) => `p${Math.round(shift.q * 1000) / 10} ${ms(shift.baselineMs)} → ${ms(shift.currentMs)}`)
      .join(' · ') ?? '';
  const counts = `${stage.errors.baseline} → ${stage.errors.current}`;
  return `<tr><td>${escape(stage.title)}</td><td class="change ${stage.change}">${CHANGE_SYMBOLS[stage.change]}</td><td>${escape(shifts)}</td><td>${counts}</td><td>${escape(stage.comparison?.explanation ?? 'one of the runs has no samples')}</td></tr>`;
}

export function baselineSectionHtml(section: BaselineReportSection | undefined): string {
  if (!section) return '';
  const { tally } = section.comparison;
  const stale = section.planMatches
    ? ''
    : `<p><strong>The plan changed since this baseline was measured (${escape(section.differences.join(', '))}): its baseline thresholds were not applied; mark a new baseline.</strong></p>`;
  return `<h2>Against the baseline</h2>
<style>.change.worse{color:#cf222e;font-weight:600}.change.better{color:#1a7f37;font-weight:600}.change.same,.change.no-data{color:#57606a}</style>
<div class="muted">Baseline: run <code>${escape(section.runId)}</code> of ${escape(new Date(section.startedAt).toISOString())} · ${tally.worse} worse · ${tally.better} better · ${tally.same} same within noise · latencies in ms, baseline → this run · rule: docs/baselines.md</div>
${stale}<table id="baseline"><tr><th>Stage</th><th>Change</th><th>Quantiles (ms)</th><th>Errors</th><th>Why</th></tr>
${section.comparison.stages.map(stageRow).join('\n')}</table>`;
}
