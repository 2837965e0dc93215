// The dashboard's "Coder's reference figures" panel: each published figure beside what the run
// measured, scaled to the run's users, and the setting that would measure what is missing.
import { formatReferenceValue, referenceScopeText, type ReferenceRow } from '../src/protocol/reference';
import type { RunSnapshot } from '../src/protocol/snapshot';
import { byId, h, hiddenPanel, replace } from './dom';

const GROUP_TITLES: Record<ReferenceRow['group'], string> = {
  coderd: 'coderd',
  provisionerd: 'Provisioner daemons',
  database: 'Database',
  setup: 'Set-up',
};

/** The panel, empty until a snapshot with reference figures arrives. */
export function referencePanel(): HTMLElement {
  return hiddenPanel('reference', "Coder's reference figures");
}

const valueText = (row: ReferenceRow, value: number | undefined) =>
  value === undefined ? '–' : row.unit === '%' ? `${formatReferenceValue(value)}%` : `${formatReferenceValue(value)} ${row.unit}`;

/** Text with `backticked` names as <code>, as text nodes (never markup). */
function withCode(text: string): (string | HTMLElement)[] {
  return text.split('`').map((part, index) => (index % 2 === 1 ? h('code', {}, part) : part));
}

function figureCell(row: ReferenceRow): HTMLElement {
  const detail = row.note ?? row.measuredFrom;
  return h('div', {}, h('div', {}, row.sentence), detail ? h('div', { class: 'muted reference-note' }, ...withCode(detail)) : null);
}

export function renderReference(snapshot: RunSnapshot): void {
  const panel = byId('reference-panel');
  const reference = snapshot.reference;
  panel.hidden = !reference;
  if (!reference) return;
  const rows = reference.rows.map((row) =>
    h(
      'tr',
      { 'data-figure': row.id, class: row.measured === undefined ? 'reference-missing' : undefined },
      h('th', { scope: 'row' }, GROUP_TITLES[row.group]),
      h('td', {}, figureCell(row)),
      h('td', { class: 'num' }, valueText(row, row.measured)),
      h('td', { class: 'num' }, valueText(row, row.expected)),
      h('td', { class: 'num' }, row.ratio === undefined || !Number.isFinite(row.ratio) ? '' : `${formatReferenceValue(row.ratio)}×`),
    ),
  );
  replace(
    byId('reference'),
    h(
      'p',
      { class: 'muted' },
      `Published for ${reference.referenceUsers} users (`,
      h('a', { href: reference.source.url }, reference.source.title),
      `); figures that grow with the users are scaled to ${referenceScopeText(reference)}.`,
    ),
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, "Coder's reference figures beside the measured ones"),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Part', 'Figure', 'Measured', `Reference for ${reference.users} users`, 'Measured / reference'].map((title, i) =>
            h('th', { scope: 'col', class: i >= 2 ? 'num' : undefined }, title),
          ),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}
