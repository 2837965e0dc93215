// The dashboard's "Worst workspaces" panel: per stage, the snapshot's bounded worst-first list
// (most problems, then the highest own p95; prepare: failed, then slowest), so a user sees which
// of many workspaces misbehave while the run goes. report.json has every workspace.
import { formatMs } from '../src/protocol/format';
import type { RunSnapshot } from '../src/protocol/snapshot';
import { describeProblems, PREPARE_STAGE, type WorkspaceRow } from '../src/protocol/workspaces';
import { byId, h, hiddenPanel, replace, table } from './dom';

/** The panel, hidden until a snapshot ranks workspaces. */
export function workspacesPanel(): HTMLElement {
  return hiddenPanel('workspaces', 'Worst workspaces');
}

const optionalMs = (value: number | undefined) => (value === undefined ? '–' : formatMs(value));

function stageRows(rows: WorkspaceRow[], stage: string): { headers: string[]; cells: string[][] } {
  if (stage === PREPARE_STAGE) {
    return {
      headers: ['Workspace', 'User', 'Outcome', 'Build', 'Agent ready'],
      cells: rows.map((row) => [
        row.workspace,
        row.user,
        describeProblems(row, stage) || 'ready',
        optionalMs(row.buildMs),
        optionalMs(row.agentReadyMs),
      ]),
    };
  }
  return {
    headers: ['Workspace', 'User', 'Problems', 'Connects', 'Reconnects', 'p95', 'max'],
    cells: rows.map((row) => {
      const figures = row.stages[stage];
      const rtt = figures?.rtt.count ? figures.rtt : undefined;
      return [
        row.workspace,
        row.user,
        describeProblems(row, stage) || '–',
        String(figures?.connects ?? 0),
        String(figures?.reconnects ?? 0),
        optionalMs(rtt?.p95),
        optionalMs(rtt?.max),
      ];
    }),
  };
}

export function renderWorkspaces(snapshot: RunSnapshot): void {
  const panel = byId('workspaces-panel');
  const workspaces = snapshot.workspaces;
  const stages = Object.entries(workspaces?.worst ?? {}).filter(([, rows]) => rows.length > 0);
  panel.hidden = stages.length === 0;
  if (!workspaces || stages.length === 0) return;
  const title = (stage: string) => snapshot.stages.find((s) => s.name === stage)?.title ?? stage;
  replace(
    byId('workspaces'),
    h('p', { class: 'muted' }, `The worst of ${workspaces.total} workspaces per stage: most problems first, then the highest own p95.`),
    ...stages.map(([stage, rows]) => {
      const { headers, cells } = stageRows(rows, stage);
      // Open while it has a workspace with problems; the healthy stages stay folded.
      const open = rows.some((row) => describeProblems(row, stage) !== '') ? '' : undefined;
      return h(
        'details',
        { 'data-stage': stage, open },
        h('summary', {}, `${title(stage)}: worst ${rows.length}`),
        table(`Worst workspaces of ${title(stage)}`, headers, cells, 3),
      );
    }),
  );
}
