// What a stage declares about its figures and how they are shown: what its latency measures,
// its other latencies, its live figures and their charts, and the sentence that sums it up.
// Declared in the stage's definition (./definition.ts), applied by the engine: StageMetrics puts
// them into the stage's snapshot, so the faces (CLI, report.html, the VS Code panel) draw and
// print them from the snapshot alone, and a sharded run's coordinator merges and words them the
// same way.
// Plain types only: the metrics module and the definitions both import this, neither the other.
import type { StageChart, StageSnapshot } from '../../protocol/snapshot';

/** A live figure of a stage (`metrics.figures.<name>`), e.g. provisioner jobs waiting. */
export interface StageFigure {
  /** What it counts, in words. */
  meaning: string;
  /**
   * How shards (and worker threads) combine it: `sum` for what each counts of its own users,
   * `max` for what every shard reads of the whole deployment (a queue every shard polls).
   */
  merge: 'sum' | 'max';
}

/** What a stage's summary is worded from: its finished snapshot and its latency histogram. */
export interface StageSummaryInput {
  stage: StageSnapshot;
  /** The `rank`-th smallest latency recorded (1-based), ms; undefined past the samples. */
  latencyAtRank(rank: number): number | undefined;
}

export interface StagePresentation {
  /** What the latency histogram measures (e.g. "echo round trip"); titles the stage's latency chart. */
  latencyMeaning?: string;
  /** Other latencies the stage records (`metrics.latencyOf(name)`), name → meaning: thresholds `<stage>.<name>.<stat>`. */
  latencies?: Readonly<Record<string, string>>;
  /** Live figures the stage sets (`metrics.figures.<name>`), by name. */
  figures?: Readonly<Record<string, StageFigure>>;
  /** Charts of those figures over time, drawn in the VS Code panel and report.html. */
  charts?: readonly StageChart[];
  /**
   * The stage's result in one sentence, once it is done (printed by the CLI, report.html and the
   * panel). Pure: the same words for a local run and a sharded run's merged snapshot.
   */
  summary?(input: StageSummaryInput): string | undefined;
}

/** The named latencies a presentation declares, as [name, meaning] pairs in declaration order. */
export function declaredLatencies(presentation: StagePresentation | undefined): Array<[string, string]> {
  return Object.entries(presentation?.latencies ?? {});
}

/**
 * Figures of several shards (or worker threads) as one: each combined as the stage declares
 * it, a sum unless it says max. Undefined when none has any.
 */
export function combineFigures(
  records: ReadonlyArray<Readonly<Record<string, number>> | undefined>,
  presentation: StagePresentation | undefined,
): Record<string, number> | undefined {
  const combined: Record<string, number> = {};
  for (const record of records) {
    for (const [name, value] of Object.entries(record ?? {})) {
      if (!Object.hasOwn(combined, name)) combined[name] = value;
      else combined[name] = presentation?.figures?.[name]?.merge === 'max' ? Math.max(combined[name], value) : combined[name] + value;
    }
  }
  return Object.keys(combined).length ? combined : undefined;
}

/** Problems with a stage's declarations (charts naming undeclared figures, clashing names), for registration. */
export function presentationProblems(id: string, presentation: StagePresentation): string[] {
  const problems: string[] = [];
  const figures = presentation.figures ?? {};
  const reserved = new Set([
    'rtt',
    'latency',
    'connect',
    'open_lag',
    'throughput',
    'failures',
    'disconnects',
    'reconnects',
    'errors',
    'mismatches',
  ]);
  for (const name of Object.keys(presentation.latencies ?? {})) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`stage "${id}": latency "${name}": use lowercase letters, digits and _`);
    if (reserved.has(name)) problems.push(`stage "${id}": latency "${name}" clashes with a metric every stage may have`);
  }
  const chartIds = new Set<string>();
  for (const chart of presentation.charts ?? []) {
    if (chartIds.has(chart.id) || chart.id === 'rtt')
      problems.push(`stage "${id}": two charts with the id "${chart.id}" (rtt is its latency chart)`);
    chartIds.add(chart.id);
    for (const line of chart.lines)
      if (!Object.hasOwn(figures, line.figure))
        problems.push(`stage "${id}": chart "${chart.id}" draws "${line.figure}", which is not in its figures`);
  }
  return problems;
}
