// Is a failed latency threshold the deployment's fault, or the runner's? Round trips are
// measured from the scheduled send time, so a runner whose own event loop stalls (CPU-starved,
// a burst of synchronous work, a busy neighbour process) records its stall as latency. When
// the seconds in which a limit was broken are mostly seconds in which the runner stalled, the
// verdict must say so instead of blaming coderd.
import type { HistoryPoint, StageName } from '../../protocol/snapshot';
import { OVERLOADED_LAG_MS } from '../monitors/monitors';
import type { ParsedThreshold } from './thresholds';

export interface RunnerSuspicion {
  /** History seconds in which the metric broke its limit. */
  breachedSeconds: number;
  /** Of those, the seconds in which (or shortly after which) the runner's event loop stalled. */
  stalledSeconds: number;
  worstLagMs: number;
  worstCpuPercent: number;
  /** One sentence for the verdict and the report. */
  explanation: string;
}

type PerSecondStat = 'p50' | 'p95' | 'p99';

/** How long after a stall its effects may still be in the recorded round trips. */
const STALL_AFTERMATH_MS = 5000;

/** The per-second figure of a metric that history keeps, if any (stage round trips and API latency). */
function perSecondReader(metric: string): ((point: HistoryPoint) => number | undefined) | undefined {
  const parts = metric.split('.');
  const stat = parts[parts.length - 1];
  const column: PerSecondStat = stat === 'p99' || stat === 'max' ? 'p99' : stat === 'p90' || stat === 'p95' ? 'p95' : 'p50';
  if (parts.length === 3 && (parts[1] === 'rtt' || parts[1] === 'latency') && parts[0] !== 'api') {
    const stage = parts[0] as StageName;
    return (point) => point.stages[stage]?.[column];
  }
  if (parts[0] === 'api' && parts[1] === 'latency' && parts.length === 3) return (point) => point.apiP95Ms;
  return undefined;
}

function breaks(threshold: ParsedThreshold, value: number): boolean {
  switch (threshold.op) {
    case '<':
      return value >= threshold.limit;
    case '<=':
      return value > threshold.limit;
    default:
      return false; // only upper limits on latency are a runner's to spoil
  }
}

/** Judges one failed threshold against the run's history; undefined when the runner is not to blame. */
export function runnerSuspicion(threshold: ParsedThreshold, history: readonly HistoryPoint[]): RunnerSuspicion | undefined {
  if (threshold.kind !== 'duration') return undefined;
  const read = perSecondReader(threshold.metric);
  if (!read) return undefined;
  let breachedSeconds = 0;
  let stalledSeconds = 0;
  let worstLagMs = 0;
  let worstCpuPercent = 0;
  history.forEach((point, index) => {
    const value = read(point);
    if (value === undefined || !breaks(threshold, value)) return;
    breachedSeconds++;
    // A stall delays the echoes recorded in its own second, and the connections then catch
    // up on their tick schedule for a while (longer on a starved runner): look back a little.
    const around = history.slice(0, index + 1).filter((p) => p.t >= point.t - STALL_AFTERMATH_MS);
    const stall = around.find((p) => p.eventLoopLagMs >= OVERLOADED_LAG_MS);
    if (!stall) return;
    stalledSeconds++;
    worstLagMs = Math.max(worstLagMs, ...around.map((p) => p.eventLoopLagMs));
    worstCpuPercent = Math.max(worstCpuPercent, ...around.map((p) => p.runnerCpuPercent));
  });
  // Most breached seconds, not just some: one stall must not excuse a deployment that was slow anyway.
  if (breachedSeconds === 0 || stalledSeconds * 2 <= breachedSeconds) return undefined;
  return {
    breachedSeconds,
    stalledSeconds,
    worstLagMs,
    worstCpuPercent,
    explanation:
      `the runner itself stalled (event-loop lag p99 up to ${Math.round(worstLagMs)} ms, CPU up to ${Math.round(worstCpuPercent)}%) ` +
      `in ${stalledSeconds} of the ${breachedSeconds} second(s) in which ${threshold.metric} broke its limit, so the runner, not the deployment, is suspect: ` +
      'these latencies are untrustworthy; rerun with fewer users per runner, on a less busy machine, or across more runners',
  };
}
