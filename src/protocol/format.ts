// Number formatting shared by the extension host (tree, status bar, test messages) and the
// dashboard webview, so the same figure reads the same everywhere.
import type { RunSnapshot, StageProgress, StageSnapshot, Verdict } from './snapshot';

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms >= 100) return `${Math.round(ms)}ms`;
  return `${ms.toFixed(1)}ms`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  if (minutes === 0) return `${seconds}s`;
  const hours = Math.floor(minutes / 60);
  if (hours === 0) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatCount(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

export const VERDICT_LABELS: Record<Verdict, string> = {
  pending: 'pending',
  pass: 'passed',
  fail: 'failed',
  skipped: 'skipped',
};

export function totalErrors(stage: StageSnapshot): number {
  return Object.values(stage.errors).reduce((sum, n) => sum + n, 0);
}

/** Highest recent p95 over the traffic stages that are running (the number to watch). */
export function worstRecentP95(snapshot: RunSnapshot): { stage: StageSnapshot; p95: number } | undefined {
  let worst: { stage: StageSnapshot; p95: number } | undefined;
  for (const stage of snapshot.stages) {
    if (stage.name === 'prepare' || stage.name === 'cleanup') continue;
    const summary = stage.state === 'running' && stage.recentLatency.count > 0 ? stage.recentLatency : stage.latency;
    if (summary.count === 0) continue;
    if (!worst || summary.p95 > worst.p95) worst = { stage, p95: summary.p95 };
  }
  return worst;
}

export function thresholdTally(snapshot: RunSnapshot): { pass: number; fail: number; pending: number } {
  const tally = { pass: 0, fail: 0, pending: 0 };
  for (const threshold of snapshot.thresholds) {
    if (threshold.verdict === 'pass') tally.pass++;
    else if (threshold.verdict === 'fail') tally.fail++;
    else if (threshold.verdict === 'pending') tally.pending++;
  }
  return tally;
}

export function isFinished(snapshot: RunSnapshot): boolean {
  return snapshot.status === 'finished' || snapshot.status === 'aborted' || snapshot.status === 'error';
}

/** Prepare/cleanup progress in words, e.g. `3/10 done, 1 failed, 4 queued, 2 building`. */
export function describeProgress(progress: StageProgress): string {
  const parts = [`${progress.done}/${progress.total} done`];
  if (progress.failed) parts.push(`${progress.failed} failed`);
  if (progress.queued) parts.push(`${progress.queued} queued`);
  if (progress.building) parts.push(`${progress.building} building`);
  return parts.join(', ');
}

/**
 * An echo stage's ramp and open lag in a few words, the same in every view, e.g.
 * "50/s · open lag p95 120ms · held back 1.2s" (undefined for stages without a ramp).
 */
export function describeRampFigures(stage: StageSnapshot): string | undefined {
  if (!stage.ramp) return undefined;
  const rate = stage.ramp.connectionsPerSecond === null ? 'all at once' : `${Math.round(stage.ramp.connectionsPerSecond * 10) / 10}/s`;
  const parts = [rate];
  if (stage.openLag && stage.openLag.count > 0) parts.push(`open lag p95 ${formatMs(stage.openLag.p95)}`);
  if (stage.ramp.heldBackMs > 0) parts.push(`held back ${formatMs(stage.ramp.heldBackMs)}`);
  return parts.join(' · ');
}

/**
 * The runner's own CPU and memory with its child processes beside them, e.g.
 * "CPU 18% (+ 192 child processes 175%: coder CLI 170%, Chromium 5%), RSS 203.0 MiB (+ 8.4 GiB)".
 */
export function describeRunnerResources(runner: RunSnapshot['runner']): string {
  const children = runner.children;
  const kinds = children?.kinds.filter((k) => k.count > 0).map((k) => `${k.count} ${k.kind} ${Math.round(k.cpuPercent)}%`) ?? [];
  const cpu =
    `CPU ${Math.round(runner.cpuPercent)}%` +
    (children && children.count > 0
      ? ` (+ ${children.count} child process${children.count === 1 ? '' : 'es'} ${Math.round(children.cpuPercent)}%${kinds.length ? `: ${kinds.join(', ')}` : ''})`
      : '');
  const rss = `RSS ${formatBytes(runner.rssBytes)}${children && children.count > 0 ? ` (+ ${formatBytes(children.rssBytes)})` : ''}`;
  return `${cpu}, ${rss}${runner.cores ? ` of ${runner.cores} cores` : ''}`;
}
