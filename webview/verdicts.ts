// Verdict chips: the icon and word of a pass / fail / pending / skipped / running verdict,
// the same in every view.
import { VERDICT_LABELS } from '../src/protocol/format';
import type { StageSnapshot, Verdict } from '../src/protocol/snapshot';
import { h } from './dom';

const VERDICT_ICONS: Record<Verdict | 'running', string> = { pass: '✔', fail: '✖', pending: '…', skipped: '–', running: '▶' };

export function verdictChip(verdict: Verdict | 'running', text?: string): HTMLElement {
  return h(
    'span',
    { class: `verdict verdict-${verdict}` },
    h('span', { 'aria-hidden': 'true' }, VERDICT_ICONS[verdict]),
    ` ${text ?? VERDICT_LABELS[verdict as Verdict] ?? verdict}`,
  );
}

export function stageVerdict(stage: StageSnapshot): Verdict | 'running' {
  return stage.verdict === 'pending' && (stage.state === 'running' || stage.state === 'stopping') ? 'running' : stage.verdict;
}
