// The dashboard's chart.js charts, drawn from a snapshot's bounded history (the chart set and
// datasets come from ./chartSpecs.ts, shared with report.html). Colours come from the theme's
// `--vscode-*` variables and are re-read on every draw: a canvas does not follow CSS changes by
// itself; outside VS Code (report.html) the fallbacks apply.
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { RunSnapshot } from '../src/protocol/snapshot';
import { chartSpecs, type ChartSpec, type ThemeColors } from './chartSpecs';
import { h } from './dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function themeColors(): ThemeColors {
  const style = getComputedStyle(document.body);
  return {
    foreground: cssVar(style, '--vscode-foreground', '#cccccc'),
    muted: cssVar(style, '--vscode-descriptionForeground', '#999999'),
    grid: cssVar(style, '--vscode-editorWidget-border', 'rgba(128,128,128,0.3)'),
    series: {
      blue: cssVar(style, '--vscode-charts-blue', '#3794ff'),
      orange: cssVar(style, '--vscode-charts-orange', '#d18616'),
      purple: cssVar(style, '--vscode-charts-purple', '#b180d7'),
      green: cssVar(style, '--vscode-charts-green', '#89d185'),
      yellow: cssVar(style, '--vscode-charts-yellow', '#cca700'),
      red: cssVar(style, '--vscode-charts-red', '#f14c4c'),
    },
    p50: cssVar(style, '--vscode-charts-green', '#89d185'),
    p95: cssVar(style, '--vscode-charts-yellow', '#cca700'),
    p99: cssVar(style, '--vscode-charts-red', '#f14c4c'),
  };
}

export type LineChart = Chart<'line', { x: number; y: number }[]>;

/** A chart's figure: caption, fixed-height box and the canvas (labelled for screen readers). */
export function chartFigure(id: string, title: string): { figure: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h('canvas', { role: 'img', 'aria-label': title });
  return {
    figure: h('figure', { class: 'chart', 'data-chart': id }, h('figcaption', {}, title), h('div', { class: 'chart-box' }, canvas)),
    canvas,
  };
}

/** A line chart with the dashboard's options: no animation (redrawn every second), data as {x, y}, the legend below. */
export function newLineChart(canvas: HTMLCanvasElement, scales: Record<string, object>, interaction?: object): LineChart {
  return new Chart<'line', { x: number; y: number }[]>(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      ...(interaction ? { interaction } : {}),
      scales,
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2 } } },
    },
  });
}

/** Keeps one chart.js instance per chart id and redraws them from each snapshot. */
export class ChartBoard {
  private readonly charts = new Map<string, { chart: Chart<'line', { x: number; y: number }[]>; spec: ChartSpec; figure: HTMLElement }>();

  constructor(private readonly container: HTMLElement) {}

  render(snapshot: RunSnapshot): void {
    const specs = chartSpecs(snapshot);
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
      if (this.container.children[index] !== entry.figure)
        this.container.insertBefore(entry.figure, this.container.children[index] ?? null);
      const { chart } = entry;
      chart.data.datasets = spec.datasets(snapshot, colors);
      this.applyTheme(chart, spec, colors, xMax);
      chart.update('none');
      entry.figure.querySelector('canvas')!.setAttribute('aria-label', describeChart(spec, chart));
    });
  }

  /** Data points per chart and per stage, e.g. `rtt:ssh`, `queue:morning_rush` and `connections:ssh`. */
  pointCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [id, { chart }] of this.charts) {
      counts[id] = 0;
      for (const dataset of chart.data.datasets) {
        counts[id] += dataset.data.length;
        const stage = (dataset as { stage?: string }).stage;
        // Shared charts per stage too; a stage's own charts (`rtt:ssh`, `queue:morning_rush`) are per stage already.
        if (stage && !id.endsWith(`:${stage}`)) counts[`${id}:${stage}`] = Math.max(counts[`${id}:${stage}`] ?? 0, dataset.data.length);
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
    const { figure, canvas } = chartFigure(spec.id, spec.title);
    this.container.appendChild(figure);
    const chart = newLineChart(
      canvas,
      { x: { type: 'linear', min: 0 }, y: { type: 'linear', beginAtZero: true } },
      { mode: 'nearest', axis: 'x', intersect: false },
    );
    const entry = { chart, spec, figure };
    this.charts.set(spec.id, entry);
    return entry;
  }

  private applyTheme(chart: Chart<'line', { x: number; y: number }[]>, spec: ChartSpec, colors: ThemeColors, xMax: number): void {
    const options = chart.options;
    const scales = options.scales as Record<'x' | 'y', { max?: number; ticks?: object; grid?: object; border?: object; title?: object }>;
    scales.x.max = xMax;
    scales.x.ticks = { color: colors.muted, maxTicksLimit: 8, callback: (value: number | string) => `${Math.round(Number(value))}s` };
    scales.y.ticks = {
      color: colors.muted,
      maxTicksLimit: 5,
      precision: spec.integer ? 0 : undefined,
      callback: (value: number | string) => spec.formatY(Number(value)),
    };
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
