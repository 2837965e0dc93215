// How a run ended — verdict, reason, exit code, status — decided in ONE place for a local run
// (run/run.ts) and a sharded one (src/shard/merge.ts): both gather the same facts and call
// decideOutcome, so the two paths cannot drift apart again.
import type { RunStatus, ThresholdSnapshot, Verdict } from '../../protocol/snapshot';

/** Why the run ended the way it did; the exit code follows (EXIT_CODES). */
export type ExitReason = 'passed' | 'failed' | 'plan' | 'access' | 'cleanup' | 'runner' | 'aborted';

export interface ExitCodeRow {
  code: number;
  reason: ExitReason;
  /** A few words, e.g. for a CI annotation. */
  short: string;
  /** The sentence of the README's and --help's table. */
  meaning: string;
}

/**
 * The exit codes, in the order that decides between them (the first that applies wins).
 * 0, 2, 3 and 130 mean what they always meant; 4 and 5 were part of 1 before.
 */
export const EXIT_CODE_TABLE: readonly ExitCodeRow[] = [
  {
    code: 3,
    reason: 'access',
    short: 'deployment unreachable or access refused',
    meaning: 'the deployment is unreachable or refused access (wrong URL, token, or not an owner); nothing was created',
  },
  {
    code: 2,
    reason: 'plan',
    short: 'bad usage or plan',
    meaning: 'bad usage or an invalid plan, or the plan does not fit the deployment (unknown template or organization)',
  },
  { code: 130, reason: 'aborted', short: 'stopped by a signal', meaning: 'stopped by a signal (SIGINT, SIGTERM, SIGHUP), after cleanup' },
  {
    code: 4,
    reason: 'cleanup',
    short: 'cleanup left resources behind',
    meaning: 'cleanup left resources behind: remove them with `coder-scaletest cleanup --run-id ID`',
  },
  {
    code: 1,
    reason: 'failed',
    short: 'thresholds failed',
    meaning: 'the deployment failed: a threshold failed, or the run stopped on a deployment error (prepare, a stage)',
  },
  {
    code: 5,
    reason: 'runner',
    short: 'runner suspect',
    meaning: "inconclusive: the failures line up with the runner's own stalls or overload, or a runner (shard, worker) was lost",
  },
  { code: 0, reason: 'passed', short: 'passed', meaning: 'passed (a capacity search: the capacity found reaches search.minimum)' },
];

export const EXIT_CODES = Object.fromEntries(EXIT_CODE_TABLE.map((row) => [row.reason, row.code])) as Record<ExitReason, number>;

/** The table as --help shows it, in code order. */
export function exitCodeHelp(): string {
  return [...EXIT_CODE_TABLE]
    .sort((a, b) => a.code - b.code)
    .map((row) => `  ${String(row.code).padStart(3)}  ${row.meaning}`)
    .join('\n');
}

/** What happened during a run, as either path saw it. */
export interface OutcomeFacts {
  /** The deployment refused or could not be reached (the message says how). */
  access?: string;
  /** The plan names an organization or template the deployment lacks. */
  planMismatch?: string;
  /** Why the run was stopped early, and by whom. */
  abort?: { by: 'user' | 'threshold'; reason: string };
  /** The run stopped on these errors (deployment side: prepare, a stage). */
  errors: string[];
  /** Runners that failed the run: lost shards, crashed workers. */
  runnerProblems: string[];
  /** Failed thresholds after the final judgement, `runnerSuspect` marked where the runner explains them. */
  failedThresholds: ThresholdSnapshot[];
  /** A capacity search decides pass/fail itself: its verdict and sentence. */
  search?: { verdict: Verdict; reason?: string };
  /** Cleanup: whether it was meant to run (not kept by the strategy), and what it left. */
  cleanup: { ran: boolean; leftovers: number };
  runId: string;
}

export interface Outcome {
  verdict: Verdict;
  exit: ExitReason;
  exitCode: number;
  reason?: string;
  status: RunStatus;
}

function thresholdSentence(failed: ThresholdSnapshot[]): string {
  const suspects = failed.filter((threshold) => threshold.runnerSuspect);
  const suspect = suspects.length ? `. Runner suspect: ${suspects[0].runnerSuspect}` : '';
  return `${failed.length} threshold(s) failed: ${failed.map((threshold) => threshold.reason).join('; ')}${suspect}`;
}

export function decideOutcome(facts: OutcomeFacts): Outcome {
  const reasons: string[] = [];
  if (facts.access) reasons.push(facts.access);
  if (facts.planMismatch) reasons.push(facts.planMismatch);
  if (facts.abort) reasons.push(facts.abort.reason);
  reasons.push(...facts.errors, ...facts.runnerProblems);
  const thresholdsFailed = facts.search ? facts.search.verdict !== 'pass' : facts.failedThresholds.length > 0;
  if (facts.search?.reason) reasons.push(facts.search.reason);
  // A threshold abort already names its threshold.
  else if (facts.failedThresholds.length > 0 && !facts.search && facts.abort?.by !== 'threshold')
    reasons.push(thresholdSentence(facts.failedThresholds));
  const leftovers = facts.cleanup.ran && facts.cleanup.leftovers > 0;
  if (leftovers) reasons.push(`cleanup left ${facts.cleanup.leftovers} resource(s) of run ${facts.runId} behind`);

  const broken = !!facts.access || !!facts.planMismatch || facts.errors.length > 0;
  const failed = broken || !!facts.abort || facts.runnerProblems.length > 0 || thresholdsFailed || leftovers;
  // Only the runner explains what failed: no deployment error, and every failed threshold is the
  // runner's — suspect, or without data because a lost runner took its share of the traffic with it.
  const runnerLost = facts.runnerProblems.length > 0;
  const runnerOnly =
    !broken &&
    !facts.search &&
    (runnerLost || facts.failedThresholds.length > 0) &&
    facts.failedThresholds.every((threshold) => threshold.runnerSuspect || (runnerLost && threshold.observed === null));
  const exit: ExitReason = facts.access
    ? 'access'
    : facts.planMismatch
      ? 'plan'
      : facts.abort?.by === 'user'
        ? 'aborted'
        : leftovers
          ? 'cleanup'
          : !failed
            ? 'passed'
            : runnerOnly
              ? 'runner'
              : 'failed';
  const status: RunStatus = facts.abort ? 'aborted' : broken || facts.runnerProblems.length > 0 ? 'error' : 'finished';
  return {
    verdict: failed ? 'fail' : 'pass',
    exit,
    exitCode: EXIT_CODES[exit],
    reason: reasons.length ? reasons.join('; ') : undefined,
    status,
  };
}
