// Figures that live in a module of their own. To add one: write a `BenchFigure` in a module of
// its own (its `--only` name, how it is measured, how its rows read; `status` below words the
// verdict) and list it in FIGURES in main.ts. `npm run bench` then runs it after the built-in
// figures (`--smoke` passes `smoke: true`: keep it to seconds), keeps its result in the JSON
// under its name, and appends its rows to the Markdown table.
import type { Target } from './echoLoad';

export interface FigureContext {
  /** `--smoke`: the figure small (npm test runs it). */
  smoke: boolean;
  /** The echo target (scripts/bench/target.ts), up for as long as the figure runs. */
  target: Target;
  /** The reference traffic: bytes per tick and the tick interval. */
  reference: { bytesPerTick: number; tickIntervalMs: number };
}

export interface BenchFigure<Result = unknown> {
  /** Its key in the results and its name for `--only=`. */
  name: string;
  measure(context: FigureContext): Promise<Result>;
  /** Rows of the table: `| figure | engine | comparison (same run) | target | status |`; `skipped` when it gave up. */
  rows(result: Result | { skipped: string }): string[];
  /** It gives up after this long (a figure may hang on a loaded machine); default 300 s, smoke 90 s. */
  timeoutSeconds?: number;
}

/** "met", or how far off: `atLeast` targets want value ≥ target, the others value ≤ target. */
export function status(value: number | undefined, target: number, atLeast: boolean, unit = ''): string {
  if (value === undefined || !Number.isFinite(value)) return 'not measured';
  const met = atLeast ? value >= target : value <= target;
  if (met) return 'met';
  const off = Math.round(Math.abs(value - target) * 100) / 100;
  return atLeast
    ? `missed by ${off}${unit} (${Math.round((value / target) * 100)} % of the target)`
    : `missed by ${off}${unit} (${Math.round((value / target) * 10) / 10}× the limit)`;
}
