// A capacity search as every face sees it (RunSnapshot.search): the plan's bounds, every step
// run so far with its figures, and the verdict sentence once there is one. Plain JSON.
import type { ChartColor, StageName, Verdict } from './snapshot';

/** One traffic stage's figures over one search step (the whole step, not the last second). */
export interface SearchStepStage {
  name: StageName;
  title: string;
  color?: ChartColor;
  /** Round trips (or page loads) measured in the step; percentiles are 0 when count is 0. */
  count: number;
  p50: number;
  p95: number;
  p99: number;
  /** Errors of every kind plus content mismatches. */
  errors: number;
  disconnects: number;
}

/** A threshold a step broke, with what was observed. */
export interface SearchStepFailure {
  expression: string;
  metric: string;
  observedText: string;
  reason?: string;
}

export interface SearchStep {
  /** 1-based, in the order the steps ran. */
  index: number;
  users: number;
  /** `grow`: on the way up from `from`; `bisect`: between the last pass and the first fail. */
  phase: 'grow' | 'bisect';
  /** `aborted`: the run was stopped during this step, which therefore decides nothing. */
  state: 'preparing' | 'running' | 'done' | 'aborted';
  /** pending while the step runs (and for an aborted step). */
  verdict: Verdict;
  /** Epoch ms. */
  startedAt: number;
  endedAt?: number;
  stages: SearchStepStage[];
  apiP95Ms?: number;
  api5xx?: number;
  /** The highest coderd CPU (cores) seen during the step, when Prometheus is scraped. */
  coderdCpuCores?: number;
  failed: SearchStepFailure[];
  /** Why the step failed beyond its thresholds (a stage error, workspaces that never became ready). */
  reason?: string;
}

export interface SearchSnapshot {
  from: number;
  to: number;
  step: 'double' | number;
  resolution: number;
  minimum: number;
  /** Where the search is: growing the user count, bisecting, finished, or stopped early. */
  phase: 'growing' | 'bisecting' | 'done' | 'aborted';
  steps: SearchStep[];
  /** The largest user count that passed so far. */
  lastPass?: number;
  /** The smallest user count that failed so far. */
  firstFail?: number;
  /** The users the deployment held: lastPass, or 0 when no step passed. Set once the search is over. */
  capacity?: number;
  /** Whether capacity reaches the plan's minimum (set once the search is over). */
  metMinimum?: boolean;
  /** The verdict as a sentence with its evidence, e.g. "holds 1400 users; at 1600 users `pty.rtt.p95` was 412 ms (limit < 300 ms)". */
  verdict?: string;
}
