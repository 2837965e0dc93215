// The compare view: the newer run against the reference (its plan's baseline, or the older
// run) stage by stage — better / worse / same within noise, decided by the engine on the runs'
// histograms (docs/baselines.md), with the quantiles and the reason — then both runs' figures
// and thresholds side by side.
import type { HostToWebview } from '../src/protocol/messages';
import type { StageComparison } from '../src/protocol/comparison';
import { formatCount, formatDuration, formatMs, totalErrors } from '../src/protocol/format';
import { h, table } from './dom';
import { verdictChip } from './verdicts';

type CompareMessage = Extract<HostToWebview, { type: 'compare' }>;

const CHANGE_TEXT: Record<StageComparison['change'], [string, string]> = {
  worse: ['▲ worse', 'verdict-fail'],
  better: ['▼ better', 'verdict-pass'],
  same: ['= same', 'verdict-skipped'],
  'no-data': ['– no data', 'verdict-pending'],
};

function quantileCell(stage: StageComparison, q: number): string {
  const shift = stage.comparison?.quantiles.find((candidate) => candidate.q === q);
  if (!shift) return '–';
  const sign = shift.relative >= 0 ? '+' : '−';
  return `${formatMs(shift.baselineMs)} → ${formatMs(shift.currentMs)} (${sign}${Math.abs(Math.round(shift.relative * 100))}%)`;
}

function stageRow(stage: StageComparison): HTMLElement {
  const [text, className] = CHANGE_TEXT[stage.change];
  return h(
    'tr',
    { 'data-stage': stage.name, 'data-change': stage.change },
    h('th', { scope: 'row' }, stage.title),
    h('td', {}, h('span', { class: `verdict ${className}` }, text)),
    ...[0.5, 0.95, 0.99].map((q) => h('td', { class: 'num' }, quantileCell(stage, q))),
    h('td', { class: 'num' }, `${stage.errors.baseline} → ${stage.errors.current}`),
    h('td', { class: 'muted' }, stage.comparison?.explanation ?? 'one of the runs has no samples'),
  );
}

/** The section, or null when the host sent no comparison (reports without histograms). */
export function comparisonSection(message: CompareMessage): HTMLElement | null {
  const comparison = message.comparison;
  if (!comparison) return null;
  const heading = message.reference === 'baseline' ? `Against the baseline (${message.left.label})` : `Change since ${message.left.label}`;
  const { tally } = comparison;
  return h(
    'section',
    { id: 'baseline-comparison', class: 'panel wide', 'aria-labelledby': 'baseline-comparison-heading' },
    h('h2', { id: 'baseline-comparison-heading' }, heading),
    h(
      'p',
      { class: 'muted num' },
      `${tally.worse} worse · ${tally.better} better · ${tally.same} same within noise — on the whole-run histograms (KS test, p50–p99 with confidence intervals)`,
    ),
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, heading),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Stage', 'Change', 'p50', 'p95', 'p99', 'Errors', 'Why'].map((header, i) =>
            h('th', { scope: 'col', class: i >= 2 && i <= 5 ? 'num' : undefined }, header),
          ),
        ),
      ),
      h('tbody', {}, ...comparison.stages.map(stageRow)),
    ),
  );
}

function compareRow(
  label: string,
  left: number | undefined,
  right: number | undefined,
  format: (n: number) => string,
): (string | HTMLElement)[] {
  const delta = left !== undefined && right !== undefined ? right - left : undefined;
  const deltaText = delta === undefined ? '–' : `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${format(Math.abs(delta))}`;
  return [
    label,
    left === undefined ? '–' : format(left),
    right === undefined ? '–' : format(right),
    h('span', { class: delta && delta > 0 ? 'worse' : delta && delta < 0 ? 'better' : undefined }, deltaText),
  ];
}

/** Both runs' figures side by side with the change, and each threshold's verdict in both. */
export function figurePanels(message: CompareMessage): HTMLElement[] {
  const { left, right } = message;
  const stageNames = [...new Set([...left.snapshot.stages, ...right.snapshot.stages].map((stage) => stage.name))];
  const rows: (string | HTMLElement)[][] = [];
  for (const name of stageNames) {
    const a = left.snapshot.stages.find((stage) => stage.name === name);
    const b = right.snapshot.stages.find((stage) => stage.name === name);
    const title = (a ?? b)!.title;
    // Only figures at least one run has: no rows of dashes for stages without round trips.
    if (a?.latency.count || b?.latency.count) {
      for (const figure of ['p50', 'p95', 'p99'] as const) {
        rows.push(
          compareRow(
            `${title} ${figure}`,
            a?.latency.count ? a.latency[figure] : undefined,
            b?.latency.count ? b.latency[figure] : undefined,
            formatMs,
          ),
        );
      }
    }
    rows.push(compareRow(`${title} errors`, a ? totalErrors(a) : undefined, b ? totalErrors(b) : undefined, formatCount));
    if (name !== 'prepare' && name !== 'cleanup')
      rows.push(compareRow(`${title} disconnects`, a?.disconnects, b?.disconnects, formatCount));
  }
  rows.push(compareRow('API p95', left.snapshot.api.total.latency.p95, right.snapshot.api.total.latency.p95, formatMs));
  rows.push(compareRow('API 5xx', left.snapshot.api.total.errors5xx, right.snapshot.api.total.errors5xx, formatCount));
  rows.push(
    compareRow('Duration', left.snapshot.now - left.snapshot.startedAt, right.snapshot.now - right.snapshot.startedAt, formatDuration),
  );

  const expressions = [...new Set([...left.snapshot.thresholds, ...right.snapshot.thresholds].map((t) => t.expression))];
  const thresholdRows = expressions.map((expression) => {
    const a = left.snapshot.thresholds.find((t) => t.expression === expression);
    const b = right.snapshot.thresholds.find((t) => t.expression === expression);
    return [
      h('code', {}, expression),
      a ? verdictChip(a.verdict, a.observed === null ? 'no data' : a.observedText) : '–',
      b ? verdictChip(b.verdict, b.observed === null ? 'no data' : b.observedText) : '–',
    ];
  });
  return [
    h(
      'section',
      { class: 'panel wide' },
      h('h2', {}, 'Figures'),
      table('Figures of both runs', ['Figure', left.label, right.label, 'Change'], rows),
    ),
    h(
      'section',
      { class: 'panel wide' },
      h('h2', {}, 'Thresholds'),
      table('Thresholds of both runs', ['Expression', left.label, right.label], thresholdRows),
    ),
  ];
}
