// The report's "Coder's reference figures" section: each figure beside the measured one, scaled
// to the run's users, and for what could not be measured, the setting that would measure it.
import { formatReferenceValue, referenceScopeText, type ReferenceRow, type ReferenceSnapshot } from '../../../../protocol/reference';

import { escapeMarkup as escape } from '../markup';

/** Backticked names of the notes as <code>. */
const withCode = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const GROUP_TITLES: Record<ReferenceRow['group'], string> = {
  coderd: 'coderd',
  provisionerd: 'Provisioner daemons',
  database: 'Database',
  setup: 'Set-up',
};

function cell(row: ReferenceRow, value: number | undefined): string {
  if (value === undefined) return '–';
  return row.unit === '%' ? `${formatReferenceValue(value)}%` : `${formatReferenceValue(value)} ${escape(row.unit)}`;
}

/** A verdict-free comparison: how far the measured figure is from the scaled reference. */
export function ratioText(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '';
  return `${formatReferenceValue(ratio)}×`;
}

export function referenceSectionHtml(reference: ReferenceSnapshot | undefined): string {
  if (!reference) return '';
  const rows = reference.rows
    .map((row) => {
      const note = row.note
        ? `<div class="muted">${withCode(row.note)}</div>`
        : row.measuredFrom
          ? `<div class="muted">${escape(row.measuredFrom)}</div>`
          : '';
      return `<tr data-figure="${escape(row.id)}"><td>${escape(GROUP_TITLES[row.group])}</td><td>${escape(row.sentence)}${note}</td><td>${cell(row, row.measured)}</td><td>${cell(row, row.expected)}${row.linear ? ` <span class="muted">(${cell(row, row.reference)} for ${reference.referenceUsers})</span>` : ''}</td><td>${ratioText(row.ratio)}</td></tr>`;
    })
    .join('\n');
  return `<h2 id="reference">Coder's reference figures</h2>
<p class="muted">Published for ${reference.referenceUsers} users in <a href="${escape(reference.source.url)}">${escape(reference.source.title)}</a>; figures that grow with the users are scaled to ${escape(referenceScopeText(reference))}.</p>
<table id="reference-table"><tr><th>Part</th><th>Figure</th><th>Measured</th><th>Reference for ${reference.users} users</th><th>Measured / reference</th></tr>
${rows}</table>`;
}
