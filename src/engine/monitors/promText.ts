// The Prometheus text format as the monitors read it: parsing, sums, quantiles of coderd's
// histograms and per-agent gauges (to the microsecond: loopback latencies are tiny), and fetching an endpoint.
import { httpRequest } from '../../coder/httpRequest';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (comments and blank lines skipped). */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    if (!raw || raw.startsWith('#')) continue;
    const match = line.exec(raw.trim());
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(label))
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

export const sumOf = (samples: PromSample[], name: string): number | undefined => {
  const matching = samples.filter((sample) => sample.name === name);
  return matching.length ? matching.reduce((total, sample) => total + sample.value, 0) : undefined;
};

/** p-quantile (0..1) of a cumulative histogram given as (upper bound, count) pairs; linear within a bucket. */
export function histogramQuantile(buckets: Array<{ le: number; count: number }>, q: number): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return previous.le;
      const inBucket = bucket.count - previous.count;
      return inBucket > 0 ? previous.le + ((bucket.le - previous.le) * (rank - previous.count)) / inBucket : bucket.le;
    }
    previous = bucket;
  }
  return previous.le;
}

/**
 * Each agent's latency to its preferred DERP region (ms), from coderd's per-agent gauge
 * (coderd/prometheusmetrics Agents(): one series per agent and region, `preferred` label).
 */
export function agentConnectionLatenciesMs(samples: PromSample[]): number[] {
  return samples
    .filter(
      (sample) =>
        sample.name === 'coderd_agents_connection_latencies_seconds' && sample.labels.preferred === 'true' && Number.isFinite(sample.value),
    )
    .map((sample) => Math.round(sample.value * 1e6) / 1000);
}

/** The q-quantile (0..1) of values by nearest rank; undefined without values. */
export function nearestRank(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const response = await httpRequest({ url, timeoutMs });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  return response.body.toString('utf8');
}
