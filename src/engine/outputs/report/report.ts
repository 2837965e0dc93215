// Reports of a run in `<out>/<runId>/`: report.json (everything, with encoded HDR
// histograms), junit.xml (a test case per stage and per threshold, for CI), a self-contained
// report.html (the dashboard's own charts, bundled and inlined; opens offline) and summary.md
// (Markdown for CI pages, ./summary.ts).
// Never any secret: the report is built from the plan, the snapshot and the event log, none of
// which holds one.
import type { PreRunCheckRecord } from '../../run/options';
import * as fs from 'fs';
import * as path from 'path';
import type { SearchSnapshot } from '../../../protocol/search';
import { describeRampFigures, describeRunnerResources } from '../../../protocol/format';
import type { RunSnapshot } from '../../../protocol/snapshot';
import { escapeMarkup } from './markup';
import { baselineSection, baselineSectionHtml, type BaselineReportSection } from './sections/baseline';
import type { WorkspaceRow } from '../../../protocol/workspaces';
import { referenceSectionHtml } from './sections/reference';
import { reportChartsSource } from './chartSource';
import type { RunEvent, RunResult } from '../../run/outcome';
import type { Plan } from '../../plan/plan';
import { searchSectionHtml } from './sections/search';
import type { RunArtifacts, RunSink } from '../sinks';
import { summaryMarkdown } from './summary';
import { workspacesSectionHtml } from './sections/workspaces';

export interface RunReport {
  schemaVersion: 1;
  /** The pre-run check the run was started after (`coder-scaletest check`), or `{ skipped: true }`. */
  check?: PreRunCheckRecord;
  runId: string;
  planName: string;
  plan: Plan;
  verdict: RunResult['verdict'];
  exitCode: number;
  reason?: string;
  status: RunSnapshot['status'];
  startedAt: number;
  finishedAt: number;
  deploymentUrl: string;
  stages: RunSnapshot['stages'];
  thresholds: RunSnapshot['thresholds'];
  api: RunSnapshot['api'];
  deployment: RunSnapshot['deployment'];
  runner: RunSnapshot['runner'];
  /** Coder's reference figures beside the measured ones. */
  reference?: RunSnapshot['reference'];
  cleanup: RunResult['cleanup'];
  /** Whole-run HDR histograms (microseconds), compressed base64 (hdr-histogram-js encoding). */
  histograms: RunArtifacts['histograms'];
  events: RunEvent[];
  /** A capacity search's steps and verdict (plan.search). */
  search?: SearchSnapshot;
  /** The final snapshot, history included. */
  snapshot: RunSnapshot;
  /** When the plan had a baseline run: per stage, better / worse / same (docs/baselines.md). */
  baseline?: BaselineReportSection;
  /** Which workspace? Every workspace's own figures, in user order (the snapshot has the worst per stage). */
  workspaces?: WorkspaceRow[];
}

/** The report writer as a run output: writes the three files when the run is over. */
export function reportSink(dir: string, log: (level: 'info' | 'error', message: string) => void): RunSink {
  return {
    async finish(result, artifacts) {
      try {
        await writeReports(dir, result, artifacts);
        log('info', `reports written to ${dir}`);
      } catch (error) {
        log('error', `could not write the reports to ${dir}: ${(error as Error).message}`);
      }
    },
  };
}

export async function writeReports(dir: string, result: RunResult, artifacts: RunArtifacts): Promise<RunReport> {
  const input = { dir, result, ...artifacts };
  const { snapshot } = input.result;
  const report: RunReport = {
    schemaVersion: 1,
    runId: snapshot.runId,
    planName: snapshot.planName,
    plan: input.plan,
    verdict: input.result.verdict,
    exitCode: input.result.exitCode,
    reason: snapshot.reason,
    status: snapshot.status,
    startedAt: snapshot.startedAt,
    finishedAt: snapshot.now,
    deploymentUrl: snapshot.deploymentUrl,
    stages: snapshot.stages,
    thresholds: snapshot.thresholds,
    api: snapshot.api,
    deployment: snapshot.deployment,
    runner: snapshot.runner,
    reference: snapshot.reference,
    cleanup: input.result.cleanup,
    histograms: input.histograms,
    events: input.events,
    search: snapshot.search,
    snapshot,
    baseline: baselineSection(input.baseline, { runId: snapshot.runId, snapshot, histograms: input.histograms }),
    ...(input.preRunCheck ? { check: input.preRunCheck } : {}),
    workspaces: input.workspaces?.length ? input.workspaces : undefined,
  };
  await fs.promises.mkdir(input.dir, { recursive: true });
  await Promise.all([
    fs.promises.writeFile(path.join(input.dir, 'report.json'), JSON.stringify(report, null, 2)),
    fs.promises.writeFile(path.join(input.dir, 'junit.xml'), junitXml(report)),
    fs.promises.writeFile(path.join(input.dir, 'report.html'), reportHtml(report)),
    fs.promises.writeFile(path.join(input.dir, 'summary.md'), summaryMarkdown(report)),
  ]);
  return report;
}

export { readReport } from './reportFile';

// ---- JUnit ----

const xml = escapeMarkup;

export function junitXml(report: RunReport): string {
  const cases: string[] = [];
  const seconds = (stage: RunReport['stages'][number]) =>
    stage.startedAt && stage.endedAt ? ((stage.endedAt - stage.startedAt) / 1000).toFixed(3) : '0';
  let failures = 0;
  let skipped = 0;
  for (const stage of report.stages) {
    const l = stage.latency;
    const ramp = describeRampFigures(stage);
    const summary = `${stage.title}: ${stage.completed}/${stage.sent} completed, p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, disconnects ${stage.disconnects}, mismatches ${stage.mismatches}, errors ${JSON.stringify(stage.errors)}${ramp ? `, ramp ${ramp}` : ''}`;
    let body = `<system-out>${xml(summary)}</system-out>`;
    if (stage.verdict === 'fail') {
      failures++;
      body = `<failure message="${xml(stage.reason ?? 'failed')}">${xml(summary)}</failure>${body}`;
    } else if (stage.verdict === 'skipped') {
      skipped++;
      body = `<skipped message="${xml(stage.reason ?? 'not run')}"/>`;
    }
    cases.push(`    <testcase classname="scaletest.stages" name="${xml(stage.title)}" time="${seconds(stage)}">${body}</testcase>`);
  }
  for (const threshold of report.thresholds) {
    let body = `<system-out>observed ${xml(threshold.observedText)}</system-out>`;
    if (threshold.verdict === 'fail') {
      failures++;
      body = `<failure message="${xml(threshold.reason ?? `observed ${threshold.observedText}`)}">observed ${xml(threshold.observedText)}</failure>`;
    } else if (threshold.verdict === 'skipped') {
      skipped++;
      body = `<skipped message="${xml(threshold.reason ?? 'not applicable')}"/>`;
    }
    cases.push(`    <testcase classname="scaletest.thresholds" name="${xml(threshold.expression)}" time="0">${body}</testcase>`);
  }
  const total = ((report.finishedAt - report.startedAt) / 1000).toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="coder-scaletest" tests="${cases.length}" failures="${failures}" time="${total}">`,
    `  <testsuite name="${xml(`${report.planName} (${report.runId})`)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${total}" timestamp="${new Date(report.startedAt).toISOString()}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

// ---- HTML ----

const html = (text: string) => xml(text);

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function prometheusText(p: NonNullable<RunReport['deployment']['prometheus']>): string {
  if (p.scrapeError) return p.scrapeError;
  const parts = [
    p.cpuCores !== undefined ? `CPU ${p.cpuCores.toFixed(2)} cores` : undefined,
    p.residentMemoryBytes !== undefined ? `RSS ${(p.residentMemoryBytes / 1048576).toFixed(0)} MiB` : undefined,
    p.apiRequestsPerSecond !== undefined ? `${p.apiRequestsPerSecond.toFixed(1)} API req/s` : undefined,
    p.apiLatencyP95Ms !== undefined ? `API p95 ${p.apiLatencyP95Ms} ms` : undefined,
    p.concurrentWebsockets !== undefined ? `${p.concurrentWebsockets} WebSockets` : undefined,
  ];
  return parts.filter(Boolean).join(' · ') + ' (at the end of the run)';
}

export function reportHtml(report: RunReport): string {
  const badge = (verdict: string) => `<span class="badge ${verdict}">${html(verdict.toUpperCase())}</span>`;
  const stageRows = report.stages
    .map((s) => {
      const l = s.latency;
      const progress = s.progress
        ? `${s.progress.done}/${s.progress.total} (${s.progress.failed} failed)`
        : `${s.connections.active}/${s.connections.target}`;
      const errors =
        Object.entries(s.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || '0';
      const n = (value: number) => String(Math.round(value * 10) / 10);
      return `<tr><td>${html(s.title)}</td><td>${badge(s.verdict)}</td><td>${html(progress)}</td><td>${s.completed}/${s.sent}</td><td>${n(l.p50)}</td><td>${n(l.p95)}</td><td>${n(l.p99)}</td><td>${n(l.max)}</td><td>${html(describeRampFigures(s) ?? '')}</td><td>${s.disconnects}</td><td>${s.mismatches}</td><td>${html(errors)}</td><td>${html(s.reason ?? '')}</td></tr>`;
    })
    .join('\n');
  const thresholdRows = report.thresholds
    .map(
      (t) =>
        `<tr><td><code>${html(t.expression)}</code>${t.limit ? `<br><span class="muted">${html(t.limit)}</span>` : ''}</td><td>${badge(t.verdict)}</td><td>${html(t.observedText)}</td><td>${html([t.reason, t.runnerSuspect ?? t.runnerNote].filter(Boolean).join(' — '))}</td></tr>`,
    )
    .join('\n');
  const d = report.deployment;
  const cleanup = report.cleanup;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Scale test ${html(report.runId)}: ${html(report.verdict)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa} code{font-size:12px} td.bad{color:#cf222e} h3{font-size:14px;margin:18px 0 6px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:#6e7781}
.badge.pass{background:#1a7f37} .badge.fail{background:#cf222e} .badge.skipped{background:#8c959f}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
.muted{color:#57606a}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px}
.chart{margin:0;padding:8px;border:1px solid #ddd;border-radius:6px} .chart figcaption{font-weight:600;margin-bottom:4px}
.chart-box{position:relative;height:220px}
body{--vscode-foreground:#1f2328;--vscode-descriptionForeground:#57606a;--vscode-editorWidget-border:#d0d7de;
--vscode-charts-blue:#0969da;--vscode-charts-orange:#bc4c00;--vscode-charts-purple:#8250df;--vscode-charts-green:#1a7f37;--vscode-charts-yellow:#9a6700;--vscode-charts-red:#cf222e}
</style></head><body>
<h1>${html(report.planName)} — ${badge(report.verdict)}</h1>
<div class="muted">Run <code>${html(report.runId)}</code> against ${html(report.deploymentUrl)} · ${html(new Date(report.startedAt).toISOString())} · ${((report.finishedAt - report.startedAt) / 1000).toFixed(0)} s · status ${html(report.status)}</div>
${report.reason ? `<p><strong>${html(report.reason)}</strong></p>` : ''}
${report.snapshot.stages
  .filter((s) => s.summary)
  .map((s) => `<p class="stage-summary"><strong>${html(s.title)}:</strong> ${html(s.summary!)}</p>`)
  .join('\n')}
${searchSectionHtml(report.search)}
<h2>Stages</h2>
<table><tr><th>Stage</th><th>Verdict</th><th>Progress / connections</th><th>Completed/sent</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>Ramp</th><th>Disconnects</th><th>Mismatches</th><th>Errors</th><th>Reason</th></tr>
${stageRows}</table>
<h2>Thresholds</h2>
<table><tr><th>Expression</th><th>Verdict</th><th>Observed</th><th>Reason</th></tr>
${thresholdRows}</table>
${baselineSectionHtml(report.baseline)}
<h2>Over time</h2>
<section id="charts" class="charts" aria-label="Charts"></section>
${referenceSectionHtml(report.snapshot.reference)}
${workspacesSectionHtml(report.workspaces, (stage) => report.stages.find((s) => s.name === stage)?.title ?? stage)}
<h2>Deployment and runner</h2>
<table>
<tr><th>Deployment</th><td>${html(d.url)} ${d.version ? `(version ${html(d.version)})` : ''} · restarts ${d.restarts} · ${d.healthy ? 'healthy' : 'unhealthy'}${d.lastError ? ` · last error: ${html(d.lastError)}` : ''}</td></tr>
<tr><th>API</th><td>${report.api.total.requests} requests · p95 ${report.api.total.latency.p95} ms · 5xx ${report.api.total.errors5xx} · 4xx ${report.api.total.errors4xx} · network errors ${report.api.total.networkErrors}</td></tr>
${d.prometheus ? `<tr><th>coderd (Prometheus)</th><td>${html(prometheusText(d.prometheus))}</td></tr>` : ''}
<tr><th>Runner</th><td>${html(describeRunnerResources(report.runner))} · event-loop lag p99 ${report.runner.eventLoopLagP99Ms} ms${report.runner.childrenUnavailable ? ` · ${html(report.runner.childrenUnavailable)}` : ''}${report.runner.warning ? ` · ${html(report.runner.warning)}` : ''}</td></tr>
<tr><th>Cleanup</th><td>${cleanup.deletedWorkspaces} workspaces and ${cleanup.deletedUsers} users deleted${cleanup.leftovers.length ? ` · left behind: ${html(cleanup.leftovers.join(', '))}` : ''}</td></tr>
</table>
<script type="application/json" id="report-data">${scriptJson(report.snapshot)}</script>
<script>${reportChartsSource().replace(/<\/script/gi, '<\\/script')}</script>
</body></html>
`;
}
