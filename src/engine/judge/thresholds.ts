// Readable pass criteria: `<metric> <op> <value><unit?>`, e.g. `pty.rtt.p95 < 300ms`,
// `ssh.disconnects <= 1%`, `api.errors_5xx == 0`, or relative to the plan's baseline run:
// `<metric> <op> baseline [* <factor>] [+|- <value><unit?>]`, e.g. `pty.rtt.p95 < baseline * 1.2`,
// `api.errors_5xx <= baseline` (docs/baselines.md). Thresholds are evaluated on a RunSnapshot,
// the same complete state every face sees, so a live view, the final verdict and a merged
// shard snapshot all agree.
import { endpointClasses } from '../../coder/endpointClass';
import type { LatencySummary, RunSnapshot, StageName, StageSnapshot, ThresholdSnapshot, Verdict } from '../../protocol/snapshot';
import type { MetricFamily, StageIdentity } from '../stages/definition';
import { allStages, findStage, registryVersion } from '../stages/registry';

export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';
type Unit = 'ms' | 's' | '%' | '';
/** duration: ms; count: a number, or with % a share of its base; ratio: always %. */
type MetricKind = 'duration' | 'count' | 'ratio';

export interface ParsedThreshold {
  expression: string;
  metric: string;
  op: Op;
  /** Limit in the metric's base unit: ms for durations, 0..1 for %, a number for counts. */
  limit: number;
  unit: Unit;
  kind: MetricKind;
  /** `… baseline * factor + offset`: the limit is NaN until resolved against a baseline run (offset in base units). */
  baseline?: { factor: number; offset: number };
  /** A resolved baseline limit in words, e.g. `< 240ms (baseline 200ms × 1.2)`. */
  limitText?: string;
}

interface MetricDefinition {
  kind: MetricKind;
  /** Value in base units, null when there is no data yet. */
  read(snapshot: RunSnapshot): number | null;
  /** For counts: the base a `%` limit refers to (e.g. connections for disconnects). */
  percentBase?(snapshot: RunSnapshot): number;
  /** Stage whose skip makes the threshold not applicable. */
  stage?: StageName;
}

const STATS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'max'] as const;
const COUNTERS = ['disconnects', 'reconnects', 'errors', 'mismatches'] as const;
const API_CLASSES: readonly string[] = endpointClasses;

const latencyValue = (latency: LatencySummary | undefined, stat: (typeof STATS)[number]): number | null =>
  latency && latency.count > 0 ? latency[stat] : null;

const stageOf = (snapshot: RunSnapshot, name: StageName): StageSnapshot | undefined => snapshot.stages.find((stage) => stage.name === name);

const sumErrors = (stage: StageSnapshot | undefined): number =>
  stage ? Object.values(stage.errors).reduce((total, n) => total + n, 0) : 0;

const isStat = (part: string | undefined): part is (typeof STATS)[number] => (STATS as readonly string[]).includes(part ?? '');

/** `<stage>.<family…>`: what the registered stage exposes (see MetricFamily). */
function lookupStageMetric(stage: StageIdentity, rest: string[]): MetricDefinition | undefined {
  const id = stage.id;
  const has = (family: MetricFamily) => stage.metrics.includes(family);
  const [field, stat] = rest;
  if (rest.length === 2 && has('latency') && (field === 'rtt' || field === 'latency') && isStat(stat)) {
    return { kind: 'duration', stage: id, read: (s) => latencyValue(stageOf(s, id)?.latency, stat) };
  }
  if (rest.length === 2 && has('connect') && field === 'connect' && isStat(stat)) {
    return { kind: 'duration', stage: id, read: (s) => latencyValue(stageOf(s, id)?.connectLatency, stat) };
  }
  if (rest.length === 2 && has('connect') && field === 'open_lag' && isStat(stat)) {
    return { kind: 'duration', stage: id, read: (s) => latencyValue(stageOf(s, id)?.openLag, stat) };
  }
  if (rest.length === 2 && Object.hasOwn(stage.latencies ?? {}, field) && isStat(stat)) {
    return {
      kind: 'duration',
      stage: id,
      read: (s) => latencyValue(stageOf(s, id)?.latencies?.find((named) => named.name === field)?.latency, stat),
    };
  }
  if (rest.length !== 1) return undefined;
  const sentBase = (s: RunSnapshot) => stageOf(s, id)?.sent ?? 0;
  const connectionBase = (s: RunSnapshot) => stageOf(s, id)?.connections.target ?? 0;
  if (has('counters') && (COUNTERS as readonly string[]).includes(field)) {
    if (field === 'disconnects' || field === 'reconnects') {
      return { kind: 'count', stage: id, read: (s) => stageOf(s, id)?.[field] ?? 0, percentBase: connectionBase };
    }
    if (field === 'mismatches') return { kind: 'count', stage: id, read: (s) => stageOf(s, id)?.mismatches ?? 0, percentBase: sentBase };
    return { kind: 'count', stage: id, read: (s) => sumErrors(stageOf(s, id)), percentBase: sentBase };
  }
  if (has('throughput') && field === 'throughput') {
    return {
      kind: 'ratio',
      stage: id,
      read: (s) => {
        const snap = stageOf(s, id);
        return snap?.expected ? Math.min(1, snap.completed / snap.expected) : null;
      },
    };
  }
  if (has('failures') && field === 'failures') {
    return {
      kind: 'count',
      stage: id,
      read: (s) => stageOf(s, id)?.progress?.failed ?? 0,
      percentBase: (s) => stageOf(s, id)?.progress?.total ?? 0,
    };
  }
  return undefined;
}

/** The metric catalogue, resolved by name. */
function lookupMetric(name: string): MetricDefinition | undefined {
  const parts = name.split('.');
  const [head] = parts;
  const stage = findStage(head);
  if (stage) return lookupStageMetric(stage, parts.slice(1));
  if (head === 'api') {
    const requests = (s: RunSnapshot) => s.api.total.requests;
    if (name === 'api.errors_5xx') return { kind: 'count', read: (s) => s.api.total.errors5xx, percentBase: requests };
    if (name === 'api.errors_4xx') return { kind: 'count', read: (s) => s.api.total.errors4xx, percentBase: requests };
    if (name === 'api.network_errors') return { kind: 'count', read: (s) => s.api.total.networkErrors, percentBase: requests };
    if (parts.length === 3 && parts[1] === 'latency' && isStat(parts[2])) {
      const stat = parts[2];
      return { kind: 'duration', read: (s) => latencyValue(s.api.total.latency, stat) };
    }
    if (parts.length === 4 && parts[1] === 'latency' && API_CLASSES.includes(parts[2]) && isStat(parts[3])) {
      const [, , endpointClass, stat] = parts as [string, string, string, (typeof STATS)[number]];
      return { kind: 'duration', read: (s) => latencyValue(s.api.byClass[endpointClass]?.latency, stat) };
    }
    return undefined;
  }
  if (name === 'deployment.restarts') return { kind: 'count', read: (s) => s.deployment.restarts };
  if (name === 'runner.cpu') return { kind: 'ratio', read: (s) => s.runner.cpuPercent / 100 };
  if (name === 'runner.event_loop_lag') return { kind: 'duration', read: (s) => s.runner.eventLoopLagP99Ms };
  return undefined;
}

let cache = { version: -1, metrics: new Map<string, MetricDefinition>() };

/** Snapshots come once a second with every threshold: resolve each metric name once per registry. */
function cachedMetric(name: string): MetricDefinition {
  if (cache.version !== registryVersion()) cache = { version: registryVersion(), metrics: new Map() };
  let definition = cache.metrics.get(name);
  if (!definition) {
    definition = lookupMetric(name);
    if (!definition) throw new Error(`unknown metric "${name}"`);
    cache.metrics.set(name, definition);
  }
  return definition;
}

/** Every metric name, for error messages and documentation: the registered stages' first. */
export function metricCatalogue(): string[] {
  const stageMetrics = allStages().flatMap((stage) => {
    const names: string[] = [];
    if (stage.metrics.includes('latency'))
      names.push(`${stage.id}.${stage.metrics.includes('throughput') ? 'rtt' : 'latency'}.<stat> (${stage.latencyMeaning ?? 'latency'})`);
    if (stage.metrics.includes('connect'))
      names.push(`${stage.id}.connect.<stat> (handshake)`, `${stage.id}.open_lag.<stat> (ready − planned open)`);
    if (stage.metrics.includes('counters')) names.push(`${stage.id}.<${COUNTERS.join('|')}>`);
    for (const [name, meaning] of Object.entries(stage.latencies ?? {})) names.push(`${stage.id}.${name}.<stat> (${meaning})`);
    if (stage.metrics.includes('throughput')) names.push(`${stage.id}.throughput`);
    if (stage.metrics.includes('failures')) names.push(`${stage.id}.failures`);
    return names;
  });
  return [
    ...stageMetrics,
    'api.errors_5xx',
    'api.errors_4xx',
    'api.network_errors',
    `api.latency.<${STATS.join('|')}>`,
    `api.latency.<${API_CLASSES.join('|')}>.<stat>`,
    'deployment.restarts',
    'runner.cpu',
    'runner.event_loop_lag',
  ];
}

const SYNTAX = /^\s*([A-Za-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$/;
const BASELINE_SYNTAX =
  /^\s*([A-Za-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*baseline\s*(?:\*\s*(\d+(?:\.\d+)?)\s*)?(?:([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?)?\s*$/;
const HOW_TO_WRITE =
  'write <metric> <op> <value><unit>, e.g. "pty.rtt.p95 < 300ms", or <metric> <op> baseline [* <factor>] [+|- <value><unit>], ' +
  'e.g. "pty.rtt.p95 < baseline * 1.2 + 10ms" (ops: < <= > >= == !=; units: ms, s, %, or none)';

/** A limit of `definition`'s kind in base units, or an Error saying which unit fits the metric. */
function limitInBaseUnits(metric: string, definition: MetricDefinition, value: number, unit: Unit): number {
  switch (definition.kind) {
    case 'duration':
      if (unit === '%') throw new Error(`"${metric}" is a duration: give the limit in ms or s (e.g. 300ms), not %`);
      return unit === 's' ? value * 1000 : value;
    case 'ratio':
      if (unit !== '%') throw new Error(`"${metric}" is a percentage: write the limit with %, e.g. "${metric} >= 90%"`);
      return value / 100;
    case 'count':
      if (unit === 'ms' || unit === 's')
        throw new Error(`"${metric}" is a count: give a number (e.g. 0) or a share (e.g. 1%), not ${unit}`);
      if (unit === '%' && !definition.percentBase) throw new Error(`"${metric}" is a plain count: % is not defined for it`);
      return unit === '%' ? value / 100 : value;
  }
}

function definitionOf(metric: string): MetricDefinition {
  const definition = lookupMetric(metric);
  if (!definition) throw new Error(`unknown metric "${metric}"; known metrics: ${metricCatalogue().join(', ')}`);
  return definition;
}

/** `<metric> <op> baseline [* factor] [+|- offset]`; the unit is the offset's, else the metric's own. */
function parseBaselineThreshold(expression: string, match: RegExpExecArray): ParsedThreshold {
  const [, metric, op, rawFactor, sign, rawOffset, rawUnit] = match;
  const definition = definitionOf(metric);
  const factor = rawFactor === undefined ? 1 : Number(rawFactor);
  if (!(factor > 0)) throw new Error(`cannot read "${expression}": the factor after "baseline *" must be above 0, e.g. "baseline * 1.2"`);
  const implicit: Unit = definition.kind === 'duration' ? 'ms' : definition.kind === 'ratio' ? '%' : '';
  const unit = rawUnit === undefined ? implicit : (rawUnit as Unit);
  const offset = rawOffset === undefined ? 0 : limitInBaseUnits(metric, definition, Number(rawOffset), unit) * (sign === '-' ? -1 : 1);
  return { expression, metric, op: op as Op, limit: Number.NaN, unit, kind: definition.kind, baseline: { factor, offset } };
}

/** Parses an expression; throws an Error whose message says what is wrong and how to write it. */
export function parseThreshold(expression: string): ParsedThreshold {
  const relative = BASELINE_SYNTAX.exec(expression);
  if (relative) return parseBaselineThreshold(expression, relative);
  const match = SYNTAX.exec(expression);
  if (!match) {
    const hint = /baseline/i.test(expression) ? ' (with a baseline: "baseline" first, then "* <factor>", then "+ <value><unit>")' : '';
    throw new Error(`cannot read "${expression}": ${HOW_TO_WRITE}${hint}`);
  }
  const [, metric, op, rawValue, rawUnit] = match;
  const unit = (rawUnit ?? '') as Unit;
  const definition = definitionOf(metric);
  const limit = limitInBaseUnits(metric, definition, Number(rawValue), unit);
  return { expression, metric, op: op as Op, limit, unit, kind: definition.kind };
}

/**
 * A baseline threshold with its limit computed from the baseline run's own value of the metric
 * (read like the observed value: same unit, same % base). Null when the baseline has no data.
 */
export function resolveBaselineLimit(threshold: ParsedThreshold, baselineSnapshot: RunSnapshot): ParsedThreshold | null {
  if (!threshold.baseline) return threshold;
  const value = observedValue(threshold, baselineSnapshot);
  if (value === null) return null;
  const { factor, offset } = threshold.baseline;
  const limit = value * factor + offset;
  const text = (n: number) => formatLimit(threshold, n);
  const steps = `${text(value)}${factor !== 1 ? ` × ${factor}` : ''}${offset ? ` ${offset > 0 ? '+' : '−'} ${text(Math.abs(offset))}` : ''}`;
  return { ...threshold, limit, limitText: `${threshold.op} ${text(limit)} (baseline ${steps})` };
}

/** Like formatObserved, with sub-10 ms durations to 0.01 ms (loopback baselines are often under 1 ms). */
function formatLimit(threshold: ParsedThreshold, value: number): string {
  if (threshold.kind === 'duration' && threshold.unit !== 's' && Math.abs(value) < 10) return `${Math.round(value * 100) / 100}ms`;
  return formatObserved(threshold, value);
}

function compare(observed: number, op: Op, limit: number): boolean {
  const epsilon = 1e-9;
  switch (op) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit + epsilon;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit - epsilon;
    case '==':
      return Math.abs(observed - limit) <= epsilon;
    case '!=':
      return Math.abs(observed - limit) > epsilon;
  }
}

export function formatObserved(threshold: ParsedThreshold, observed: number | null): string {
  if (observed === null) return 'no data';
  if (threshold.unit === '%') return `${(observed * 100).toFixed(observed < 0.1 ? 2 : 1)}%`;
  if (threshold.kind === 'duration') return threshold.unit === 's' ? `${(observed / 1000).toFixed(2)}s` : `${Math.round(observed)}ms`;
  return String(Math.round(observed * 100) / 100);
}

/** The metric's value on `snapshot` in the threshold's terms (a share when written with %), null without data. */
export function observedValue(threshold: ParsedThreshold, snapshot: RunSnapshot): number | null {
  const definition = cachedMetric(threshold.metric);
  const observed = definition.read(snapshot);
  if (observed === null || threshold.unit !== '%' || definition.kind !== 'count') return observed;
  const base = definition.percentBase!(snapshot);
  return base > 0 ? observed / base : null;
}

/**
 * Evaluates one threshold on a snapshot. Live (`final` false), a missing value is pending; at
 * the end it fails (a stage that ran but produced no samples must not pass silently), unless
 * the stage was skipped.
 */
export function evaluateThreshold(
  threshold: ParsedThreshold,
  snapshot: RunSnapshot,
  final: boolean,
): Pick<ThresholdSnapshot, 'observed' | 'observedText' | 'verdict' | 'reason'> {
  const definition = cachedMetric(threshold.metric);
  const stage = definition.stage ? stageOf(snapshot, definition.stage) : undefined;
  if (threshold.baseline && Number.isNaN(threshold.limit)) {
    return { observed: null, observedText: 'no baseline', verdict: 'skipped', reason: 'no baseline run to compare with' };
  }
  if (stage?.state === 'skipped') {
    return { observed: null, observedText: 'not run', verdict: 'skipped', reason: `${stage.title} stage did not run` };
  }
  // Echoes of the last ticks are still in flight while a stage runs: throughput is judged once it is over.
  if (threshold.kind === 'ratio' && stage && stage.state !== 'done' && !final) {
    return { observed: null, observedText: 'after the stage', verdict: 'pending' };
  }
  const observed = observedValue(threshold, snapshot);
  const observedText = formatObserved(threshold, observed);
  if (observed === null) {
    const verdict: Verdict = final ? 'fail' : 'pending';
    return { observed, observedText, verdict, reason: final ? `no data for ${threshold.metric}` : undefined };
  }
  const ok = compare(observed, threshold.op, threshold.limit);
  const required = threshold.limitText ?? threshold.expression.replace(threshold.metric, '').trim();
  return {
    observed,
    observedText,
    verdict: ok ? 'pass' : 'fail',
    reason: ok ? undefined : `${threshold.metric} was ${observedText}, required ${required}`,
  };
}
