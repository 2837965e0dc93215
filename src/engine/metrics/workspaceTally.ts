// Per-workspace figures on the hot path (src/protocol/workspaces.ts is their shape). Bounded at
// thousands of connections: a workspace's tally in a stage is a few counters and its own round
// trips in log-linear buckets — 16 per power of two from 1 µs to 134 s (384 counts, 1.5 KB),
// all of a stage's in ONE Uint32Array — instead of a histogram object each (a 2-digit HDR
// histogram is ~10 KB). Recording a round trip is one array increment; p50/p95 come out within
// 3 % (the bucket's middle), max exactly. Plenty to rank workspaces; the stage's own HDR
// histogram (3 digits) stays the figure that thresholds judge.
import type { StageName } from '../../protocol/snapshot';
import {
  summarizeWorkspaces,
  type WorkspaceIdentity,
  type WorkspaceRow,
  type WorkspacesSnapshot,
  type WorkspaceStageFigures,
} from '../../protocol/workspaces';

const SUB_BITS = 4;
const SUB_COUNT = 1 << SUB_BITS;
/** Values of 2^27 µs (134 s) and more count in the last bucket; an echo times out long before. */
const LIMIT_MICROS = 2 ** 27;
/** Buckets per workspace: 0–15 µs one each, then 16 per power of two up to 2^27 µs. */
export const RTT_BUCKETS = (27 - SUB_BITS + 1) * SUB_COUNT;

/** The bucket of a value in microseconds (≥ 1). */
export function bucketOf(micros: number): number {
  const value = micros >= LIMIT_MICROS ? LIMIT_MICROS - 1 : micros < 1 ? 1 : Math.floor(micros);
  if (value < SUB_COUNT) return value;
  const exponent = 31 - Math.clz32(value);
  return (exponent - SUB_BITS + 1) * SUB_COUNT + ((value >>> (exponent - SUB_BITS)) & (SUB_COUNT - 1));
}

/** The middle of a bucket's range of values, in microseconds. */
export function bucketMiddle(bucket: number): number {
  if (bucket < SUB_COUNT) return bucket;
  const shift = Math.floor(bucket / SUB_COUNT) - 1;
  const lowest = (SUB_COUNT + (bucket % SUB_COUNT)) * 2 ** shift;
  return lowest + (2 ** shift - 1) / 2;
}

/** The values at `quantiles` (0..1, ascending) of the counts in `counts[base, base + RTT_BUCKETS)`, µs. */
export function quantilesOf(counts: Uint32Array, base: number, total: number, quantiles: readonly number[]): number[] {
  const found: number[] = [];
  if (total === 0) return quantiles.map(() => 0);
  const wanted = quantiles.map((q) => Math.max(1, Math.ceil(q * total)));
  let running = 0;
  for (let bucket = 0; bucket < RTT_BUCKETS && found.length < wanted.length; bucket++) {
    running += counts[base + bucket];
    while (found.length < wanted.length && running >= wanted[found.length]) found.push(bucketMiddle(bucket));
  }
  return found;
}

const ms = (micros: number) => Math.round(micros) / 1000;

/** One workspace in one stage, on the thread whose connection it counts. */
export class WorkspaceTally {
  connects = 0;
  reconnects = 0;
  disconnects = 0;
  mismatches = 0;
  bytesSent = 0;
  bytesReceived = 0;
  private rttCount = 0;
  private rttMaxMicros = 0;
  /** Allocated at the first error: most workspaces have none. */
  private errors?: Record<string, number>;

  constructor(
    private readonly counts: Uint32Array,
    private readonly base: number,
  ) {}

  countError(kind: string, n = 1): void {
    const errors = (this.errors ??= {});
    errors[kind] = (errors[kind] ?? 0) + n;
  }

  /** A round trip, in ms. */
  record(milliseconds: number): void {
    const micros = milliseconds * 1000;
    this.counts[this.base + bucketOf(micros)]++;
    this.rttCount++;
    if (micros > this.rttMaxMicros) this.rttMaxMicros = micros;
  }

  figures(): WorkspaceStageFigures {
    const [p50, p95] = quantilesOf(this.counts, this.base, this.rttCount, [0.5, 0.95]);
    const max = this.rttMaxMicros;
    return {
      connects: this.connects,
      reconnects: this.reconnects,
      disconnects: this.disconnects,
      mismatches: this.mismatches,
      errors: { ...this.errors },
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      // A bucket's middle may lie above the largest value in it.
      rtt: { count: this.rttCount, p50: ms(Math.min(p50, max)), p95: ms(Math.min(p95, max)), max: ms(max) },
    };
  }
}

interface Entry {
  identity: WorkspaceIdentity;
  /** Counted on this thread. */
  tally?: WorkspaceTally;
  /** Counted elsewhere (a worker thread) and reported: taken as they come. */
  reported?: WorkspaceStageFigures;
  buildMs?: number;
  agentReadyMs?: number;
  prepareError?: string;
}

/** A stage's workspaces: tallies counted on this thread, figures reported by worker threads, prepare's times. */
export class StageWorkspaces {
  private readonly entries = new Map<number, Entry>();

  constructor(readonly stage: StageName) {}

  private entry(identity: WorkspaceIdentity): Entry {
    let entry = this.entries.get(identity.index);
    if (!entry) this.entries.set(identity.index, (entry = { identity: { ...identity } }));
    else if (identity.agent && !entry.identity.agent) entry.identity = { ...identity };
    return entry;
  }

  /** Tallies for connections of these workspaces, in their order; their round trips share one array. */
  track(identities: readonly WorkspaceIdentity[]): WorkspaceTally[] {
    const counts = new Uint32Array(identities.length * RTT_BUCKETS);
    return identities.map((identity, i) => (this.entry(identity).tally = new WorkspaceTally(counts, i * RTT_BUCKETS)));
  }

  /** Prepare's outcome for one workspace: its times, or the step that failed. */
  prepared(identity: WorkspaceIdentity, outcome: { buildMs?: number; agentReadyMs?: number; error?: string }): void {
    const entry = this.entry(identity);
    if (outcome.buildMs !== undefined) entry.buildMs = outcome.buildMs;
    if (outcome.agentReadyMs !== undefined) entry.agentReadyMs = outcome.agentReadyMs;
    if (outcome.error !== undefined) entry.prepareError = outcome.error;
  }

  /** Figures a worker thread reported (cumulative): they replace what it reported before. */
  report(rows: readonly StageWorkspaceFigures[]): void {
    for (const row of rows) this.entry(row).reported = row.figures;
  }

  get size(): number {
    return this.entries.size;
  }

  /** This stage's figures per workspace, as a worker thread reports them. */
  figures(): StageWorkspaceFigures[] {
    const rows: StageWorkspaceFigures[] = [];
    for (const entry of this.entries.values()) {
      const figures = entry.tally?.figures() ?? entry.reported;
      if (figures) rows.push({ ...entry.identity, figures });
    }
    return rows;
  }

  /** Adds this stage's figures (and prepare's times) to `rows`, keyed by user index. */
  addTo(rows: Map<number, WorkspaceRow>): void {
    for (const entry of this.entries.values()) {
      let row = rows.get(entry.identity.index);
      if (!row) rows.set(entry.identity.index, (row = { ...entry.identity, stages: {} }));
      else if (entry.identity.agent && !row.agent) Object.assign(row, entry.identity);
      if (entry.buildMs !== undefined) row.buildMs = entry.buildMs;
      if (entry.agentReadyMs !== undefined) row.agentReadyMs = entry.agentReadyMs;
      if (entry.prepareError !== undefined) row.prepareError = entry.prepareError;
      const figures = entry.tally?.figures() ?? entry.reported;
      if (figures) row.stages[this.stage] = figures;
    }
  }
}

/** One workspace's figures in one stage, with who it is (what a worker thread reports). */
export interface StageWorkspaceFigures extends WorkspaceIdentity {
  figures: WorkspaceStageFigures;
}

/** Every workspace of these stages, in user order. */
export function workspaceRows(stages: Iterable<{ workspaces: StageWorkspaces }>): WorkspaceRow[] {
  const rows = new Map<number, WorkspaceRow>();
  for (const stage of stages) stage.workspaces.addTo(rows);
  return [...rows.values()].sort((a, b) => a.index - b.index);
}

/**
 * The run's workspaces as snapshots show them: every row on demand (report.json, /metrics), the
 * bounded worst-first lists refreshed every few seconds — ranking thousands of workspaces every
 * second would buy nothing a person could read.
 */
export class RunWorkspaces {
  private cached?: { at: number; summary: WorkspacesSnapshot | undefined };

  constructor(
    private readonly stages: () => Iterable<{ workspaces: StageWorkspaces }>,
    private readonly refreshMs = WORKSPACES_REFRESH_MS,
  ) {}

  rows(): WorkspaceRow[] {
    return workspaceRows(this.stages());
  }

  /** The worst few per stage; undefined while no workspace has figures. `fresh`: recomputed now. */
  summary(fresh = false, now = Date.now()): WorkspacesSnapshot | undefined {
    const few = (this.cached?.summary?.total ?? 0) <= RANKED_EVERY_TIME;
    if (fresh || few || !this.cached || now - this.cached.at >= this.refreshMs) {
      const rows = this.rows();
      this.cached = { at: now, summary: rows.length > 0 ? summarizeWorkspaces(rows) : undefined };
    }
    return this.cached.summary;
  }
}

/** How often snapshots rank the workspaces again (when there are many). */
export const WORKSPACES_REFRESH_MS = 5000;
/** Up to this many workspaces, ranking them costs nothing worth saving: every snapshot, every report does. */
export const RANKED_EVERY_TIME = 250;
