// summary.md: the run in Markdown for CI pages (GitHub's job summary, GitLab's exposed artifact,
// a merge-request comment): the verdict sentence, the stage table, the failed thresholds with
// what was observed, the comparison with the baseline, Coder's reference figures, the worst
// workspaces and the cleanup result. GitHub-flavoured Markdown that GitLab renders the same: tables, <details>.
import { EXIT_CODE_TABLE } from '../../judge/outcome';
import { CHANGE_SYMBOLS } from './sections/baseline';
import type { RunReport } from './report';
import { workspacesMarkdown } from './sections/workspaces';

/** A table cell: no line breaks, pipes escaped. */
const cell = (text: string) => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
const ms = (value: number) => (value >= 100 ? String(Math.round(value)) : value >= 10 ? value.toFixed(1) : value.toFixed(2));

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function headline(report: RunReport): string {
  const meaning = EXIT_CODE_TABLE.find((row) => row.code === report.exitCode);
  const icon = report.exitCode === 0 ? '✅' : report.exitCode === 5 ? '⚠️' : report.exitCode === 130 ? '⏹️' : '❌';
  const word = report.exitCode === 0 ? 'passed' : report.exitCode === 130 ? 'stopped' : report.exitCode === 5 ? 'inconclusive' : 'failed';
  return `## ${icon} Scale test ${word}: ${report.planName}\n\n${report.reason ? `**${report.reason}**\n\n` : ''}Run \`${report.runId}\` against ${report.deploymentUrl} · ${new Date(report.startedAt).toISOString()} · ${Math.round((report.finishedAt - report.startedAt) / 1000)} s · exit code **${report.exitCode}**${meaning ? ` (${meaning.short})` : ''}`;
}

function stagesSection(report: RunReport): string {
  const rows = report.stages.map((stage) => {
    const latency = stage.latency.count > 0 ? stage.latency : undefined;
    const errors = Object.entries(stage.errors)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ');
    const progress = stage.progress
      ? `${stage.progress.done}/${stage.progress.total}${stage.progress.failed ? ` (${stage.progress.failed} failed)` : ''}`
      : `${stage.connections.active}/${stage.connections.target}`;
    return [
      stage.title,
      stage.verdict === 'fail' ? '❌ fail' : stage.verdict === 'pass' ? '✅ pass' : stage.verdict,
      progress,
      `${stage.completed}/${stage.sent}`,
      latency ? ms(latency.p50) : '–',
      latency ? ms(latency.p95) : '–',
      latency ? ms(latency.p99) : '–',
      String(stage.disconnects),
      errors || '0',
    ];
  });
  return `### Stages\n\n${table(['Stage', 'Verdict', 'Progress / connections', 'Completed / sent', 'p50 ms', 'p95 ms', 'p99 ms', 'Disconnects', 'Errors'], rows)}`;
}

function thresholdsSection(report: RunReport): string {
  const failed = report.thresholds.filter((threshold) => threshold.verdict === 'fail');
  const passed = report.thresholds.filter((threshold) => threshold.verdict === 'pass').length;
  if (failed.length === 0) return `### Thresholds\n\nAll ${passed} of ${report.thresholds.length} thresholds passed.`;
  const rows = failed.map((threshold) => [
    `\`${threshold.expression}\``,
    threshold.observedText,
    threshold.limit ?? threshold.expression.replace(/^\S+\s*/, ''),
    [threshold.reason, threshold.runnerSuspect && `runner suspect: ${threshold.runnerSuspect}`].filter(Boolean).join('; '),
  ]);
  return `### Failed thresholds (${failed.length} of ${report.thresholds.length})\n\n${table(['Threshold', 'Observed', 'Limit', 'Why'], rows)}`;
}

function baselineSection(report: RunReport): string | undefined {
  const section = report.baseline;
  if (!section) return undefined;
  const { tally } = section.comparison;
  const rows = section.comparison.stages.map((stage) => [
    stage.title,
    CHANGE_SYMBOLS[stage.change],
    stage.comparison?.quantiles
      .map((shift) => `p${Math.round(shift.q * 1000) / 10} ${ms(shift.baselineMs)} → ${ms(shift.currentMs)}`)
      .join(', ') ?? '',
    `${stage.errors.baseline} → ${stage.errors.current}`,
  ]);
  const stale = section.planMatches
    ? ''
    : `\n\nThe plan changed since the baseline (${section.differences.join(', ')}): its baseline thresholds were skipped.`;
  return `### Against the baseline\n\nBaseline run \`${section.runId}\`: ${tally.worse} worse, ${tally.better} better, ${tally.same} the same within noise.${stale}\n\n${table(['Stage', 'Change', 'Quantiles (ms, baseline → this run)', 'Errors'], rows)}`;
}

function referenceSection(report: RunReport): string | undefined {
  const reference = report.reference;
  if (!reference || reference.rows.length === 0) return undefined;
  const rows = reference.rows
    .filter((row) => row.group !== 'setup')
    .map((row) => [
      row.title,
      row.measured === undefined ? `not measured${row.note ? ` (${row.note})` : ''}` : `${ms(row.measured)} ${row.unit}`,
      `${ms(row.expected)} ${row.unit}`,
    ]);
  return `### Coder's reference figures\n\nScaled to ${reference.step ? `the ${reference.step.users} users of step ${reference.step.index}` : `${reference.users} users`} from [${reference.source.title}](${reference.source.url}).\n\n${table(['Figure', 'This run', 'Reference'], rows)}`;
}

function cleanupSection(report: RunReport): string {
  const { cleanup } = report;
  const deleted = `Deleted ${cleanup.deletedWorkspaces} workspace(s) and ${cleanup.deletedUsers} user(s)`;
  if (cleanup.leftovers.length === 0) return `### Cleanup\n\n${deleted}; nothing was left behind.`;
  const listed = cleanup.leftovers.slice(0, 20).map((leftover) => `- ${leftover}`);
  if (cleanup.leftovers.length > 20) listed.push(`- … and ${cleanup.leftovers.length - 20} more (report.json)`);
  return `### Cleanup\n\n${deleted}; **${cleanup.leftovers.length} left behind**. Remove them with \`coder-scaletest cleanup --run-id ${report.runId}\`:\n\n${listed.join('\n')}`;
}

/** The run as Markdown. */
export function summaryMarkdown(report: RunReport): string {
  const sections = [
    headline(report),
    stagesSection(report),
    thresholdsSection(report),
    baselineSection(report),
    referenceSection(report),
    workspacesMarkdown(report.workspaces, (stage) => report.stages.find((s) => s.name === stage)?.title ?? stage),
    cleanupSection(report),
  ];
  return `${sections.filter((section): section is string => !!section).join('\n\n')}\n`;
}
