// The report's "Which workspace?" section: per stage, the worst workspaces first (report.html
// shows 50 a stage, summary.md the worst 3), then every workspace in one compact table;
// report.json keeps every row.
import { formatBytes, formatMs } from '../../../../protocol/format';
import {
  describeProblems,
  hasFigures,
  PREPARE_STAGE,
  problemsOf,
  stagesOf,
  WORST_IN_HTML,
  worstOf,
  type WorkspaceRow,
} from '../../../../protocol/workspaces';
import { escapeMarkup as escape } from '../markup';

/** More rows than this make the compact table a download of its own: report.json has them. */
const ALL_ROWS_IN_HTML = 10_000;
/** Rows per stage in summary.md: a CI page names the worst, the report has the rest. */
const WORST_IN_SUMMARY = 3;

const optionalMs = (value: number | undefined) => (value === undefined ? '–' : formatMs(value));

function stageTable(rows: WorkspaceRow[], stage: string): string {
  if (stage === PREPARE_STAGE) {
    const body = rows
      .map(
        (row, rank) =>
          `<tr data-workspace="${escape(row.workspace)}"><td>${rank + 1}</td><td>${escape(row.workspace)}</td><td>${escape(row.user)}</td><td>${escape(row.agent || '–')}</td><td>${escape(row.prepareError ? `failed: ${row.prepareError}` : 'ready')}</td><td>${optionalMs(row.buildMs)}</td><td>${optionalMs(row.agentReadyMs)}</td></tr>`,
      )
      .join('\n');
    return `<table class="workspaces" data-stage="${escape(stage)}"><tr><th>#</th><th>Workspace</th><th>User</th><th>Agent</th><th>Outcome</th><th>Build</th><th>Agent ready</th></tr>\n${body}</table>`;
  }
  const body = rows
    .map((row, rank) => {
      const f = row.stages[stage];
      return `<tr data-workspace="${escape(row.workspace)}"><td>${rank + 1}</td><td>${escape(row.workspace)}</td><td>${escape(row.user)}</td><td>${escape(row.agent || '–')}</td><td>${escape(describeProblems(row, stage) || '–')}</td><td>${f.connects}</td><td>${f.reconnects}</td><td>${f.rtt.count}</td><td>${f.rtt.count ? formatMs(f.rtt.p50) : '–'}</td><td>${f.rtt.count ? formatMs(f.rtt.p95) : '–'}</td><td>${f.rtt.count ? formatMs(f.rtt.max) : '–'}</td><td>${formatBytes(f.bytesSent)}</td><td>${formatBytes(f.bytesReceived)}</td></tr>`;
    })
    .join('\n');
  return `<table class="workspaces" data-stage="${escape(stage)}"><tr><th>#</th><th>Workspace</th><th>User</th><th>Agent</th><th>Problems</th><th>Connects</th><th>Reconnects</th><th>Round trips</th><th>p50</th><th>p95</th><th>max</th><th>Sent</th><th>Received</th></tr>\n${body}</table>`;
}

/** Every workspace, one line each: prepare's times, then per stage its problems and p95. */
function allRowsTable(rows: readonly WorkspaceRow[], stages: string[], title: (stage: string) => string): string {
  const echo = stages.filter((stage) => stage !== PREPARE_STAGE);
  const shown = rows.slice(0, ALL_ROWS_IN_HTML);
  const body = shown
    .map((row) => {
      const cells = echo.map((stage) => {
        const f = row.stages[stage];
        if (!f) return '<td>–</td>';
        const problems = problemsOf(f);
        return `<td${problems ? ' class="bad"' : ''}>${problems ? `${problems} · ` : ''}${f.rtt.count ? formatMs(f.rtt.p95) : '–'}</td>`;
      });
      return `<tr><td>${escape(row.workspace)}</td><td>${escape(row.user)}</td><td>${escape(row.agent || '–')}</td><td>${escape(row.prepareError ?? optionalMs(row.buildMs))}</td><td>${optionalMs(row.agentReadyMs)}</td>${cells.join('')}</tr>`;
    })
    .join('\n');
  const more = rows.length > shown.length ? `<p class="muted">${rows.length - shown.length} more in report.json.</p>` : '';
  return `<details id="all-workspaces"><summary>All ${rows.length} workspaces (user order; per stage: problems · own p95)</summary>
<table class="workspaces"><tr><th>Workspace</th><th>User</th><th>Agent</th><th>Build</th><th>Agent ready</th>${echo.map((stage) => `<th>${escape(title(stage))}</th>`).join('')}</tr>
${body}</table>${more}</details>`;
}

export function workspacesSectionHtml(rows: readonly WorkspaceRow[] | undefined, title: (stage: string) => string): string {
  if (!rows || rows.length === 0) return '';
  const stages = stagesOf(rows);
  const perStage = stages
    .map((stage) => {
      const worst = worstOf(rows, stage, WORST_IN_HTML);
      const caption =
        stage === PREPARE_STAGE ? 'failed first, then slowest to build and become ready' : 'most problems first, then highest own p95';
      return `<h3 id="workspaces-${escape(stage)}">${escape(title(stage))}: worst ${worst.length} of ${rows.filter((row) => hasFigures(row, stage)).length} <span class="muted">(${caption})</span></h3>\n${stageTable(worst, stage)}`;
    })
    .join('\n');
  return `<h2 id="workspaces">Which workspace?</h2>
<p class="muted">Each workspace's own figures (report.json has every one): problems are errors, disconnects and mismatches; p50/p95 are within 3 %, max exact.</p>
${perStage}
${allRowsTable(rows, stages, title)}`;
}

/** A table cell: no line breaks, pipes escaped. */
const cell = (text: string) => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

export function workspacesMarkdown(rows: readonly WorkspaceRow[] | undefined, title: (stage: string) => string): string | undefined {
  if (!rows || rows.length === 0) return undefined;
  const lines: string[] = [];
  for (const stage of stagesOf(rows)) {
    for (const row of worstOf(rows, stage, WORST_IN_SUMMARY)) {
      const figures = row.stages[stage];
      const detail =
        stage === PREPARE_STAGE
          ? `build ${optionalMs(row.buildMs)}, agent ready ${optionalMs(row.agentReadyMs)}`
          : figures?.rtt.count
            ? `p95 ${formatMs(figures.rtt.p95)}, max ${formatMs(figures.rtt.max)}`
            : 'no round trips';
      lines.push(
        `| ${[title(stage), `\`${row.workspace}\``, row.user, describeProblems(row, stage) || '–', detail].map(cell).join(' | ')} |`,
      );
    }
  }
  return `### Worst workspaces\n\nThe worst ${WORST_IN_SUMMARY} of ${rows.length} per stage (report.html ranks ${WORST_IN_HTML} a stage, report.json has every one).\n\n| Stage | Workspace | User | Problems | Figures |\n|---|---|---|---|---|\n${lines.join('\n')}`;
}
