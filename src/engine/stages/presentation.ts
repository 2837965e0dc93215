// What a stage declares about its figures beyond its main latency: what that latency measures
// and the other latencies it records. Declared in the stage's definition (./definition.ts),
// applied by the engine: StageMetrics puts them into the stage's snapshot, thresholds name them
// (`<stage>.<name>.<stat>`), and a sharded run's coordinator merges them the same way.
// Plain types only: the metrics module and the definitions both import this, neither the other.

export interface StagePresentation {
  /** What the latency histogram measures (e.g. "echo round trip"). */
  latencyMeaning?: string;
  /** Other latencies the stage records (`metrics.latencyOf(name)`), name → meaning: thresholds `<stage>.<name>.<stat>`. */
  latencies?: Readonly<Record<string, string>>;
}

/** The named latencies a presentation declares, as [name, meaning] pairs in declaration order. */
export function declaredLatencies(presentation: StagePresentation | undefined): Array<[string, string]> {
  return Object.entries(presentation?.latencies ?? {});
}

/** Problems with a stage's declarations (badly formed or clashing names), for registration. */
export function presentationProblems(id: string, presentation: StagePresentation): string[] {
  const problems: string[] = [];
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
  return problems;
}
