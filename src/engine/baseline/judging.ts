// Baseline thresholds (`pty.rtt.p95 < baseline * 1.2`) get their limit from the plan's baseline
// run once, when the judge is built: the baseline does not change during a run. Without a
// baseline that fits, such a threshold is not applicable (verdict `skipped`, with the reason):
// nothing to compare with is not a failure of the deployment, and the report and JUnit show
// it as skipped rather than passed.
import type { ThresholdSnapshot } from '../../protocol/snapshot';
import { resolveBaselineLimit, type ParsedThreshold } from '../judge/thresholds';
import type { BaselineLookup } from './store';

export type FixedEvaluation = Pick<ThresholdSnapshot, 'observed' | 'observedText' | 'verdict' | 'reason'>;

const notApplicable = (observedText: string, reason: string): FixedEvaluation => ({
  observed: null,
  observedText,
  verdict: 'skipped',
  reason,
});

/** The threshold with its baseline limit resolved, or the fixed `skipped` evaluation saying why it cannot be. */
export function bindBaseline(
  parsed: ParsedThreshold,
  lookup: BaselineLookup | undefined,
): { parsed: ParsedThreshold; fixed?: FixedEvaluation } {
  if (!parsed.baseline) return { parsed };
  if (!lookup || lookup.kind === 'none') {
    const where = lookup?.problem ? ` (${lookup.problem})` : lookup ? ` (${lookup.file} does not exist)` : '';
    return {
      parsed,
      fixed: notApplicable(
        'no baseline',
        `no baseline is marked for this plan${where}: mark a finished run as its baseline (docs/baselines.md)`,
      ),
    };
  }
  const { record } = lookup;
  if (lookup.kind === 'stale') {
    return {
      parsed,
      fixed: notApplicable(
        'baseline of another plan shape',
        `the baseline (run ${record.runId}) was measured with a different plan (${lookup.differences.join(', ')}): mark a run of this plan as the new baseline`,
      ),
    };
  }
  const resolved = resolveBaselineLimit(parsed, record.snapshot);
  if (!resolved)
    return { parsed, fixed: notApplicable('no baseline data', `the baseline run ${record.runId} has no data for ${parsed.metric}`) };
  return { parsed: resolved };
}
