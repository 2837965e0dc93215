// The charts of a run, as data: which charts a snapshot gets (per charted stage its latency
// chart, titled by what the latency measures, and the charts the stage declares of its own
// figures; then connections, throughput, errors and API vs runner) and their datasets. Pure (no
// DOM, no chart.js), so the dashboard webview and report.html draw the same charts from it,
// and unit tests can read it directly. Everything comes from the snapshot: no stage registry.
import { formatBytes, formatMs } from '../src/protocol/format';
import {
  CHART_COLORS,
  type ChartColor,
  type HistoryPoint,
  type RunSnapshot,
  type StageChart,
  type StageName,
  type StageSnapshot,
} from '../src/protocol/snapshot';

type StageFigure = Exclude<keyof NonNullable<HistoryPoint['stages'][StageName]>, 'figures'>;
export interface Point {
  x: number;
  y: number;
}

export interface LineDataset {
  label: string;
  data: Point[];
  borderColor: string;
  backgroundColor: string;
  borderWidth: number;
  borderDash: number[];
  pointRadius: number;
  pointHitRadius: number;
  tension: number;
  /** Which stage a dataset belongs to, so a probe can count points per stage. */
  stage?: StageName;
}

export interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  series: Record<ChartColor, string>;
  p50: string;
  p95: string;
  p99: string;
}

/** Traffic stages (those with a window) that take part in the run (not skipped), in timeline order. */
export function chartedStages(snapshot: RunSnapshot): StageSnapshot[] {
  return snapshot.stages.filter((stage) => stage.plannedStartMs !== undefined && stage.state !== 'skipped');
}

function series(history: HistoryPoint[], stage: StageName, figure: StageFigure): { x: number; y: number }[] {
  const points: { x: number; y: number }[] = [];
  for (const point of history) {
    const value = point.stages[stage]?.[figure];
    if (value !== undefined) points.push({ x: point.t / 1000, y: value });
  }
  return points;
}

/** One of the stage's own figures over time. */
function figureSeries(history: HistoryPoint[], stage: StageName, figure: string): { x: number; y: number }[] {
  const points: { x: number; y: number }[] = [];
  for (const point of history) {
    const value = point.stages[stage]?.figures?.[figure];
    if (value !== undefined) points.push({ x: point.t / 1000, y: value });
  }
  return points;
}

/** Percentiles of intervals that had round trips: an interval without any reads 0, which is no latency. */
function latencySeries(history: HistoryPoint[], stage: StageName, figure: 'p50' | 'p95' | 'p99'): { x: number; y: number }[] {
  return series(
    history.filter((point) => (point.stages[stage]?.p99 ?? 0) > 0),
    stage,
    figure,
  );
}

export interface ChartSpec {
  id: string;
  title: string;
  /** y-axis tick formatter */
  formatY: (value: number) => string;
  /** Counts: whole-number ticks only. */
  integer?: boolean;
  datasets: (snapshot: RunSnapshot, colors: ThemeColors) => LineDataset[];
}

function line(label: string, data: Point[], color: string, stage: StageName | undefined, dashed = false, width = 1.5): LineDataset {
  return {
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    borderWidth: width,
    borderDash: dashed ? [5, 4] : [],
    // A line needs two points; until then, draw the point itself.
    pointRadius: data.length < 3 ? 2.5 : 0,
    pointHitRadius: 6,
    tension: 0,
    stage,
  };
}

/** The stage's own colour; a report written before stages had one gets one by position. */
function stageColor(colors: ThemeColors, stage: StageSnapshot, index: number): string {
  return colors.series[stage.color ?? CHART_COLORS[index % CHART_COLORS.length]];
}

/** The stage's latency chart, titled by what it measures (a report written before stages said so: "round trip"). */
function rttSpec({ name, title, latencyMeaning }: StageSnapshot): ChartSpec {
  return {
    id: `rtt:${name}`,
    title: latencyMeaning ? `${title}: ${latencyMeaning}` : `${title} round trip`,
    formatY: formatMs,
    datasets: (snapshot, colors) => [
      line('p50', latencySeries(snapshot.history, name, 'p50'), colors.p50, name),
      line('p95', latencySeries(snapshot.history, name, 'p95'), colors.p95, name, false, 2),
      line('p99', latencySeries(snapshot.history, name, 'p99'), colors.p99, name, true),
    ],
  };
}

function perStageSpec(
  id: string,
  title: string,
  formatY: (n: number) => string,
  solid: [string, StageFigure],
  dashed?: [string, StageFigure],
): ChartSpec {
  return {
    id,
    title,
    formatY,
    integer: dashed !== undefined,
    datasets: (snapshot, colors) =>
      chartedStages(snapshot).flatMap((stage, index) => {
        const color = stageColor(colors, stage, index);
        const sets = [line(`${stage.title} ${solid[0]}`, series(snapshot.history, stage.name, solid[1]), color, stage.name)];
        if (dashed)
          sets.push(line(`${stage.title} ${dashed[0]}`, series(snapshot.history, stage.name, dashed[1]), color, stage.name, true));
        return sets;
      }),
  };
}

/** The deployment's API latency next to the runner's own delay: is it coderd or this machine? */
const apiVsRunnerSpec: ChartSpec = {
  id: 'api',
  title: 'API p95 (solid) and runner event-loop lag (dashed)',
  formatY: formatMs,
  datasets: (snapshot, colors) => [
    line(
      'API p95',
      snapshot.history.map((point) => ({ x: point.t / 1000, y: point.apiP95Ms })),
      colors.series.blue,
      undefined,
    ),
    line(
      'event-loop lag',
      snapshot.history.map((point) => ({ x: point.t / 1000, y: point.eventLoopLagMs })),
      colors.muted,
      undefined,
      true,
    ),
  ],
};

const SHARED_SPECS: ChartSpec[] = [
  perStageSpec(
    'connections',
    'Connections: active (solid) vs target (dashed)',
    (n) => String(Math.round(n)),
    ['active', 'active'],
    ['target', 'target'],
  ),
  perStageSpec('throughput', 'Throughput', (n) => `${formatBytes(n)}/s`, ['bytes/s', 'bytesPerSecond']),
  perStageSpec(
    'errors',
    'Errors (solid) and disconnects (dashed)',
    (n) => String(Math.round(n)),
    ['errors', 'errors'],
    ['disconnects', 'disconnects'],
  ),
  apiVsRunnerSpec,
];

const UNIT_FORMAT: Record<StageChart['unit'], (n: number) => string> = {
  count: (n) => String(Math.round(n)),
  ms: formatMs,
  percent: (n) => `${Math.round(n)}%`,
};

/** A chart the stage declares of its own figures (carried in its snapshot), in the stage's colour unless a line names one. */
function stageChartSpec(stage: StageSnapshot, index: number, chart: StageChart): ChartSpec {
  return {
    id: `${chart.id}:${stage.name}`,
    title: `${stage.title}: ${chart.title}`,
    formatY: UNIT_FORMAT[chart.unit] ?? UNIT_FORMAT.count,
    integer: chart.unit === 'count',
    datasets: (snapshot, colors) =>
      chart.lines.map((entry) =>
        line(
          entry.label,
          figureSeries(snapshot.history, stage.name, entry.figure),
          entry.color ? colors.series[entry.color] : stageColor(colors, stage, index),
          stage.name,
          entry.dashed,
        ),
      ),
  };
}

/** The charts a snapshot gets, in display order: each stage's latency and its own charts, then the shared ones. */
export function chartSpecs(snapshot: RunSnapshot): ChartSpec[] {
  const stages = chartedStages(snapshot).flatMap((stage, index) => [
    rttSpec(stage),
    ...(stage.charts ?? []).map((chart) => stageChartSpec(stage, index, chart)),
  ]);
  return [...stages, ...SHARED_SPECS];
}
