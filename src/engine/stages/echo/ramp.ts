// A traffic stage's planned ramp: when each of its connections opens. Connection i (by its
// plan-wide user index, so worker threads and shards agree) opens i ÷ rate after the stage's
// window starts, and its tick schedule starts from that planned time — so lateness is counted
// only against a plan the runner set itself. Coder's own runner (scaletest/workspacetraffic,
// run with CODER_SCALETEST_CONCURRENCY=0 by its scaletest-runner template) dials every
// connection at once and starts each ticker once its connection is up, which hides a slow open;
// a ramp that started every schedule at the stage's start would instead count the runner's own
// pacing as round trip. Pure: no timers here.

/** The ramp fields of an echo stage's settings (`plan.traffic.<id>`): at most one is set. */
export interface RampSettings {
  /** Connections opened per second. */
  connectionsPerSecond?: number;
  /** The whole ramp's length: 0 opens every connection at once (Coder's runner does). */
  rampSeconds?: number;
}

/**
 * The default: 50 connections a second — 2000 users up in 40 s. Opening costs something per
 * connection on both sides (an SSH key exchange, a `coder` CLI start, a tunnel set-up in
 * coderd's coordinator), so a rate bounds that cost whatever the user count; 50/s keeps the
 * ramp at 22 % of the default SSH window (3 slots of 60 s) and a few percent of the reference's
 * 15–30 minute windows — a hard morning login peak, yet gentler than everyone at once.
 */
export const DEFAULT_CONNECTIONS_PER_SECOND = 50;

export interface RampPlan {
  /** Connections opened per second (Infinity: all at once). */
  connectionsPerSecond: number;
  /** From the window's start to the last planned open (ms). */
  durationMs: number;
  /** ms after the window's start at which the connection of plan-wide index `index` opens. */
  openOffsetMs(index: number): number;
  /** e.g. "200 connections at 50/s (4 s)". */
  description: string;
}

/** The ramp of `connections` connections (the plan's users: indexes 0 … connections − 1). */
export function planRamp(settings: RampSettings, connections: number): RampPlan {
  const count = Math.max(0, Math.floor(connections));
  const spacingMs =
    settings.rampSeconds !== undefined
      ? count > 0
        ? (settings.rampSeconds * 1000) / count
        : 0
      : 1000 / (settings.connectionsPerSecond ?? DEFAULT_CONNECTIONS_PER_SECOND);
  const connectionsPerSecond = spacingMs > 0 ? 1000 / spacingMs : Infinity;
  const durationMs = Math.max(0, count - 1) * spacingMs;
  const rate = Number.isFinite(connectionsPerSecond) ? `${round(connectionsPerSecond)}/s` : 'once';
  return {
    connectionsPerSecond,
    durationMs,
    openOffsetMs: (index) => Math.max(0, index) * spacingMs,
    description:
      spacingMs > 0
        ? `${count} connection${count === 1 ? '' : 's'} at ${rate} (${round(durationMs / 1000)} s)`
        : `${count} connection${count === 1 ? '' : 's'} all at once`,
  };
}

/**
 * The first tick of a connection planned to open at `plannedOpen`: the first time of the
 * stage's tick grid for its phase (gridStart + phaseMs + n × intervalMs) at or after the
 * planned open. Connections of one phase keep sharing their timers (see TickScheduler), and the
 * spread of sends over the interval stays what tickPhaseMs makes it, whatever the ramp.
 */
export function firstTickAt(plannedOpen: number, gridStart: number, phaseMs: number, intervalMs: number): number {
  const first = gridStart + phaseMs;
  if (plannedOpen <= first) return first;
  return first + Math.ceil((plannedOpen - first) / intervalMs) * intervalMs;
}

/** Why the ramp does not fit the stage's window, or undefined. `windowMs`: the window's length. */
export function rampProblem(settings: RampSettings, connections: number, windowMs: number, field: string): string | undefined {
  if (settings.rampSeconds !== undefined && settings.connectionsPerSecond !== undefined)
    return `${field}: set rampSeconds or connectionsPerSecond, not both`;
  const ramp = planRamp(settings, connections);
  if (ramp.durationMs < windowMs) return undefined;
  return (
    `${field}: the ramp (${ramp.description}) does not end before the stage's window does (${round(windowMs / 1000)} s); ` +
    'raise connectionsPerSecond, shorten rampSeconds, or lengthen the window (timeline.slotSeconds)'
  );
}

function round(value: number): number {
  return value >= 10 ? Math.round(value) : Math.round(value * 10) / 10;
}
