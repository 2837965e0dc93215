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
  /** By kind, as the stage counts them (connect, reconnect, echo_timeout, not_sent, not_opened, …). */
  errors: Record<string, number>;
  bytesSent: number;
  bytesReceived: number;
  /**
   * This workspace's own round trips in this stage (ms); zeros while count is 0. p50 and p95 are
   * within 3 % (log-linear buckets, 16 per power of two), max is exact.
   */
  rtt: { count: number; p50: number; p95: number; max: number };
}

export interface WorkspaceIdentity {
  /** The user's index in the run (user i belongs to shard i mod N, worker i mod M). */
  index: number;
  user: string;
  workspace: string;
  /** Empty until prepare has seen the agent. */
  agent: string;
}

export interface WorkspaceRow extends WorkspaceIdentity {
  /** Prepare: from the create request to the build's end (ms). */
  buildMs?: number;
  /** Prepare: from the build's end until the agent was ready (ms). */
  agentReadyMs?: number;
  /** Prepare: the step that failed for this workspace (create_workspace, build_failed, agent, …). */
  prepareError?: string;
  stages: Record<StageName, WorkspaceStageFigures>;
}

/** What every snapshot carries: the worst few per stage, bounded whatever the number of users. */
export interface WorkspacesSnapshot {
  /** Workspaces with figures so far (all of them are in report.json). */
  total: number;
  /**
   * Per stage, worst first (`prepare`: failed, then slowest to build and become ready). A row
   * carries only that stage's figures.
   */
  worst: Record<StageName, WorkspaceRow[]>;
}

/** How many rows a snapshot carries per stage. */
export const WORST_IN_SNAPSHOT = 10;
/** How many rows report.html shows per stage before the compact table of all. */
export const WORST_IN_HTML = 50;
/** The stage whose "worst" ranks builds, not connections. */
export const PREPARE_STAGE = 'prepare';

/** Problems in one stage: what a user would have felt (errors, disconnects, mismatches). */
export function problemsOf(figures: WorkspaceStageFigures): number {
  let errors = 0;
  for (const n of Object.values(figures.errors)) errors += n;
  return errors + figures.disconnects + figures.mismatches;
}

/** Prepare's time for a workspace: build plus agent ready (ms). */
export function readyMsOf(row: WorkspaceRow): number {
  return (row.buildMs ?? 0) + (row.agentReadyMs ?? 0);
}

/** Whether `row` has anything to rank in `stage`. */
export function hasFigures(row: WorkspaceRow, stage: StageName): boolean {
  return stage === PREPARE_STAGE
    ? row.buildMs !== undefined || row.agentReadyMs !== undefined || row.prepareError !== undefined
    : row.stages[stage] !== undefined;
}

/**
 * What ranks a row in `stage`, compared key by key, larger is worse: problems, then own p95, then
 * max; prepare: failed, then slowest. Computed once per row when ranking thousands.
 */
function rankKey(row: WorkspaceRow, stage: StageName): number[] {
  if (stage === PREPARE_STAGE) return [Number(row.prepareError !== undefined), readyMsOf(row)];
  const figures = row.stages[stage];
  return figures ? [problemsOf(figures), figures.rtt.p95, figures.rtt.max] : [-Infinity];
}

function worseFirst(a: { row: WorkspaceRow; key: number[] }, b: { row: WorkspaceRow; key: number[] }): number {
  for (let i = 0; i < Math.max(a.key.length, b.key.length); i++) {
    const difference = (b.key[i] ?? -Infinity) - (a.key[i] ?? -Infinity);
    if (difference) return difference;
  }
  return a.row.index - b.row.index;
}

/** Worst first: more problems, then a higher own p95, then a higher max; prepare: failed, then slowest. */
export function compareOffenders(stage: StageName): (a: WorkspaceRow, b: WorkspaceRow) => number {
  return (a, b) => worseFirst({ row: a, key: rankKey(a, stage) }, { row: b, key: rankKey(b, stage) });
}

/** `row` with only `stage`'s figures (and its prepare times). */
export function rowForStage(row: WorkspaceRow, stage: StageName): WorkspaceRow {
  const figures = row.stages[stage];
  return { ...row, stages: figures ? { [stage]: figures } : {} };
}

/** The `limit` worst workspaces of `stage`, each with only that stage's figures. */
export function worstOf(rows: readonly WorkspaceRow[], stage: StageName, limit: number): WorkspaceRow[] {
  return rows
    .filter((row) => hasFigures(row, stage))
    .map((row) => ({ row, key: rankKey(row, stage) }))
    .sort(worseFirst)
    .slice(0, limit)
    .map(({ row }) => rowForStage(row, stage));
}

/** The stages any row has figures for: prepare first (when builds were timed), then first-seen order. */
export function stagesOf(rows: readonly WorkspaceRow[]): StageName[] {
  const names: StageName[] = rows.some((row) => hasFigures(row, PREPARE_STAGE)) ? [PREPARE_STAGE] : [];
  for (const row of rows) for (const name of Object.keys(row.stages)) if (!names.includes(name)) names.push(name);
  return names;
}

/** The bounded view of `rows` a snapshot carries. */
export function summarizeWorkspaces(rows: readonly WorkspaceRow[], limit = WORST_IN_SNAPSHOT): WorkspacesSnapshot {
  return { total: rows.length, worst: Object.fromEntries(stagesOf(rows).map((stage) => [stage, worstOf(rows, stage, limit)])) };
}

/** Several producers' worst lists (shards: each workspace lives on one) as one, still worst first. */
export function mergeWorkspaceSnapshots(parts: readonly WorkspacesSnapshot[], limit = WORST_IN_SNAPSHOT): WorkspacesSnapshot {
  const worst: Record<StageName, WorkspaceRow[]> = {};
  for (const part of parts) for (const [stage, rows] of Object.entries(part.worst)) (worst[stage] ??= []).push(...rows);
  for (const stage of Object.keys(worst)) worst[stage] = worst[stage].sort(compareOffenders(stage)).slice(0, limit);
  return { total: parts.reduce((sum, part) => sum + part.total, 0), worst };
}

/** One line naming a workspace, e.g. `scaletest-ab12cd-3 (user scaletest-…, agent main)`. */
export function describeWorkspace(row: WorkspaceIdentity): string {
  return `${row.workspace || `user ${row.index}`}${row.user ? ` (${row.user}${row.agent ? `, agent ${row.agent}` : ''})` : ''}`;
}

/** What went wrong for the workspace in a stage, in a few words (for tables and tooltips). */
export function describeProblems(row: WorkspaceRow, stage: StageName): string {
  if (stage === PREPARE_STAGE) return row.prepareError ? `failed: ${row.prepareError}` : '';
  const figures = row.stages[stage];
  if (!figures) return '';
  const parts = Object.entries(figures.errors)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`);
  if (figures.disconnects) parts.unshift(`${figures.disconnects} disconnect${figures.disconnects === 1 ? '' : 's'}`);
  if (figures.mismatches) parts.push(`${figures.mismatches} mismatch${figures.mismatches === 1 ? '' : 'es'}`);
  return parts.join(', ');
}
