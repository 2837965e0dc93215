// The capacity search's step chart (users vs round-trip p95 per stage; failed steps marked; the
// capacity found as a dashed line) and, in the dashboard, its step table and verdict. It fills
// in as the search goes: each snapshot carries every step so far (RunSnapshot.search). The
// chart is also drawn by report.html (./reportCharts.ts), from the report's own snapshot.
import { formatMs } from '../src/protocol/format';
import type { SearchSnapshot, SearchStep } from '../src/protocol/search';
import { CHART_COLORS, type ChartColor } from '../src/protocol/snapshot';
import { chartFigure, newLineChart, themeColors, type LineChart } from './charts';
import { h, replace } from './dom';

export const SEARCH_CHART_ID = 'search';

export interface SearchSeries {
  label: string;
  color?: ChartColor;
  /** One point per decided step, by user count; `failed` marks the steps that failed. */
  points: { x: number; y: number; failed: boolean }[];
  dashed?: boolean;
  axis: 'latency' | 'count';
}

/** The chart's series, pure: p95 per stage and errors per step, sorted by user count. */
export function searchSeries(search: SearchSnapshot): SearchSeries[] {
  const decided = search.steps.filter((step) => step.verdict === 'pass' || step.verdict === 'fail').sort((a, b) => a.users - b.users);
  const stages = new Map<string, { title: string; color?: ChartColor }>();
  for (const step of decided) for (const stage of step.stages) stages.set(stage.name, { title: stage.title, color: stage.color });
  const series: SearchSeries[] = [...stages].map(([name, { title, color }]) => ({
    label: `${title} p95`,
    color,
    axis: 'latency',
    points: decided.flatMap((step) => {
      const stage = step.stages.find((candidate) => candidate.name === name);
      return stage && stage.count > 0 ? [{ x: step.users, y: stage.p95, failed: step.verdict === 'fail' }] : [];
    }),
  }));
  const errors = (step: SearchStep) =>
    step.stages.reduce((total, stage) => total + stage.errors + stage.disconnects, 0) + (step.api5xx ?? 0);
  series.push({
    label: 'errors',
    axis: 'count',
    dashed: true,
    points: decided.map((step) => ({ x: step.users, y: errors(step), failed: step.verdict === 'fail' })),
  });
  return series;
}

/** One chart.js line chart of the steps; `update` redraws it from a newer search. */
export class SearchChart {
  private readonly chart: LineChart;
  readonly figure: HTMLElement;

  constructor(container: HTMLElement) {
    const { figure, canvas } = chartFigure(SEARCH_CHART_ID, 'Capacity search: users vs p95 (solid), errors (dashed)');
    this.figure = figure;
    container.appendChild(figure);
    this.chart = newLineChart(canvas, {
      x: { type: 'linear' },
      y: { type: 'linear', beginAtZero: true, position: 'left' },
      count: { type: 'linear', beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } },
    });
  }

  update(search: SearchSnapshot): void {
    const colors = themeColors();
    const series = searchSeries(search);
    const datasets: Record<string, unknown>[] = series.map((entry, index) => {
      const color = entry.axis === 'count' ? colors.muted : colors.series[entry.color ?? CHART_COLORS[index % CHART_COLORS.length]];
      return {
        label: entry.label,
        data: entry.points.map(({ x, y }) => ({ x, y })),
        yAxisID: entry.axis === 'latency' ? 'y' : 'count',
        borderColor: color,
        backgroundColor: entry.points.map((point) => (point.failed ? colors.series.red : color)),
        pointStyle: entry.points.map((point) => (point.failed ? 'crossRot' : 'circle')),
        pointRadius: entry.points.map((point) => (point.failed ? 6 : 4)),
        pointBorderColor: entry.points.map((point) => (point.failed ? colors.series.red : color)),
        borderDash: entry.dashed ? [5, 4] : [],
        borderWidth: 1.5,
        tension: 0,
      };
    });
    if (search.capacity !== undefined && search.capacity > 0) {
      const top = Math.max(
        1,
        ...series.filter((entry) => entry.axis === 'latency').flatMap((entry) => entry.points.map((point) => point.y)),
      );
      datasets.push({
        label: `holds ${search.capacity}`,
        data: [
          { x: search.capacity, y: 0 },
          { x: search.capacity, y: top },
        ],
        yAxisID: 'y',
        borderColor: colors.series.green,
        backgroundColor: [colors.series.green],
        pointStyle: ['line'],
        pointRadius: [0],
        pointBorderColor: [colors.series.green],
        borderDash: [6, 3],
        borderWidth: 2,
        tension: 0,
      });
    }
    this.chart.data.datasets = datasets as never;
    const scales = this.chart.options.scales as Record<
      string,
      { min?: number; max?: number; ticks?: object; grid?: object; title?: object }
    >;
    scales.x.min = Math.max(0, search.from - 1);
    scales.x.max = Math.max(search.from, ...search.steps.map((step) => step.users)) + 1;
    scales.x.ticks = { color: colors.muted, precision: 0 };
    scales.x.title = { display: true, text: 'users', color: colors.muted };
    scales.y.ticks = { color: colors.muted, maxTicksLimit: 5, callback: (value: number | string) => formatMs(Number(value)) };
    scales.count.ticks = { color: colors.muted, maxTicksLimit: 5, precision: 0 };
    scales.x.grid = scales.y.grid = { color: colors.grid };
    this.chart.options.plugins!.legend!.labels!.color = colors.foreground;
    this.chart.update('none');
    this.figure
      .querySelector('canvas')!
      .setAttribute('aria-label', `Capacity search: ${search.steps.length} step(s)${search.verdict ? `; ${search.verdict}` : ''}`);
  }

  /** Points drawn (steps per series), for probes. */
  pointCount(): number {
    return this.chart.data.datasets.reduce((total, dataset) => total + dataset.data.length, 0);
  }

  destroy(): void {
    this.chart.destroy();
    this.figure.remove();
  }
}

const PHASE_TEXT: Record<SearchSnapshot['phase'], string> = {
  growing: 'growing the user count',
  bisecting: 'bisecting',
  done: 'done',
  aborted: 'stopped early',
};

function stepRow(step: SearchStep): HTMLElement {
  const verdict = step.state === 'aborted' ? 'stopped' : step.verdict === 'pending' ? step.state : step.verdict;
  const p95 = step.stages.map((stage) => `${stage.title} ${stage.count ? formatMs(stage.p95) : '–'}`).join(' · ') || '–';
  const errors = step.stages.reduce((total, stage) => total + stage.errors + stage.disconnects, 0);
  const why = [step.reason, ...step.failed.map((failure) => failure.reason ?? failure.expression)].filter(Boolean).join('; ');
  return h(
    'tr',
    { class: `search-step search-${step.verdict}` },
    h('th', { scope: 'row', class: 'num' }, String(step.index)),
    h('td', { class: 'num' }, String(step.users)),
    h('td', {}, step.phase),
    h('td', {}, h('span', { class: `verdict verdict-${step.verdict === 'pending' ? 'running' : step.verdict}` }, verdict)),
    h('td', {}, p95),
    h('td', { class: 'num' }, String(errors)),
    h('td', { class: 'num' }, step.coderdCpuCores === undefined ? '–' : `${step.coderdCpuCores.toFixed(2)} cores`),
    h('td', {}, why),
  );
}

/** The dashboard's search section: hidden for a fixed-count run. */
export class SearchView {
  private chart?: SearchChart;
  private readonly chartHolder = h('div', { class: 'charts search-charts' });
  private readonly status = h('p', { id: 'search-status', class: 'search-status' });
  private readonly table = h('div', { id: 'search-steps' });

  constructor(private readonly container: HTMLElement) {
    replace(container, h('h2', {}, 'Capacity search'), this.status, this.chartHolder, this.table);
    container.hidden = true;
  }

  render(search: SearchSnapshot | undefined): void {
    this.container.hidden = !search;
    if (!search) {
      this.clear();
      return;
    }
    const running = search.steps.find((step) => step.state === 'preparing' || step.state === 'running');
    this.status.textContent =
      search.verdict ??
      `${PHASE_TEXT[search.phase]}${running ? `: step ${running.index} at ${running.users} users (${running.state})` : ''} · searching ${search.from}–${search.to} users, resolution ${search.resolution}`;
    this.chart ??= new SearchChart(this.chartHolder);
    this.chart.update(search);
    replace(
      this.table,
      h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, 'Capacity search steps'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['#', 'Users', 'Phase', 'Verdict', 'p95', 'Errors', 'coderd CPU', 'Why'].map((title) => h('th', { scope: 'col' }, title)),
          ),
        ),
        h('tbody', {}, ...search.steps.map(stepRow)),
      ),
    );
  }

  /** For the dashboard's probe: points on the step chart. */
  pointCounts(): Record<string, number> {
    return this.chart ? { [SEARCH_CHART_ID]: this.chart.pointCount() } : {};
  }

  clear(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }
}
