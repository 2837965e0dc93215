// The snapshot figure: what building the once-a-second stage snapshots costs at 6000
// connections (three echo stages × 2000 connections × 10 round trips/s = 20 000 samples per
// stage per second), now and with the approaches it replaced, on the same histograms.
import type * as hdr from 'hdr-histogram-js';
import { StageMetrics } from '../../src/engine/metrics/stageMetrics';
import type { LatencySummary } from '../../src/protocol/snapshot';

const SAMPLES_PER_STAGE_SECOND = 20_000;
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const ms = (micros: number) => Math.round(micros) / 1000;

/**
 * Before issue 9: the library's getters, one walk over the counts each (five per histogram).
 * Also the reference the unit tests check the one-pass summary against.
 */
export function libraryGetters(histogram: hdr.Histogram): LatencySummary {
  return {
    count: histogram.totalCount,
    min: ms(histogram.minNonZeroValue),
    mean: ms(histogram.mean),
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
  };
}

interface Walk {
  countsArrayLength: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

/** The first fix: one walk, but through the library's per-bucket methods. */
function oneWalkThroughMethods(histogram: hdr.Histogram): LatencySummary {
  const walk = histogram as unknown as Walk;
  const total = histogram.totalCount;
  const wanted = [50, 90, 95, 99].map((p) => Math.max(Math.ceil((p / 100) * total), 1));
  const found: number[] = [];
  let running = 0;
  let sum = 0;
  for (let i = 0; i < walk.countsArrayLength; i++) {
    const count = walk.getCountAtIndex(i);
    if (count === 0) continue;
    running += count;
    const value = walk.valueFromIndex(i);
    sum += walk.medianEquivalentValue(value) * count;
    while (found.length < wanted.length && running >= wanted[found.length]) found.push(walk.highestEquivalentValue(value));
  }
  return {
    count: total,
    min: ms(histogram.minNonZeroValue),
    mean: ms(sum / Math.max(1, total)),
    p50: ms(found[0]),
    p90: ms(found[1]),
    p95: ms(found[2]),
    p99: ms(found[3]),
    max: ms(histogram.maxValue),
  };
}

type Summarizer = (histogram: hdr.Histogram) => LatencySummary;

/** The engine's path (rollInterval, snapshot) with the stage summaries computed by `summarizer`. */
function measure(iterations: number, summarizer?: Summarizer): { msPerSnapshot: number; cpuMsPerSnapshot: number; bytes: number } {
  const stages = (['ssh', 'pty', 'apps'] as const).map((name) => new StageMetrics(name, name));
  let bytes = 0;
  let spent = 0;
  let cpu = 0;
  for (let i = 0; i < iterations; i++) {
    for (const metrics of stages)
      for (let v = 0; v < SAMPLES_PER_STAGE_SECOND; v++) metrics.latency.record(0.5 + ((i * 7919 + v * 104729) % 300_000) / 1000);
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const snapshot = stages.map((metrics) => {
      if (!summarizer) {
        metrics.rollInterval();
        return metrics.snapshot();
      }
      // The recorder's histograms and summary cache, for the approaches it no longer uses.
      const recorder = metrics.latency as unknown as { total: hdr.Histogram; interval: hdr.Histogram; cached?: LatencySummary };
      const recent = summarizer(recorder.interval);
      recorder.interval.reset();
      recorder.cached = summarizer(recorder.total);
      return { ...metrics.snapshot(), recentLatency: recent };
    });
    bytes = JSON.stringify(snapshot).length;
    spent += performance.now() - started;
    const used = process.cpuUsage(cpuStarted);
    cpu += (used.user + used.system) / 1000;
  }
  // Wall time is the stall a snapshot causes; CPU time is its cost without other processes' turns (a shared machine).
  return { msPerSnapshot: round(spent / iterations), cpuMsPerSnapshot: round(cpu / iterations), bytes };
}

export function snapshotCost(smoke: boolean) {
  const iterations = smoke ? 5 : 30;
  return {
    connections: 6000,
    samplesPerStagePerSecond: SAMPLES_PER_STAGE_SECOND,
    now: measure(iterations),
    previousOneWalk: measure(iterations, oneWalkThroughMethods),
    previousLibraryGetters: measure(iterations, libraryGetters),
  };
}
