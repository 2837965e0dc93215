// The charts of a run, as data: which charts a snapshot gets (one round-trip chart per charted
// stage, then connections, throughput, errors and API vs runner) and their datasets. Pure (no
// DOM, no chart.js), so the dashboard webview and report.html draw the same charts from it,
// and unit tests can read it directly.
import { formatBytes, formatMs } from '../src/protocol/format';
import {
  CHART_COLORS,
  type ChartColor,
  type HistoryPoint,
  type RunSnapshot,
  type StageName,
  type StageSnapshot,
} from '../src/protocol/snapshot';

type StageFigure = keyof NonNullable<HistoryPoint['stages'][StageName]>;
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

function rttSpec({ name, title }: StageSnapshot): ChartSpec {
  return {
    id: `rtt:${name}`,
    title: `${title} round trip`,
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

/** Stages that start builds report the provisioner queue: the figure that sizes provisioners. */
function queueSpec(stages: StageSnapshot[]): ChartSpec {
  return {
    id: 'queue',
    title: 'Provisioner queue: jobs waiting (solid) and builds running (dashed)',
    formatY: (n) => String(Math.round(n)),
    integer: true,
    datasets: (snapshot, colors) =>
      stages.flatMap((stage, index) => {
        const color = stageColor(colors, stage, index);
        return [
          line(`${stage.title} waiting`, series(snapshot.history, stage.name, 'queued'), color, stage.name),
          line(`${stage.title} running`, series(snapshot.history, stage.name, 'building'), color, stage.name, true),
        ];
      }),
  };
}

/** The charts a snapshot gets, in display order. */
export function chartSpecs(snapshot: RunSnapshot): ChartSpec[] {
  const queueing = chartedStages(snapshot).filter((stage) => stage.progress?.queued !== undefined);
  return [...chartedStages(snapshot).map(rttSpec), ...(queueing.length ? [queueSpec(queueing)] : []), ...SHARED_SPECS];
}
