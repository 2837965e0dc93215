// The shard message: what one producer of a sharded run (a `run --shard I/N` process, a
// Kubernetes pod, later a worker thread) hands the coordinator once a second. One JSON object
// per line (NDJSON), versioned, documented in docs/shard-message.md. It carries counters and
// *encoded HDR histograms*, never percentiles: percentiles of shards cannot be combined, their
// histograms can (exactly), so the coordinator judges thresholds on the merged whole.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Bumped on any incompatible change; a coordinator refuses versions it does not know. */
export const SHARD_MESSAGE_VERSION = 1;

const Latency = Type.Object({
  /** Whole-run histogram, microseconds, hdr-histogram-js `encodeIntoCompressedBase64`. */
  total: Type.String(),
  /** Values recorded since the shard's previous report (same encoding), for live percentiles. */
  interval: Type.Optional(Type.String()),
});

const StageState = Type.Union([
  Type.Literal('waiting'),
  Type.Literal('running'),
  Type.Literal('stopping'),
  Type.Literal('done'),
  Type.Literal('skipped'),
]);

const ShardStage = Type.Object({
  /** Stage metadata as the shard's engine defines it, so the coordinator needs no stage registry of its own. */
  title: Type.String(),
  color: Type.Optional(Type.String()),
  plannedStartMs: Type.Optional(Type.Number()),
  plannedEndMs: Type.Optional(Type.Number()),
  state: StageState,
  startedAt: Type.Optional(Type.Number()),
  endedAt: Type.Optional(Type.Number()),
  connections: Type.Object({ active: Type.Number(), target: Type.Number() }),
  counters: Type.Object({
    bytesSent: Type.Number(),
    bytesReceived: Type.Number(),
    sent: Type.Number(),
    completed: Type.Number(),
    expected: Type.Number(),
    mismatches: Type.Number(),
    resynced: Type.Number(),
    disconnects: Type.Number(),
    reconnects: Type.Number(),
  }),
  errors: Type.Record(Type.String(), Type.Number()),
  progress: Type.Optional(
    Type.Object({
      done: Type.Number(),
      total: Type.Number(),
      failed: Type.Number(),
      queued: Type.Optional(Type.Number()),
      building: Type.Optional(Type.Number()),
    }),
  ),
  /** Why the stage failed on this shard, if it did (e.g. Chromium would not start). */
  reason: Type.Optional(Type.String()),
  latency: Latency,
  connect: Type.Optional(Latency),
  /** Echo stages: open lag (ready − planned open). */
  openLag: Type.Optional(Latency),
  /** The stage's other latencies (its definition's `latencies`), by name: whole-run histograms. */
  latencies: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** The stage's own live figures (its definition's `figures`), by name; combined as the definition says. */
  figures: Type.Optional(Type.Record(Type.String(), Type.Number())),
  /** Echo stages: the planned ramp and how long this shard's pacer held it back. */
  ramp: Type.Optional(
    Type.Object({
      description: Type.String(),
      connectionsPerSecond: Type.Union([Type.Number(), Type.Null()]),
      heldBackMs: Type.Number(),
      startedLateMs: Type.Optional(Type.Number()),
    }),
  ),
});

const ShardApiClass = Type.Object({
  requests: Type.Number(),
  errors4xx: Type.Number(),
  errors5xx: Type.Number(),
  networkErrors: Type.Number(),
  latency: Latency,
});

const Runner = Type.Object({
  cpuPercent: Type.Number(),
  rssBytes: Type.Number(),
  heapUsedBytes: Type.Number(),
  eventLoopLagP99Ms: Type.Number(),
  eventLoopStalledMs: Type.Optional(Type.Number()),
  overloaded: Type.Boolean(),
  warning: Type.Optional(Type.String()),
  children: Type.Optional(
    Type.Object({
      count: Type.Number(),
      cpuPercent: Type.Number(),
      rssBytes: Type.Number(),
      kinds: Type.Array(Type.Object({ kind: Type.String(), count: Type.Number(), cpuPercent: Type.Number(), rssBytes: Type.Number() })),
    }),
  ),
  childrenUnavailable: Type.Optional(Type.String()),
  cores: Type.Optional(Type.Number()),
  memoryBytes: Type.Optional(Type.Number()),
  machineCpuShare: Type.Optional(Type.Number()),
});

const Shard = Type.Object({ index: Type.Integer({ minimum: 0 }), count: Type.Integer({ minimum: 1 }) });

/** One workspace's figures in one stage (src/protocol/workspaces.ts). */
const WorkspaceStageFigures = Type.Object({
  connects: Type.Number(),
  reconnects: Type.Number(),
  disconnects: Type.Number(),
  mismatches: Type.Number(),
  errors: Type.Record(Type.String(), Type.Number()),
  bytesSent: Type.Number(),
  bytesReceived: Type.Number(),
  rtt: Type.Object({ count: Type.Number(), p50: Type.Number(), p95: Type.Number(), max: Type.Number() }),
});

const WorkspaceRow = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  user: Type.String(),
  workspace: Type.String(),
  agent: Type.String(),
  buildMs: Type.Optional(Type.Number()),
  agentReadyMs: Type.Optional(Type.Number()),
  prepareError: Type.Optional(Type.String()),
  stages: Type.Record(Type.String(), WorkspaceStageFigures),
});

/** Once a second while the shard runs, and once more (complete) just before its result. */
export const ShardReportSchema = Type.Object({
  type: Type.Literal('shard-report'),
  version: Type.Literal(SHARD_MESSAGE_VERSION),
  runId: Type.String(),
  shard: Shard,
  /** 0, 1, 2… per shard: a coordinator drops a report older than the last it merged. */
  seq: Type.Integer({ minimum: 0 }),
  /** Epoch ms on the shard's clock. */
  time: Type.Number(),
  status: Type.Union([
    Type.Literal('starting'),
    Type.Literal('preparing'),
    Type.Literal('running'),
    Type.Literal('cleaning'),
    Type.Literal('finished'),
    Type.Literal('aborted'),
    Type.Literal('error'),
  ]),
  timelineStartedAt: Type.Optional(Type.Number()),
  stages: Type.Record(Type.String(), ShardStage),
  api: Type.Object({ total: ShardApiClass, byClass: Type.Record(Type.String(), ShardApiClass) }),
  runner: Runner,
  /** The deployment as this shard sees it (health, stats); the coordinator shows shard 0's. */
  deployment: Type.Optional(Type.Unknown()),
  /**
   * Which workspace? The shard's worst few per stage (its snapshot's) and, in its last report,
   * every workspace of the shard. A workspace belongs to one shard: the coordinator concatenates.
   */
  workspaces: Type.Optional(
    Type.Object({
      total: Type.Number(),
      worst: Type.Record(Type.String(), Type.Array(WorkspaceRow)),
      rows: Type.Optional(Type.Array(WorkspaceRow)),
    }),
  ),
  /** Warnings and errors the shard logged since its previous report (bounded). */
  events: Type.Optional(
    Type.Array(Type.Object({ level: Type.String(), time: Type.Number(), stage: Type.Optional(Type.String()), message: Type.String() })),
  ),
});

/** Last message of a shard: how it ended. A shard that never sends one is counted as lost. */
export const ShardResultSchema = Type.Object({
  type: Type.Literal('shard-result'),
  version: Type.Literal(SHARD_MESSAGE_VERSION),
  runId: Type.String(),
  shard: Shard,
  time: Type.Number(),
  /** The shard's own exit code (its own threshold judgement is advisory: the coordinator judges the merged view). */
  exitCode: Type.Integer(),
  status: Type.String(),
  reason: Type.Optional(Type.String()),
  cleanup: Type.Object({ deletedUsers: Type.Number(), deletedWorkspaces: Type.Number(), leftovers: Type.Array(Type.String()) }),
});

export type ShardReport = Static<typeof ShardReportSchema>;
export type ShardStageReport = Static<typeof ShardStage>;
export type ShardApiReport = Static<typeof ShardApiClass>;
export type ShardResult = Static<typeof ShardResultSchema>;
export type ShardMessage = ShardReport | ShardResult;

export class ShardMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardMessageError';
  }
}

/** One line of the shard stream (no trailing newline). */
export function encodeShardMessage(message: ShardMessage): string {
  return JSON.stringify(message);
}

/** Parses and checks one line; throws ShardMessageError saying what was wrong. */
export function parseShardMessage(line: string): ShardMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ShardMessageError(`not a shard message (invalid JSON: ${(error as Error).message}): ${line.slice(0, 80)}`);
  }
  const record = value as { type?: unknown; version?: unknown };
  if (typeof record !== 'object' || record === null || (record.type !== 'shard-report' && record.type !== 'shard-result')) {
    throw new ShardMessageError(`not a shard message (no "type": "shard-report" or "shard-result"): ${line.slice(0, 80)}`);
  }
  if (record.version !== SHARD_MESSAGE_VERSION) {
    throw new ShardMessageError(
      `shard message version ${JSON.stringify(record.version)} is not supported (this coordinator reads version ${SHARD_MESSAGE_VERSION}); run the same coder-scaletest version on every shard`,
    );
  }
  const schema = record.type === 'shard-report' ? ShardReportSchema : ShardResultSchema;
  if (!Value.Check(schema, value)) {
    const first = Value.Errors(schema, value).First();
    throw new ShardMessageError(`invalid ${record.type}: ${first ? `${first.path || '/'} ${first.message}` : 'does not match the schema'}`);
  }
  return value as ShardMessage;
}

/** Parses `I/N` (e.g. `0/3`): shard I of N, 0 ≤ I < N. */
export function parseShardSpec(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index >= count) {
    throw new ShardMessageError(
      `--shard "${text}" is not a shard: expected I/N with 0 ≤ I < N, e.g. --shard 0/3 for the first of three shards`,
    );
  }
  return { index, count };
}

export { shardUserIndexes } from '../engine/prepare/shardUsers';
