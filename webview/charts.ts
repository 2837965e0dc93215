// The dashboard's chart.js charts, drawn from a snapshot's bounded history. Colours come from
// the theme's `--vscode-*` variables and are re-read on every draw: a canvas does not follow
// CSS changes by itself.
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
} from 'chart.js';
import { formatBytes, formatMs } from '../src/protocol/format';
import type { HistoryPoint, RunSnapshot, StageName } from '../src/protocol/snapshot';
import { STAGE_TITLES, TRAFFIC_STAGES } from '../src/protocol/snapshot';
import { h } from './dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

type StageFigure = keyof NonNullable<HistoryPoint['stages'][StageName]>;
type LineDataset = ChartDataset<'line', { x: number; y: number }[]>;

interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  series: string[];
  p50: string;
  p95: string;
  p99: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function themeColors(): ThemeColors {
  const style = getComputedStyle(document.body);
  return {
    foreground: cssVar(style, '--vscode-foreground', '#cccccc'),
    muted: cssVar(style, '--vscode-descriptionForeground', '#999999'),
    grid: cssVar(style, '--vscode-editorWidget-border', 'rgba(128,128,128,0.3)'),
    series: [
      cssVar(style, '--vscode-charts-blue', '#3794ff'),
      cssVar(style, '--vscode-charts-orange', '#d18616'),
      cssVar(style, '--vscode-charts-purple', '#b180d7'),
      cssVar(style, '--vscode-charts-green', '#89d185'),
      cssVar(style, '--vscode-charts-yellow', '#cca700'),
      cssVar(style, '--vscode-charts-red', '#f14c4c'),
    ],
    p50: cssVar(style, '--vscode-charts-green', '#89d185'),
    p95: cssVar(style, '--vscode-charts-yellow', '#cca700'),
    p99: cssVar(style, '--vscode-charts-red', '#f14c4c'),
  };
}

/** Traffic stages that take part in the run (not skipped), in timeline order. */
export function chartedStages(snapshot: RunSnapshot): StageName[] {
  return TRAFFIC_STAGES.filter((name) => snapshot.stages.some((stage) => stage.name === name && stage.state !== 'skipped'));
}

function series(history: HistoryPoint[], stage: StageName, figure: StageFigure): { x: number; y: number }[] {
  const points: { x: number; y: number }[] = [];
  for (const point of history) {
    const figures = point.stages[stage];
    if (figures) points.push({ x: point.t / 1000, y: figures[figure] });
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

interface ChartSpec {
  id: string;
  title: string;
  /** y-axis tick formatter */
  formatY: (value: number) => string;
  /** Counts: whole-number ticks only. */
  integer?: boolean;
  datasets: (snapshot: RunSnapshot, colors: ThemeColors) => LineDataset[];
}

function line(label: string, data: { x: number; y: number }[], color: string, stage: StageName | undefined, dashed = false, width = 1.5): LineDataset {
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
    // Which stage a dataset belongs to, so the probe can count points per stage.
    ...({ stage } as object),
  };
}

function stageColor(colors: ThemeColors, stage: StageName): string {
  return colors.series[TRAFFIC_STAGES.indexOf(stage as (typeof TRAFFIC_STAGES)[number]) % colors.series.length];
}

function rttSpec(stage: StageName): ChartSpec {
  return {
    id: `rtt:${stage}`,
    title: `${STAGE_TITLES[stage]} round trip`,
    formatY: formatMs,
    datasets: (snapshot, colors) => [
      line('p50', latencySeries(snapshot.history, stage, 'p50'), colors.p50, stage),
      line('p95', latencySeries(snapshot.history, stage, 'p95'), colors.p95, stage, false, 2),
      line('p99', latencySeries(snapshot.history, stage, 'p99'), colors.p99, stage, true),
    ],
  };
}

function perStageSpec(id: string, title: string, formatY: (n: number) => string, solid: [string, StageFigure], dashed?: [string, StageFigure]): ChartSpec {
  return {
    id,
    title,
    formatY,
    integer: dashed !== undefined,
    datasets: (snapshot, colors) =>
      chartedStages(snapshot).flatMap((stage) => {
        const color = stageColor(colors, stage);
        const sets = [line(`${STAGE_TITLES[stage]} ${solid[0]}`, series(snapshot.history, stage, solid[1]), color, stage)];
        if (dashed) sets.push(line(`${STAGE_TITLES[stage]} ${dashed[0]}`, series(snapshot.history, stage, dashed[1]), color, stage, true));
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
    line('API p95', snapshot.history.map((point) => ({ x: point.t / 1000, y: point.apiP95Ms })), colors.series[0], undefined),
    line('event-loop lag', snapshot.history.map((point) => ({ x: point.t / 1000, y: point.eventLoopLagMs })), colors.muted, undefined, true),
  ],
};

const SHARED_SPECS: ChartSpec[] = [
  perStageSpec('connections', 'Connections: active (solid) vs target (dashed)', (n) => String(Math.round(n)), ['active', 'active'], ['target', 'target']),
  perStageSpec('throughput', 'Throughput', (n) => `${formatBytes(n)}/s`, ['bytes/s', 'bytesPerSecond']),
  perStageSpec('errors', 'Errors (solid) and disconnects (dashed)', (n) => String(Math.round(n)), ['errors', 'errors'], ['disconnects', 'disconnects']),
  apiVsRunnerSpec,
];

/** Keeps one chart.js instance per chart id and redraws them from each snapshot. */
export class ChartBoard {
  private readonly charts = new Map<string, { chart: Chart<'line', { x: number; y: number }[]>; spec: ChartSpec; figure: HTMLElement }>();

  constructor(private readonly container: HTMLElement) {}

  render(snapshot: RunSnapshot): void {
    const specs = [...chartedStages(snapshot).map(rttSpec), ...SHARED_SPECS];
    const wanted = new Set(specs.map((spec) => spec.id));
    for (const [id, entry] of this.charts) {
      if (!wanted.has(id)) {
        entry.chart.destroy();
        entry.figure.remove();
        this.charts.delete(id);
      }
    }
    const colors = themeColors();
    const xMax = Math.max(1, (snapshot.now - snapshot.startedAt) / 1000);
    specs.forEach((spec, index) => {
      const entry = this.charts.get(spec.id) ?? this.create(spec);
      // Keep DOM order equal to spec order, so stages appear in timeline order.
      if (this.container.children[index] !== entry.figure) this.container.insertBefore(entry.figure, this.container.children[index] ?? null);
      const { chart } = entry;
      chart.data.datasets = spec.datasets(snapshot, colors);
      this.applyTheme(chart, spec, colors, xMax);
      chart.update('none');
      entry.figure.querySelector('canvas')!.setAttribute('aria-label', describeChart(spec, chart));
    });
  }

  /** Data points per chart and per stage, e.g. `rtt:ssh` and `connections:ssh`. */
  pointCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [id, { chart }] of this.charts) {
      counts[id] = 0;
      for (const dataset of chart.data.datasets) {
        counts[id] += dataset.data.length;
        const stage = (dataset as { stage?: string }).stage;
        if (stage && !id.startsWith('rtt:')) counts[`${id}:${stage}`] = Math.max(counts[`${id}:${stage}`] ?? 0, dataset.data.length);
      }
    }
    return counts;
  }

  clear(): void {
    for (const { chart, figure } of this.charts.values()) {
      chart.destroy();
      figure.remove();
    }
    this.charts.clear();
  }

  private create(spec: ChartSpec) {
    const canvas = h('canvas', { role: 'img', 'aria-label': spec.title });
    const figure = h('figure', { class: 'chart', 'data-chart': spec.id }, h('figcaption', {}, spec.title), h('div', { class: 'chart-box' }, canvas));
    this.container.appendChild(figure);
    const chart = new Chart<'line', { x: number; y: number }[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: { x: { type: 'linear', min: 0 }, y: { type: 'linear', beginAtZero: true } },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2 } } },
      },
    });
    const entry = { chart, spec, figure };
    this.charts.set(spec.id, entry);
    return entry;
  }

  private applyTheme(chart: Chart<'line', { x: number; y: number }[]>, spec: ChartSpec, colors: ThemeColors, xMax: number): void {
    const options = chart.options;
    const scales = options.scales as Record<'x' | 'y', { max?: number; ticks?: object; grid?: object; border?: object; title?: object }>;
    scales.x.max = xMax;
    scales.x.ticks = { color: colors.muted, maxTicksLimit: 8, callback: (value: number | string) => `${Math.round(Number(value))}s` };
    scales.y.ticks = { color: colors.muted, maxTicksLimit: 5, precision: spec.integer ? 0 : undefined, callback: (value: number | string) => spec.formatY(Number(value)) };
    scales.x.grid = { color: colors.grid };
    scales.y.grid = { color: colors.grid };
    scales.x.border = { color: colors.grid };
    scales.y.border = { color: colors.grid };
    options.plugins!.legend!.labels!.color = colors.foreground;
    options.plugins!.tooltip!.callbacks = { label: (item) => `${item.dataset.label}: ${spec.formatY(item.parsed.y ?? 0)}` };
  }
}

function describeChart(spec: ChartSpec, chart: Chart<'line', { x: number; y: number }[]>): string {
  const latest = chart.data.datasets
    .map((dataset) => {
      const last = dataset.data[dataset.data.length - 1];
      return last ? `${dataset.label} ${spec.formatY(last.y)}` : undefined;
    })
    .filter(Boolean);
  return `${spec.title}${latest.length ? `, latest: ${latest.join(', ')}` : ', no data yet'}`;
}
