// A capacity search (plan.search) as one phase of a run: steps of the plan's traffic timeline at
// the user counts SearchStrategy picks, each judged on its own (fresh stage metrics, API
// metrics and thresholds), growing the pool of users and workspaces only as far as a step
// needs (docs/search.md says why it grows rather than preparing `to` at once). The run's
// lifecycle (run.ts) stays in charge of access, cleanup, abort and reports; it lends the
// search what a step needs through SearchHost.
import type { SearchSnapshot, SearchStep } from '../../protocol/search';
import type { RunSnapshot, Verdict } from '../../protocol/snapshot';
import type { Plan } from '../plan/plan';
import type { StageUser } from '../prepare/prepare';
import type { SearchSettings } from './schema';
import { SearchStrategy } from './strategy';
import { peakCpuSince, stepStages, verdictSentence } from './verdict';

export interface SearchHost {
  /** The run's own signal: set when the run is aborted (user, signal, error). */
  readonly signal: AbortSignal;
  /** A step begins: fresh traffic-stage metrics, API metrics and threshold judge. */
  beginStep(): void;
  /** The current step's meters, to show again later (opaque to the search). */
  saveStep(): unknown;
  /** Shows a saved step's meters in the run's snapshot (its stages, API figures and thresholds). */
  showStep(saved: unknown): void;
  /** Grows the pool to `plan.users` (creating only the users it lacks); resolves with every ready user so far, by index. */
  grow(plan: Plan): Promise<StageUser[]>;
  /** Runs the plan's traffic timeline for `users`; `signal` also ends it early. */
  runTraffic(plan: Plan, users: StageUser[], signal: AbortSignal): Promise<void>;
  /** The step's final judgement: a snapshot whose thresholds are judged as at the end of a run. */
  judgeStep(): RunSnapshot;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export class CapacitySearch {
  private readonly strategy: SearchStrategy;
  private readonly state: SearchSnapshot;
  private step?: { record: SearchStep; controller: AbortController; stoppedBecause?: string };
  /** The meters of the largest step that passed (or of the first that failed, when none passed). */
  private shown?: unknown;

  constructor(
    private readonly plan: Plan,
    settings: SearchSettings,
  ) {
    this.strategy = new SearchStrategy(settings);
    this.state = {
      from: settings.from,
      to: settings.to,
      step: settings.step,
      resolution: settings.resolution,
      minimum: settings.minimum ?? settings.from,
      phase: 'growing',
      steps: [],
    };
  }

  /** The search so far, copied (snapshots must not share it). */
  snapshot(): SearchSnapshot {
    return structuredClone(this.state);
  }

  /**
   * A live abortOnFail breach during a step ends that step as failed, not the run: the search
   * goes on with a smaller count. Returns false when no step is under way.
   */
  stopStep(reason: string): boolean {
    const step = this.step;
    if (!step) return false;
    if (!step.controller.signal.aborted) {
      step.stoppedBecause = reason;
      step.controller.abort();
    }
    return true;
  }

  async run(host: SearchHost): Promise<void> {
    try {
      for (let users = this.strategy.next(); users !== undefined && !host.signal.aborted; users = this.strategy.next()) {
        const passed = await this.runStep(host, users);
        if (passed === undefined) break;
        this.strategy.record(passed);
        this.state.lastPass = this.strategy.lastPass;
        this.state.firstFail = this.strategy.firstFail;
      }
    } finally {
      this.step = undefined;
      this.conclude(host.signal.aborted);
      // The run's own stage and threshold figures end as those of the capacity found: the step
      // that decided the answer, not whichever step ran last.
      if (this.shown !== undefined) host.showStep(this.shown);
    }
    host.log('info', `capacity search: ${this.state.verdict}`);
  }

  /** Whether the capacity found reaches the plan's minimum (false until the search is over). */
  passed(): boolean {
    return this.state.metMinimum === true;
  }

  /** The search's own verdict (a pass when the capacity found reaches the plan's minimum) and sentence, for the run's outcome. */
  outcome(): { verdict: Verdict; reason: string } {
    return { verdict: this.state.metMinimum ? 'pass' : 'fail', reason: this.state.verdict ?? verdictSentence(this.state) };
  }

  /** One step; resolves with whether it passed, or undefined when the run was stopped during it. */
  private async runStep(host: SearchHost, users: number): Promise<boolean | undefined> {
    const record: SearchStep = {
      index: this.state.steps.length + 1,
      users,
      phase: this.strategy.phase,
      state: 'preparing',
      verdict: 'pending',
      startedAt: Date.now(),
      stages: [],
      failed: [],
    };
    this.state.steps.push(record);
    this.state.phase = this.strategy.phase === 'grow' ? 'growing' : 'bisecting';
    const step = (this.step = {
      record,
      controller: new AbortController() as AbortController,
      stoppedBecause: undefined as string | undefined,
    });
    host.beginStep();
    const stepPlan: Plan = { ...this.plan, users };
    host.log('info', `capacity search step ${record.index}: ${users} users (${record.phase === 'grow' ? 'growing' : 'bisecting'})`);
    const ready = await host.grow(stepPlan);
    if (host.signal.aborted) return this.abandon(record);
    if (ready.length === 0) throw new Error('no workspace became ready, so no traffic can run; see the prepare errors above');
    const chosen = ready.slice(0, users);
    record.state = 'running';
    await host.runTraffic(stepPlan, chosen, AbortSignal.any([host.signal, step.controller.signal]));
    if (host.signal.aborted) return this.abandon(record);
    const judged = host.judgeStep();
    const reasons = [
      chosen.length < users ? `only ${chosen.length} of ${users} workspaces became ready` : undefined,
      step.stoppedBecause ? `stopped early: ${step.stoppedBecause}` : undefined,
      ...judged.stages
        .filter((stage) => stage.plannedStartMs !== undefined && stage.reason)
        .map((stage) => `${stage.title}: ${stage.reason}`),
    ].filter((reason): reason is string => reason !== undefined);
    Object.assign(record, {
      state: 'done',
      endedAt: Date.now(),
      stages: stepStages(judged),
      apiP95Ms: judged.api.total.latency.p95,
      api5xx: judged.api.total.errors5xx,
      coderdCpuCores: peakCpuSince(judged, record.startedAt),
      failed: judged.thresholds
        .filter((threshold) => threshold.verdict === 'fail')
        .map(({ expression, metric, observedText, reason }) => ({ expression, metric, observedText, reason })),
      reason: reasons.length ? reasons.join('; ') : undefined,
    } satisfies Partial<SearchStep>);
    record.verdict = record.failed.length > 0 || record.reason ? 'fail' : 'pass';
    if (
      record.verdict === 'pass' ? users >= (this.strategy.lastPass ?? 0) : this.strategy.lastPass === undefined && this.shown === undefined
    )
      this.shown = host.saveStep();
    host.log(
      record.verdict === 'pass' ? 'info' : 'warn',
      `capacity search step ${record.index}: ${users} users ${record.verdict === 'pass' ? 'passed' : `failed (${this.failureSummary(record)})`}`,
    );
    this.step = undefined;
    return record.verdict === 'pass';
  }

  private failureSummary(record: SearchStep): string {
    return [record.reason, ...record.failed.map((failure) => failure.reason ?? failure.expression)].filter(Boolean).join('; ');
  }

  private abandon(record: SearchStep): undefined {
    record.state = 'aborted';
    record.endedAt = Date.now();
    return undefined;
  }

  private conclude(aborted: boolean): void {
    this.state.phase = aborted ? 'aborted' : 'done';
    this.state.capacity = this.state.lastPass ?? 0;
    this.state.metMinimum = this.state.capacity >= this.state.minimum;
    this.state.verdict = verdictSentence(this.state);
  }
}
