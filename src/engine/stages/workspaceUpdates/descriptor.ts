// Workspace updates (issue 22): users watch their workspaces while builds happen on them
// (scaletest/workspaceupdates, over the dashboard's watch-ws). See runner.ts and
// docs/stages/workspace-updates.md.
import { Type, type Static } from '@sinclair/typebox';
import { formatCount, formatMs } from '../../../protocol/format';
import { defineTrafficStage, type StageSummaryInput } from '../definition';

const settings = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'Run the workspace-updates stage (opt-in): each user creates workspaces of its own, watches them and builds on them.',
    }),
    workspacesPerUser: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 1,
      description: "Workspaces each user creates and watches (the reference runner's power_user_workspaces); deleted when the stage ends.",
    }),
    intervalSeconds: Type.Number({
      minimum: 0.1,
      maximum: 3600,
      default: 10,
      description: 'Mean time between builds per watched workspace.',
    }),
    jitterSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 3, description: 'Uniform jitter around the interval.' }),
  },
  { additionalProperties: false, default: {}, description: 'Live workspace updates (watch-ws) while builds happen.' },
);
export type WorkspaceUpdatesSettings = Static<typeof settings>;

/** "48 of 50 builds reached their watcher: the update after 8.1ms (p50), 20.4ms (p95); 2 missed". */
export function updatesSummary({ stage }: StageSummaryInput): string | undefined {
  const builds = stage.figures?.builds ?? 0;
  if (builds === 0) return undefined;
  const { latency } = stage;
  const timing = latency.count ? `: the update after ${formatMs(latency.p50)} (p50), ${formatMs(latency.p95)} (p95)` : '';
  return (
    `${formatCount(stage.figures?.seen ?? 0)} of ${formatCount(builds)} build(s) on ${formatCount(stage.connections.target)} watched workspace(s) ` +
    `reached their watcher${timing}; ${formatCount(stage.figures?.missed ?? 0)} missed`
  );
}

export const workspaceUpdatesStage = defineTrafficStage({
  id: 'workspace_updates',
  title: 'Workspace updates',
  color: 'yellow',
  defaultWindow: [1, 4],
  metrics: ['latency', 'counters'],
  latencyMeaning: 'build requested → update seen by the watcher',
  figures: {
    builds: { meaning: 'builds requested on watched workspaces', merge: 'sum' },
    seen: { meaning: 'builds whose update reached the watcher', merge: 'sum' },
    missed: { meaning: 'builds whose update never reached the watcher', merge: 'sum' },
  },
  charts: [
    {
      id: 'updates',
      title: 'builds requested (dashed), seen by the watcher (solid), missed',
      unit: 'count',
      lines: [
        { figure: 'builds', label: 'requested', dashed: true },
        { figure: 'seen', label: 'seen' },
        { figure: 'missed', label: 'missed', color: 'red' },
      ],
    },
  ],
  summary: updatesSummary,
  // The dashboard shows a build as it starts: a second is already a slow page; a missed update is a stale page.
  defaultThresholds: ['workspace_updates.latency.p95 < 1s', 'workspace_updates.disconnects <= 1%'],
  connectionNoun: 'watched workspaces',
  prepares: 'workspaces',
  settings,
  load: async () => (require('./runner') as typeof import('./runner')).workspaceUpdatesRunner,
});
