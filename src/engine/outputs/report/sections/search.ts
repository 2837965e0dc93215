// report.html's capacity-search section: the verdict sentence, a table of every step (users,
// phase, verdict, p95 per stage, errors, coderd CPU, what failed) and the place where the
// report's chart bundle (webview/reportCharts.ts) draws the step chart (webview/searchView.ts).
import type { SearchSnapshot, SearchStep } from '../../../../protocol/search';

import { escapeMarkup as escape } from '../markup';

const ms = (value: number) => `${Math.round(value * 10) / 10} ms`;

function stepRow(step: SearchStep): string {
  const verdict = step.state === 'aborted' ? 'stopped' : step.verdict;
  const p95 = step.stages.map((stage) => `${stage.title} ${stage.count ? ms(stage.p95) : '–'}`).join('<br>') || '–';
  const errors = step.stages.reduce((total, stage) => total + stage.errors + stage.disconnects, 0);
  const why = [step.reason, ...step.failed.map((failure) => failure.reason ?? failure.expression)].filter(Boolean).join('; ');
  const seconds = step.endedAt ? `${((step.endedAt - step.startedAt) / 1000).toFixed(0)} s` : '–';
  return (
    `<tr class="search-step ${escape(step.verdict)}"><td>${step.index}</td><td>${step.users}</td><td>${escape(step.phase)}</td>` +
    `<td><span class="badge ${step.state === 'aborted' ? 'skipped' : escape(step.verdict)}">${escape(verdict.toUpperCase())}</span></td>` +
    `<td>${p95}</td><td>${errors}</td><td>${step.api5xx ?? 0}</td><td>${step.coderdCpuCores === undefined ? '–' : `${step.coderdCpuCores.toFixed(2)} cores`}</td>` +
    `<td>${seconds}</td><td>${escape(why)}</td></tr>`
  );
}

export function searchSectionHtml(search: SearchSnapshot | undefined): string {
  if (!search) return '';
  const bounds = `from ${search.from} to ${search.to} users, step ${search.step === 'double' ? 'doubling' : `+${search.step}`}, resolution ${search.resolution}, minimum ${search.minimum}`;
  return `<h2>Capacity search</h2>
<p><strong>${escape(search.verdict ?? 'the search did not finish')}</strong></p>
<p class="muted">${escape(bounds)} · ${search.steps.length} step(s) · capacity ${search.capacity ?? '–'} users${search.metMinimum === undefined ? '' : search.metMinimum ? ' (meets the minimum)' : ' (below the minimum)'}</p>
<section class="charts" id="search-charts" aria-label="Capacity search chart"></section>
<table><tr><th>#</th><th>Users</th><th>Phase</th><th>Verdict</th><th>p95</th><th>Errors + disconnects</th><th>API 5xx</th><th>coderd CPU (peak)</th><th>Duration</th><th>What failed</th></tr>
${search.steps.map(stepRow).join('\n')}</table>`;
}
