// A search step's figures from the run's snapshot, and the search's verdict as one sentence
// with its evidence: "holds 1400 users; at 1600 users `pty.rtt.p95` was 412 ms (limit < 300 ms)
// and coderd CPU reached 3.9 cores".
import type { SearchSnapshot, SearchStep, SearchStepFailure, SearchStepStage } from '../../protocol/search';
import type { RunSnapshot, StageSnapshot } from '../../protocol/snapshot';
import { parseThreshold } from '../judge/thresholds';

const errorsOf = (stage: StageSnapshot) => Object.values(stage.errors).reduce((total, n) => total + n, 0) + stage.mismatches;

/** The traffic stages that ran in the step (they have a window and were not skipped). */
export function stepStages(snapshot: RunSnapshot): SearchStepStage[] {
  return snapshot.stages
    .filter((stage) => stage.plannedStartMs !== undefined && stage.state !== 'skipped' && stage.state !== 'waiting')
    .map((stage) => ({
      name: stage.name,
      title: stage.title,
      color: stage.color,
      count: stage.latency.count,
      p50: stage.latency.p50,
      p95: stage.latency.p95,
      p99: stage.latency.p99,
      errors: errorsOf(stage),
      disconnects: stage.disconnects,
    }));
}

/** The highest coderd CPU in the history since `since` (epoch ms), when Prometheus was scraped. */
export function peakCpuSince(snapshot: RunSnapshot, since: number): number | undefined {
  const values = snapshot.history
    .filter((point) => snapshot.startedAt + point.t >= since && point.deploymentCpuCores !== undefined)
    .map((point) => point.deploymentCpuCores!);
  const now = snapshot.deployment.prometheus?.cpuCores;
  if (now !== undefined) values.push(now);
  return values.length ? Math.max(...values) : undefined;
}

/** `pty.rtt.p95` was 412 ms (limit < 300 ms). */
function evidence(failure: SearchStepFailure): string {
  let limit = failure.expression.slice(failure.expression.indexOf(failure.metric) + failure.metric.length).trim();
  let observed = failure.observedText;
  try {
    const parsed = parseThreshold(failure.expression);
    if (parsed.kind === 'duration') {
      observed = observed.replace(/(\d)(ms|s)$/, '$1 $2');
      limit = limit.replace(/(\d)(ms|s)$/, '$1 $2');
    }
  } catch {
    // An expression this engine no longer reads: keep the words as they are.
  }
  return `\`${failure.metric}\` was ${observed} (limit ${limit})`;
}

const usersText = (n: number) => `${n} user${n === 1 ? '' : 's'}`;

/** What broke at a failed step, e.g. "at 6 users `pty.rtt.p95` was 412 ms (limit < 300 ms) and coderd CPU reached 3.9 cores". */
export function failureText(step: SearchStep): string {
  const shown = step.failed.slice(0, 2).map(evidence);
  if (step.failed.length > 2) shown.push(`${step.failed.length - 2} more threshold(s) failed`);
  if (step.reason) shown.unshift(step.reason);
  const what = shown.length ? shown.join(', ') : 'the step failed';
  const cpu = step.coderdCpuCores !== undefined ? ` and coderd CPU reached ${step.coderdCpuCores.toFixed(1)} cores` : '';
  return `at ${usersText(step.users)} ${what}${cpu}`;
}

/** The verdict sentence of a finished (or stopped) search. */
export function verdictSentence(search: SearchSnapshot): string {
  const failedStep = search.steps.find((step) => step.users === search.firstFail && step.verdict === 'fail');
  const why = failedStep ? `; ${failureText(failedStep)}` : '';
  const minimum =
    search.lastPass !== undefined && search.lastPass >= search.minimum ? '' : `; the plan asks for at least ${usersText(search.minimum)}`;
  if (search.phase === 'aborted') {
    const held =
      search.lastPass === undefined
        ? 'no step passed before it stopped'
        : `holds at least ${usersText(search.lastPass)} (the last step that passed)`;
    return `search stopped early: ${held}${why}${minimum}`;
  }
  if (search.lastPass === undefined) return `does not hold ${usersText(search.from)}, where the search starts${why}${minimum}`;
  if (search.firstFail === undefined)
    return `holds at least ${usersText(search.lastPass)}: every step passed, up to the search's upper bound${minimum}`;
  return `holds ${usersText(search.lastPass)}${why}${minimum}`;
}
