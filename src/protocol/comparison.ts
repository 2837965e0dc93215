// A run beside a reference run (its plan's baseline, or the older of two compared runs): per
// stage better / worse / same within noise, with the evidence. Computed by the engine
// (src/engine/baseline/compare.ts, rule in docs/baselines.md); shown by the report, the
// dashboard's compare view and the CLI. Plain JSON.

export type Change = 'better' | 'worse' | 'same';

export interface QuantileShift {
  /** 0..1, e.g. 0.95. */
  q: number;
  baselineMs: number;
  currentMs: number;
  /** 95 % confidence intervals, ms. */
  baselineRange: [number, number];
  currentRange: [number, number];
  /** Relative change, e.g. 0.25 for +25 %. */
  relative: number;
  change: Change;
}

export interface HistogramComparison {
  change: Change;
  baselineCount: number;
  currentCount: number;
  /** Kolmogorov-Smirnov distance and the distance chance stays under (α = 0.01). */
  ks: { distance: number; critical: number };
  quantiles: QuantileShift[];
  /** One line: why this classification. */
  explanation: string;
}

/** A stage (or the API) of a run beside the same of the baseline. */
export interface StageComparison {
  name: string;
  title: string;
  /** 'no-data' when either run has no samples for it. */
  change: Change | 'no-data';
  comparison?: HistogramComparison;
  errors: { baseline: number; current: number };
  disconnects: { baseline: number; current: number };
}

export interface BaselineComparison {
  baselineRunId: string;
  currentRunId: string;
  stages: StageComparison[];
  /** better / worse / same as counted over the stages with data. */
  tally: Record<Change, number>;
}
