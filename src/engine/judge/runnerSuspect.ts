// Is a failed latency threshold the deployment's fault, or the runner's? Round trips are
// measured from the scheduled send time, so a runner whose own event loop stalls (CPU-starved,
// a burst of synchronous work, a busy neighbour process) records its stall as latency — but
// only as much as it stalled: a tick waits for the stalls during its round trip — the time the
// loop could not run anything, summed, and at least its longest stall on the way out and on the
// way back. So the runner is named only when its stalls can explain the excess: in most of the
// seconds in which the limit was broken, the latency less the stalls that can have been in it
// would have kept the limit. Its child processes (one `coder ssh --stdio` per SSH connection, Chromium)
// add delay the event loop never sees — a CLI process waiting for a core holds the bytes it
// relays — so a runner that with its children used (nearly) every core is named too. Otherwise
// the verdict says what the runner's figures do show, and leaves the deployment in the frame.
import type { HistoryPoint, StageName, StageSnapshot } from '../../protocol/snapshot';
import { OVERLOADED_LAG_MS } from '../monitors/monitors';
import type { ParsedThreshold } from './thresholds';

export interface RunnerSuspicion {
  /** True when the runner, not the deployment, is suspect; false: `explanation` says what is known. */
  blamed: boolean;
  /** History seconds in which the metric broke its limit. */
  breachedSeconds: number;
  /** Of those, the seconds the runner's stalls or its saturated machine explain. */
  stalledSeconds: number;
  worstLagMs: number;
  worstCpuPercent: number;
  /** One sentence for the verdict and the report. */
  explanation: string;
}

type PerSecondStat = 'p50' | 'p95' | 'p99';

/** How long after a stall its effects may still be in the recorded round trips. */
const STALL_AFTERMATH_MS = 5000;
/** A round trip waits at most one stall on the way out and one on the way back. */
const STALLS_PER_ROUND_TRIP = 2;
/** The runner with its children using this share of the machine's cores: latency it adds is invisible as lag. */
const SATURATED_SHARE = 0.9;

/** The per-second figure of a metric that history keeps, if any (stage round trips and API latency). */
function perSecondReader(metric: string): { stage?: StageName; read: (point: HistoryPoint) => number | undefined } | undefined {
  const parts = metric.split('.');
  const stat = parts[parts.length - 1];
  const column: PerSecondStat = stat === 'p99' || stat === 'max' ? 'p99' : stat === 'p90' || stat === 'p95' ? 'p95' : 'p50';
  if (parts.length === 3 && (parts[1] === 'rtt' || parts[1] === 'latency') && parts[0] !== 'api') {
    const stage = parts[0] as StageName;
    return { stage, read: (point) => point.stages[stage]?.[column] };
  }
  if (parts[0] === 'api' && parts[1] === 'latency' && parts.length === 3) return { read: (point) => point.apiP95Ms };
  return undefined;
}

/** The value below which a breached `threshold` would have held; undefined for limits a stall cannot spoil. */
function upperLimit(threshold: ParsedThreshold): number | undefined {
  return threshold.op === '<' || threshold.op === '<=' ? threshold.limit : undefined;
}

function breaks(threshold: ParsedThreshold, value: number): boolean {
  return threshold.op === '<' ? value >= threshold.limit : threshold.op === '<=' ? value > threshold.limit : false;
}

const ms = (value: number) => `${Math.round(value)} ms`;

/**
 * Judges one failed threshold against the run's history (and, for open lag, the stages'
 * figures); undefined when the runner's figures have nothing to say about it.
 */
export function runnerSuspicion(
  threshold: ParsedThreshold,
  history: readonly HistoryPoint[],
  stages: readonly StageSnapshot[] = [],
): RunnerSuspicion | undefined {
  const errorsOf = /^([a-z0-9_-]+)\.errors$/.exec(threshold.metric);
  if (errorsOf) return runnerErrorsSuspicion(stages.find((stage) => stage.name === errorsOf[1]));
  if (threshold.kind !== 'duration' || upperLimit(threshold) === undefined) return undefined;
  const openLag = /^([a-z0-9_-]+)\.open_lag\./.exec(threshold.metric);
  if (openLag)
    return openLagSuspicion(
      threshold,
      stages.find((stage) => stage.name === openLag[1]),
    );
  const reader = perSecondReader(threshold.metric);
  if (!reader) return undefined;
  let breachedSeconds = 0;
  let stalledSeconds = 0;
  let saturatedSeconds = 0;
  let rampSeconds = 0;
  let worstLagMs = 0;
  let worstCpuPercent = 0;
  let worstChildrenCpuPercent = 0;
  let worstShare = 0;
  let worstValue = 0;
  let busyMachineSeconds = 0;
  let worstMachineShare = 0;
  let worstExplainableMs = 0;
  history.forEach((point, index) => {
    const value = reader.read(point);
    if (value === undefined || !breaks(threshold, value)) return;
    breachedSeconds++;
    worstValue = Math.max(worstValue, value);
    // A stall delays the echoes recorded in its own second, and the connections then catch
    // up on their tick schedule for a while: look back a little.
    const around = history.slice(0, index + 1).filter((p) => p.t >= point.t - STALL_AFTERMATH_MS);
    const lagMs = Math.max(...around.map((p) => p.eventLoopLagMs));
    const share = Math.max(...around.map((p) => p.runnerMachineShare ?? 0));
    worstLagMs = Math.max(worstLagMs, lagMs);
    worstCpuPercent = Math.max(worstCpuPercent, ...around.map((p) => p.runnerCpuPercent + (p.runnerChildrenCpuPercent ?? 0)));
    worstChildrenCpuPercent = Math.max(worstChildrenCpuPercent, ...around.map((p) => p.runnerChildrenCpuPercent ?? 0));
    worstShare = Math.max(worstShare, share);
    // What the runner can have added to a round trip is the time its loop could not run during
    // it (the seconds it spans, stalls summed), and at least its longest stall on the way out
    // and on the way back (older reports keep only the longest stall of each second).
    const during = history.filter((p) => p.t <= point.t && p.t > point.t - value - 1000);
    const stalledDuring = during.reduce((sum, p) => sum + (p.eventLoopStalledMs ?? p.eventLoopLagMs), 0);
    const explainableMs = lagMs >= OVERLOADED_LAG_MS ? Math.max(STALLS_PER_ROUND_TRIP * lagMs, stalledDuring) : 0;
    worstExplainableMs = Math.max(worstExplainableMs, explainableMs);
    const saturated = share >= SATURATED_SHARE;
    if (saturated) saturatedSeconds++;
    if (saturated || (explainableMs > 0 && !breaks(threshold, value - explainableMs))) stalledSeconds++;
    const machineShare = Math.max(...around.map((p) => p.machineCpuShare ?? 0));
    worstMachineShare = Math.max(worstMachineShare, machineShare);
    if (machineShare >= SATURATED_SHARE) busyMachineSeconds++;
    const stage = reader.stage && point.stages[reader.stage];
    if (stage && stage.active < stage.target) rampSeconds++;
  });
  if (breachedSeconds === 0) return undefined;
  const common = { breachedSeconds, stalledSeconds, worstLagMs, worstCpuPercent };
  const ofSeconds = `in ${stalledSeconds} of the ${breachedSeconds} second(s) in which ${threshold.metric} broke its limit`;
  // Most breached seconds, not just some: one stall must not excuse a deployment that was slow anyway.
  if (stalledSeconds * 2 > breachedSeconds) {
    const how =
      saturatedSeconds * 2 > breachedSeconds
        ? `the runner and its child processes used up to ${Math.round(worstShare * 100)}% of the machine's cores (CPU up to ${Math.round(worstCpuPercent)}%) ${ofSeconds}: delay added while its children waited for a core is not visible as event-loop lag`
        : `the runner itself stalled (event-loop lag p99 up to ${ms(worstLagMs)}, CPU ${worstChildrenCpuPercent > 0 ? `with its child processes up to ${Math.round(worstCpuPercent)}%, theirs up to ${Math.round(worstChildrenCpuPercent)}%` : `up to ${Math.round(worstCpuPercent)}%`}) long enough to explain the latency ${ofSeconds}`;
    return {
      ...common,
      blamed: true,
      explanation:
        `${how}, so the runner, not the deployment, is suspect: these latencies are untrustworthy; ` +
        'rerun with fewer users per runner, on a less busy machine, or across more runners',
    };
  }
  const ramp =
    rampSeconds > 0 ? `; ${rampSeconds} of those seconds fell in the stage's ramp (connections still opening: see its open lag)` : '';
  // Neither the runner's loop nor its children filled the machine, but something did.
  const machine =
    busyMachineSeconds * 2 > breachedSeconds
      ? `; the machine itself was busy (up to ${Math.round(worstMachineShare * 100)}% of its cores, the runner's share up to ${Math.round(worstShare * 100)}%): other processes competed for the CPU — on one machine with the deployment (the demo), that slows the deployment too`
      : '';
  // The worst figures may come from different seconds: with some seconds explained, the count
  // says what the comparison found ("explains at most 12 s of latencies up to 7 s" would not).
  const runner =
    worstLagMs >= OVERLOADED_LAG_MS
      ? stalledSeconds > 0
        ? `the runner's event loop stalled (lag p99 up to ${ms(worstLagMs)}) long enough to explain the latency in only ${stalledSeconds} of them, too few to blame it`
        : `the runner's event loop stalled (lag p99 up to ${ms(worstLagMs)}), which explains at most ~${ms(worstExplainableMs)} of latencies up to ${ms(worstValue)}`
      : `the runner kept up (event-loop lag p99 at most ${ms(worstLagMs)}, CPU with its children at most ${Math.round(worstCpuPercent)}%, ${Math.round(worstShare * 100)}% of the machine)`;
  return {
    ...common,
    blamed: false,
    explanation: `not the runner: in the ${breachedSeconds} second(s) in which ${threshold.metric} broke its limit ${runner}; the latency is the deployment's or the network's${ramp}${machine}`,
  };
}

/**
 * Errors only the runner causes: connections its ramp did not open before the stage's window
 * ended (held back by its own event-loop lag, or a runner that reached the stage late).
 */
const RUNNER_ERROR_KINDS: ReadonlySet<string> = new Set(['not_opened']);

/** A failed error count the runner alone explains: every error is of a kind only the runner causes. */
function runnerErrorsSuspicion(stage: StageSnapshot | undefined): RunnerSuspicion | undefined {
  const counted = Object.entries(stage?.errors ?? {}).filter(([, count]) => count > 0);
  if (!counted.length || !counted.every(([kind]) => RUNNER_ERROR_KINDS.has(kind))) return undefined;
  const total = counted.reduce((sum, [, count]) => sum + count, 0);
  return {
    blamed: true,
    breachedSeconds: 0,
    stalledSeconds: 0,
    worstLagMs: 0,
    worstCpuPercent: 0,
    explanation:
      `all ${total} error(s) are connections this runner did not open before the stage's window ended (its ramp held back by its own ` +
      'event-loop lag, or the runner reached the stage late), so the runner, not the deployment, is suspect: rerun with fewer users per runner or across more runners',
  };
}

/** Open lag has no per-second history: the stage's ramp says how long the runner itself held it back. */
function openLagSuspicion(threshold: ParsedThreshold, stage: StageSnapshot | undefined): RunnerSuspicion | undefined {
  const observed = stage?.openLag && stage.openLag.count > 0 ? stage.openLag : undefined;
  if (!observed || !stage?.ramp) return undefined;
  const stat = threshold.metric.split('.').pop() as keyof typeof observed;
  const value = Number(observed[stat] ?? observed.p95);
  const held = stage.ramp.heldBackMs;
  // What the runner itself added: how late it started the opens (its pacer, its own lagging loop).
  const runnerMs = Math.max(held, stage.ramp.startedLateMs ?? 0);
  const common = { breachedSeconds: 0, stalledSeconds: 0, worstLagMs: 0, worstCpuPercent: 0 };
  if (runnerMs > 0 && !breaks(threshold, value - runnerMs)) {
    return {
      ...common,
      blamed: true,
      explanation:
        `the runner itself started its opens late (p95 ${ms(runnerMs)}; its lag pacer held the ramp back ${ms(held)}, its event loop lagged), enough to explain the open lag of ${ms(value)}, ` +
        'so the runner, not the deployment, is suspect: rerun with fewer users per runner or a slower ramp',
    };
  }
  const connect = stage.connectLatency && stage.connectLatency.count > 0 ? `; handshakes took p95 ${ms(stage.connectLatency.p95)}` : '';
  return {
    ...common,
    blamed: false,
    explanation:
      `not the runner: it started its opens late by p95 ${ms(runnerMs)} (its lag pacer held the ramp back ${ms(held)}) of an open lag of ${ms(value)}; the connections were slower to come up ` +
      `than the ramp planned (${stage.ramp.description})${connect}`,
  };
}
