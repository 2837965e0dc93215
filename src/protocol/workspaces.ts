// Which workspace? Per-workspace figures (user, workspace, agent) of a run, so that when 3 of
// 2000 workspaces misbehave the report and the dashboard name them. Plain JSON. All rows go to
// report.json; report.html and snapshots carry the worst few per stage (bounded).
import type { StageName } from './snapshot';

export interface WorkspaceStageFigures {
  /** Connections opened: the first connect and every reconnect. */
  connects: number;
  reconnects: number;
  disconnects: number;
  mismatches: number;
  errors: Record<string, number>;
  bytesSent: number;
  bytesReceived: number;
  /** This workspace's own round trips in this stage (ms); zeros while count is 0. */
  rtt: { count: number; p50: number; p95: number; max: number };
}

export interface WorkspaceRow {
  /** The user's index in the run (user i belongs to shard i mod N). */
  index: number;
  user: string;
  workspace: string;
  agent: string;
  /** Prepare: from the create request to the build's end (ms). */
  buildMs?: number;
  /** Prepare: from the build's end until the agent was ready (ms). */
  agentReadyMs?: number;
  stages: Record<StageName, WorkspaceStageFigures>;
}

/** How many rows a snapshot carries per stage, and report.html shows first. */
export const WORST_IN_SNAPSHOT = 10;
export const WORST_IN_HTML = 50;

/** Problems in one stage: what a user would have felt (errors, disconnects, mismatches). */
export function problemsOf(figures: WorkspaceStageFigures): number {
  let errors = 0;
  for (const n of Object.values(figures.errors)) errors += n;
  return errors + figures.disconnects + figures.mismatches;
}

/** Worst first: more problems, then a higher own p95, then a higher max. */
export function compareOffenders(stage: StageName): (a: WorkspaceRow, b: WorkspaceRow) => number {
  return (a, b) => {
    const x = a.stages[stage];
    const y = b.stages[stage];
    if (!x || !y) return x ? -1 : y ? 1 : a.index - b.index;
    return problemsOf(y) - problemsOf(x) || y.rtt.p95 - x.rtt.p95 || y.rtt.max - x.rtt.max || a.index - b.index;
  };
}

/** The `limit` worst workspaces of `stage`. */
export function worstOf(rows: readonly WorkspaceRow[], stage: StageName, limit: number): WorkspaceRow[] {
  return rows
    .filter((row) => row.stages[stage])
    .sort(compareOffenders(stage))
    .slice(0, limit);
}

/** The stages any row has figures for, in first-seen order. */
export function stagesOf(rows: readonly WorkspaceRow[]): StageName[] {
  const names: StageName[] = [];
  for (const row of rows) for (const name of Object.keys(row.stages)) if (!names.includes(name)) names.push(name);
  return names;
}
