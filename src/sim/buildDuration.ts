// How long a provisioner works on a build. Fixed by default (`buildDurationMs`); with the
// `buildDuration` fault a log-normal distribution given by its median and 95th percentile, the
// shape build times of real templates take (most builds near the median, a long tail of slow
// image pulls and cloud APIs). Drawn from a seeded generator: the same faults give the same
// durations on every run.
import { seededRandom } from '../engine/common/random';
import type { FaultsConfig } from './faults';

export { seededRandom };

/** z of the 95th percentile of the standard normal distribution. */
const Z95 = 1.6448536269514722;

/** One build's duration in ms. */
export function drawBuildDuration(faults: FaultsConfig, defaultMs: number, random: () => number): number {
  const distribution = faults.buildDuration;
  if (!distribution) return Math.max(0, faults.buildDurationMs ?? defaultMs);
  const { medianMs, p95Ms } = distribution;
  if (p95Ms === undefined || p95Ms <= medianMs || medianMs <= 0) return Math.max(0, medianMs);
  const sigma = Math.log(p95Ms / medianMs) / Z95;
  // Box-Muller: a standard normal from two uniforms (1 - u keeps the logarithm finite).
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.round(medianMs * Math.exp(sigma * normal));
}
