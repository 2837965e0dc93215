// Terminal output of a run: a live table redrawn in place when stdout is a TTY, concise line
// logs otherwise, NDJSON snapshots with --ndjson; and the final summary.
import { stripVTControlCharacters, styleText } from 'util';
import type { RunEvent, RunResult } from '../engine';
import { referenceSummaryLine } from '../engine/reference/compare';
import { describeProgress, describeRunnerResources, isFinished } from '../protocol/format';
import { cleanupCommandText } from './outcomeText';
import type { SearchSnapshot } from '../protocol/search';
import type { RunSnapshot, StageSnapshot } from '../protocol/snapshot';

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

const color = (enabled: boolean) => {
  const wrap = (format: Parameters<typeof styleText>[0]) => (text: string) => (enabled ? styleText(format, text) : text);
  return { red: wrap('red'), green: wrap('green'), yellow: wrap('yellow'), dim: wrap('dim'), bold: wrap('bold') };
};

const pad = (text: string, width: number) => (text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length));
const padLeft = (text: string, width: number) => (text.length >= width ? text : ' '.repeat(width - text.length) + text);
const visibleLength = (text: string) => stripVTControlCharacters(text).length;
const ms = (value: number) => (value >= 100 ? `${Math.round(value)}` : value.toFixed(1));

function verdictText(verdict: string, c: ReturnType<typeof color>): string {
  if (verdict === 'pass') return c.green('pass');
  if (verdict === 'fail') return c.red('FAIL');
  return c.dim(verdict);
}

/** The stage column fits the longest title ("Dynamic parameters") with a space after it. */
const stageColumnWidth = (stages: readonly StageSnapshot[]) => Math.max(15, ...stages.map((stage) => stage.title.length + 1));

function stageLine(stage: StageSnapshot, c: ReturnType<typeof color>, titleWidth: number): string {
  const errors = Object.values(stage.errors).reduce((a, b) => a + b, 0);
  const connections = stage.progress
    ? `${stage.progress.done}/${stage.progress.total}${stage.progress.failed ? ` ✗${stage.progress.failed}` : ''}`
    : `${stage.connections.active}/${stage.connections.target}`;
  const latency = stage.latency.count > 0 ? stage.latency : undefined;
  return [
    pad(stage.title, titleWidth),
    pad(stage.state, 9),
    padLeft(connections, 9),
    padLeft(`${stage.completed}/${stage.sent}`, 13),
    padLeft(latency ? ms(latency.p50) : '-', 8),
    padLeft(latency ? ms(latency.p95) : '-', 8),
    padLeft(latency ? ms(latency.p99) : '-', 8),
    padLeft(stage.openLag?.count ? ms(stage.openLag.p95) : '-', 9),
    padLeft(String(stage.disconnects), 6),
    padLeft(String(stage.mismatches), 6),
    padLeft(String(errors), 6),
    '  ' + verdictText(stage.verdict, c),
    stage.progress?.rateLimitedMs ? c.dim(`  rate-limited ${(stage.progress.rateLimitedMs / 1000).toFixed(0)} s`) : '',
  ].join('');
}

/** The run as a table (for the live view and the final summary). */
export function renderTable(snapshot: RunSnapshot, useColor: boolean): string[] {
  const c = color(useColor);
  const elapsed = ((snapshot.now - snapshot.startedAt) / 1000).toFixed(0);
  let slot = '';
  if (snapshot.timelineStartedAt && snapshot.status === 'running') {
    const t = snapshot.now - snapshot.timelineStartedAt;
    slot = `  T${Math.min(Math.floor(t / snapshot.slotMs), Math.round(snapshot.timelineMs / snapshot.slotMs))} of T${Math.round(snapshot.timelineMs / snapshot.slotMs)}`;
  }
  const titleWidth = stageColumnWidth(snapshot.stages);
  const lines = [
    c.bold(`run ${snapshot.runId}`) + `  ${snapshot.planName}  ${snapshot.status}  ${elapsed}s${slot}`,
    c.dim(
      pad('stage', titleWidth) +
        pad('state', 9) +
        padLeft('conns', 9) +
        padLeft('done/sent', 13) +
        padLeft('p50 ms', 8) +
        padLeft('p95 ms', 8) +
        padLeft('p99 ms', 8) +
        padLeft('open p95', 9) +
        padLeft('disc', 6) +
        padLeft('mism', 6) +
        padLeft('err', 6) +
        '  verdict',
    ),
    ...snapshot.stages.map((stage) => stageLine(stage, c, titleWidth)),
  ];
  const api = snapshot.api.total;
  const d = snapshot.deployment;
  const prom = d.prometheus;
  lines.push(
    `API ${api.requests} req, p95 ${ms(api.latency.p95)} ms, 5xx ${api.errors5xx}` +
      ` | deployment ${d.healthy ? c.green('healthy') : c.red('UNHEALTHY')}${d.version ? ` ${d.version}` : ''}, restarts ${d.restarts}` +
      (prom && !prom.scrapeError
        ? ` | coderd CPU ${prom.cpuCores?.toFixed(2) ?? '-'} cores, ${prom.apiRequestsPerSecond?.toFixed(0) ?? '-'} req/s, ${prom.concurrentWebsockets ?? '-'} websockets`
        : ''),
  );
  const reference = isFinished(snapshot) ? referenceSummaryLine(snapshot.reference) : undefined;
  if (reference) lines.push(reference);
  const r = snapshot.runner;
  lines.push(
    `runner ${describeRunnerResources(r)}, event-loop lag p99 ${r.eventLoopLagP99Ms} ms` +
      (r.overloaded ? `  ${c.yellow('⚠ runner overloaded')}` : ''),
  );
  if (snapshot.search) lines.push(searchLine(snapshot.search));
  const counts = { pass: 0, fail: 0, pending: 0, skipped: 0 };
  for (const t of snapshot.thresholds) counts[t.verdict]++;
  lines.push(
    `thresholds: ${c.green(`${counts.pass} pass`)}, ${counts.fail ? c.red(`${counts.fail} fail`) : '0 fail'}, ${counts.pending} pending, ${counts.skipped} skipped`,
  );
  for (const t of snapshot.thresholds.filter((t) => t.verdict === 'fail'))
    lines.push(c.red(`  ✗ ${t.expression}: observed ${t.observedText}`));
  return lines;
}

/** The capacity search in one line: the steps so far (✓ passed, ✗ failed), then where it stands. */
export function searchLine(search: SearchSnapshot): string {
  const steps = search.steps.map((step) => `${step.users}${step.verdict === 'pass' ? '✓' : step.verdict === 'fail' ? '✗' : '…'}`).join(' ');
  const where = search.verdict ?? `${search.phase}${search.lastPass !== undefined ? `, holds ≥ ${search.lastPass}` : ''}`;
  return `search ${search.from}-${search.to} users: ${steps || 'starting'}; ${where}`;
}

export function formatEvent(event: RunEvent): string {
  const time = new Date(event.time).toISOString().slice(11, 19);
  return `${time} ${event.level.padEnd(5)} ${event.stage ? `[${event.stage}] ` : ''}${event.message}`;
}

/**
 * What a log line says about the run's progress (prepare/cleanup: done/total and failures;
 * traffic: connections and p95), or nothing when no stage is under way.
 */
export function progressLine(snapshot: RunSnapshot): string | undefined {
  const parts = snapshot.stages
    .filter((s) => s.state === 'running')
    .flatMap((s) => {
      if (s.progress) return [`${s.name} ${describeProgress(s.progress)}`];
      // Prepare and cleanup publish their progress once they know the total.
      if (s.name === 'prepare' || s.name === 'cleanup') return [];
      const opening = s.openLag?.count && s.connections.active < s.connections.target ? `, open lag p95 ${ms(s.openLag.p95)}ms` : '';
      return [
        `${s.name} ${s.connections.active}/${s.connections.target} conns${s.latency.count ? ` p95 ${ms(s.latency.p95)}ms` : ''}${opening}`,
      ];
    });
  if (!parts.length) return undefined;
  const failing = snapshot.thresholds.filter((t) => t.verdict === 'fail').length;
  return `${parts.join(', ')}${failing ? `; ${failing} threshold(s) failing` : ''}`;
}

/** Live view: redraws the table in place on a TTY; otherwise writes events and a progress line every few seconds. */
export class ProgressView {
  private drawnLines = 0;
  private lastLineAt = 0;
  private readonly live: boolean;

  constructor(
    private readonly out: Output,
    private readonly err: Output,
    private readonly ndjson: boolean,
  ) {
    this.live = !ndjson && Boolean(out.isTTY);
  }

  event(event: RunEvent): void {
    if (event.level === 'debug') return;
    if (this.live) {
      this.erase();
      this.out.write(formatEvent(event) + '\n');
    } else {
      (this.ndjson ? this.err : this.out).write(formatEvent(event) + '\n');
    }
  }

  snapshot(snapshot: RunSnapshot): void {
    if (this.ndjson) {
      this.out.write(JSON.stringify(snapshot) + '\n');
      return;
    }
    if (this.live) {
      this.erase();
      const lines = renderTable(snapshot, true);
      this.out.write(lines.join('\n') + '\n');
      // Long lines wrap: count the rows they take so the next redraw erases all of them.
      const columns = this.out.columns || 80;
      this.drawnLines = lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(visibleLength(line) / columns)), 0);
      return;
    }
    if (snapshot.now - this.lastLineAt < 5000) return;
    const line = progressLine(snapshot);
    if (!line) return;
    this.lastLineAt = snapshot.now;
    this.out.write(`${new Date(snapshot.now).toISOString().slice(11, 19)} progress ${snapshot.status}: ${line}\n`);
  }

  /** Takes the live table off the screen: the final summary shows the same table once. */
  finish(): void {
    this.erase();
  }

  private erase(): void {
    if (this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }
}

export function renderSummary(result: RunResult, useColor: boolean): string {
  const c = color(useColor);
  const s = result.snapshot;
  const lines = ['', ...renderTable(s, useColor), ''];
  const headline =
    result.exitCode === 130
      ? c.yellow('ABORTED')
      : result.exitCode === 5
        ? c.yellow(c.bold('INCONCLUSIVE'))
        : result.verdict === 'pass'
          ? c.green(c.bold('PASSED'))
          : c.red(c.bold('FAILED'));
  lines.push(`${headline}${s.reason ? `: ${s.reason}` : ''}`);
  for (const stage of s.stages) if (stage.summary) lines.push(`${stage.title}: ${stage.summary}`);
  const cleanup = result.cleanup;
  lines.push(
    `cleanup: ${cleanup.deletedWorkspaces} workspace(s) and ${cleanup.deletedUsers} user(s) deleted` +
      (cleanup.leftovers.length ? c.yellow(`; ${cleanup.leftovers.length} left behind (${cleanupCommandText(s.runId)})`) : ''),
  );
  lines.push(`reports: ${result.reportDir}/report.html (also report.json, junit.xml)`);
  return lines.join('\n') + '\n';
}
