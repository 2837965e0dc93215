// The compare view's per-stage verdict: the newer run against the reference (its plan's
// baseline, or the older run) — better / worse / same within noise, decided by the engine on
// the runs' histograms (docs/baselines.md), with the quantiles and the reason.
import type { HostToWebview } from '../src/protocol/messages';
import type { StageComparison } from '../src/protocol/comparison';
import { formatMs } from '../src/protocol/format';
import { h } from './dom';

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
