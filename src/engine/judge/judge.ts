// The threshold judge: evaluates the plan's thresholds on every snapshot (live) and once more at
// the end (final), asks for an abort when an abortOnFail threshold stays breached long enough,
// and gives each stage and the run its verdict. Pure: fed snapshots, it holds no run.
import type { HistoryPoint, RunSnapshot, StageSnapshot, ThresholdSnapshot, Verdict } from '../../protocol/snapshot';
import type { ThresholdSpec } from '../plan/plan';
import { bindBaseline, type FixedEvaluation } from '../baseline/judging';
import type { BaselineLookup } from '../baseline/store';
import { runnerSuspicion } from './runnerSuspect';
import { evaluateThreshold, parseThreshold, type ParsedThreshold } from './thresholds';

interface JudgedThreshold {
  parsed: ParsedThreshold;
  spec: ThresholdSpec;
  state: ThresholdSnapshot;
  breachedSince?: number;
  /** A baseline threshold without a baseline to compare with: always this. */
  fixed?: FixedEvaluation;
}

/** A stage's verdict and the reasons behind it. */
export interface StageJudgement {
  verdict: Verdict;
  reason?: string;
}

export class ThresholdJudge {
  private readonly thresholds: JudgedThreshold[];

  /** `baseline`: the plan's baseline run, for thresholds written against it (`… < baseline * 1.2`). */
  constructor(specs: ThresholdSpec[], baseline?: BaselineLookup) {
    this.thresholds = specs.map((spec) => {
      const { parsed, fixed } = bindBaseline(parseThreshold(spec.expression), baseline);
      return {
        parsed,
        spec,
        fixed,
        state: {
          expression: spec.expression,
          metric: parsed.metric,
          observed: null,
          observedText: 'no data',
          verdict: 'pending',
          abortOnFail: spec.abortOnFail,
          limit: parsed.limitText,
        },
      };
    });
  }

  /**
   * Judges `snapshot`. Live, returns why the run must abort when an abortOnFail threshold has
   * been breached for its abortAfterSeconds during traffic (`trafficPhase`); final judgements
   * never abort.
   */
  evaluate(snapshot: RunSnapshot, options: { final: boolean; trafficPhase: boolean; now?: number }): { abort?: string } {
    const now = options.now ?? Date.now();
    let abort: string | undefined;
    for (const threshold of this.thresholds) {
      Object.assign(
        threshold.state,
        { reason: undefined },
        threshold.fixed ?? evaluateThreshold(threshold.parsed, snapshot, options.final),
      );
      if (options.final || threshold.state.verdict !== 'fail') {
        threshold.breachedSince = undefined;
        continue;
      }
      threshold.breachedSince ??= now;
      const lasted = now - threshold.breachedSince >= threshold.spec.abortAfterSeconds * 1000;
      if (options.trafficPhase && threshold.spec.abortOnFail && lasted) {
        abort ??= `threshold "${threshold.spec.expression}" breached (${threshold.state.reason})`;
      }
    }
    return { abort };
  }

  /** The thresholds' current state, copied (snapshots must not share it). */
  states(): ThresholdSnapshot[] {
    return this.thresholds.map((threshold) => ({ ...threshold.state }));
  }

  anyFailed(): boolean {
    return this.thresholds.some((threshold) => threshold.state.verdict === 'fail');
  }

  failed(): ThresholdSnapshot[] {
    return this.thresholds.filter((threshold) => threshold.state.verdict === 'fail').map((threshold) => ({ ...threshold.state }));
  }

  /**
   * After the final judgement: marks each failed latency threshold whose breach the runner's own
   * stalls or saturated machine explain (see ./runnerSuspect.ts), and notes on the others what
   * the runner's figures do show. Returns both, `blamed` telling them apart.
   */
  suspectRunner(
    history: readonly HistoryPoint[],
    stages: readonly StageSnapshot[] = [],
  ): { expression: string; explanation: string; blamed: boolean }[] {
    const findings: { expression: string; explanation: string; blamed: boolean }[] = [];
    for (const threshold of this.thresholds) {
      if (threshold.state.verdict !== 'fail') continue;
      const suspicion = runnerSuspicion(threshold.parsed, history, stages);
      if (!suspicion) continue;
      if (suspicion.blamed) threshold.state.runnerSuspect = suspicion.explanation;
      else threshold.state.runnerNote = suspicion.explanation;
      findings.push({ expression: threshold.spec.expression, explanation: suspicion.explanation, blamed: suspicion.blamed });
    }
    return findings;
  }

  /** A stage fails by its own failed thresholds (`<stage>.…`), its own error and failed deletions. */
  judgeStage(stage: StageSnapshot): StageJudgement {
    if (stage.state === 'skipped') return { verdict: 'skipped' };
    const own = this.thresholds.filter((t) => t.state.verdict === 'fail' && t.parsed.metric.split('.')[0] === stage.name);
    const problems = own.map((t) => t.state.reason ?? t.parsed.expression);
    if (stage.name === 'cleanup' && (stage.progress?.failed ?? 0) > 0) problems.push(`${stage.progress!.failed} deletion(s) failed`);
    if (stage.reason) problems.unshift(stage.reason);
    return problems.length ? { verdict: 'fail', reason: problems.join('; ') } : { verdict: 'pass' };
  }

  /**
   * The final judgement, the same for a local and a sharded run: thresholds judged on the final
   * snapshot, the runner's stalls weighed against failed latency thresholds, each stage's verdict
   * set on its source. Returns what the runner's figures say of each failed threshold (`blamed`: they explain it).
   */
  finalJudgement(
    snapshot: RunSnapshot,
    history: readonly HistoryPoint[],
    stages: Iterable<{ snapshot(): StageSnapshot; verdict: Verdict; reason?: string }>,
  ): { expression: string; explanation: string; blamed: boolean }[] {
    this.evaluate(snapshot, { final: true, trafficPhase: false });
    const suspects = this.suspectRunner(history, snapshot.stages);
    for (const stage of stages) Object.assign(stage, this.judgeStage(stage.snapshot()));
    return suspects;
  }
}
