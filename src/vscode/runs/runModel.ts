// What the Runs tree, the status bar and the Test Explorer say about a run, computed from a
// snapshot without touching VS Code, so it is unit-testable.
import {
  describeProgress,
  formatCount,
  formatDuration,
  formatMs,
  isFinished,
  thresholdTally,
  totalErrors,
  VERDICT_LABELS,
  worstRecentP95,
} from '../../protocol/format';
import type { RunSnapshot, StageSnapshot, ThresholdSnapshot, Verdict } from '../../protocol/snapshot';
import { describeProblems, describeWorkspace, PREPARE_STAGE, problemsOf, type WorkspaceRow } from '../../protocol/workspaces';

/** Which icon to show: a verdict, or "running" while a stage is under way. */
export type NodeIcon = Verdict | 'running';

export interface RunChildNode {
  kind: 'stage' | 'threshold' | 'workspace';
  id: string;
  label: string;
  description: string;
  tooltip: string;
  icon: NodeIcon;
  /** A stage's worst workspaces (the snapshot's bounded list), worst first. */
  children?: RunChildNode[];
}

export interface RunNodeModel {
  label: string;
  description: string;
  tooltip: string;
  icon: NodeIcon;
  children: RunChildNode[];
}

export const REPORT_FILES = ['report.html', 'report.json', 'junit.xml'] as const;
export type ReportFile = (typeof REPORT_FILES)[number];

export function stageDurationMs(stage: StageSnapshot, now: number): number | undefined {
  if (stage.startedAt === undefined) return undefined;
  return (stage.endedAt ?? now) - stage.startedAt;
}

function stageIcon(stage: StageSnapshot): NodeIcon {
  if (stage.verdict !== 'pending') return stage.verdict;
  return stage.state === 'running' || stage.state === 'stopping' ? 'running' : 'pending';
}

export function describeStage(stage: StageSnapshot, now: number): RunChildNode {
  const parts: string[] = [];
  if (stage.progress) {
    parts.push(describeProgress(stage.progress));
  } else if (stage.state !== 'skipped') {
    parts.push(`${stage.connections.active}/${stage.connections.target} conn`);
  }
  if (stage.latency.count > 0) parts.push(`p95 ${formatMs(stage.latency.p95)}`);
  const errors = totalErrors(stage);
  if (errors > 0) parts.push(`${formatCount(errors)} errors`);
  if (stage.disconnects > 0) parts.push(`${formatCount(stage.disconnects)} disconnects`);
  const duration = stageDurationMs(stage, now);
  if (duration !== undefined) parts.push(formatDuration(duration));
  if (stage.state === 'skipped') parts.push('skipped');

  const tooltip = [
    `${stage.title}: ${stage.state}, ${VERDICT_LABELS[stage.verdict]}`,
    stage.latency.count > 0
      ? `round trips ${formatCount(stage.latency.count)}: p50 ${formatMs(stage.latency.p50)}, p95 ${formatMs(stage.latency.p95)}, p99 ${formatMs(stage.latency.p99)}, max ${formatMs(stage.latency.max)}`
      : undefined,
    errors > 0
      ? `errors: ${Object.entries(stage.errors)
          .map(([kind, n]) => `${kind} ${n}`)
          .join(', ')}`
      : undefined,
    stage.reason,
  ]
    .filter((line): line is string => Boolean(line))
    .join('\n');
  return { kind: 'stage', id: `stage:${stage.name}`, label: stage.title, description: parts.join(' · '), tooltip, icon: stageIcon(stage) };
}

/** One of a stage's worst workspaces: what went wrong and its own p95 (prepare: its times). */
export function describeWorkspaceNode(row: WorkspaceRow, stage: string): RunChildNode {
  const figures = row.stages[stage];
  const problems = describeProblems(row, stage);
  const times =
    stage === PREPARE_STAGE
      ? [
          row.buildMs === undefined ? '' : `build ${formatMs(row.buildMs)}`,
          row.agentReadyMs === undefined ? '' : `agent ready ${formatMs(row.agentReadyMs)}`,
        ]
      : figures?.rtt.count
        ? [`p95 ${formatMs(figures.rtt.p95)}`, `max ${formatMs(figures.rtt.max)}`]
        : [];
  const failed = stage === PREPARE_STAGE ? row.prepareError !== undefined : !!figures && problemsOf(figures) > 0;
  const description = [problems, ...times].filter(Boolean).join(' · ');
  return {
    kind: 'workspace',
    id: `stage:${stage}:workspace:${row.index}`,
    label: row.workspace || `user ${row.index}`,
    description,
    tooltip: [
      describeWorkspace(row),
      description,
      figures ? `connects ${figures.connects}, reconnects ${figures.reconnects}, round trips ${formatCount(figures.rtt.count)}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
    icon: failed ? 'fail' : 'pass',
  };
}

export function describeThreshold(threshold: ThresholdSnapshot): RunChildNode {
  const observed = threshold.observed === null ? 'no data yet' : `observed ${threshold.observedText}`;
  return {
    kind: 'threshold',
    id: `threshold:${threshold.expression}`,
    label: threshold.expression,
    description: threshold.limit ? `${observed} · limit ${threshold.limit}` : observed,
    tooltip: [
      `${threshold.expression}: ${VERDICT_LABELS[threshold.verdict]}, ${observed}`,
      threshold.limit && `limit ${threshold.limit}`,
      threshold.abortOnFail ? 'aborts the run when breached' : undefined,
      threshold.reason,
    ]
      .filter((line): line is string => Boolean(line))
      .join('\n'),
    icon: threshold.verdict,
  };
}

export function describeRun(snapshot: RunSnapshot, live: boolean): RunNodeModel {
  const started = new Date(snapshot.startedAt);
  const finished = isFinished(snapshot);
  const icon: NodeIcon = finished || snapshot.verdict !== 'pending' ? snapshot.verdict : 'running';
  const description = [
    live && !finished ? `${snapshot.status}` : VERDICT_LABELS[snapshot.verdict],
    formatDuration(snapshot.now - snapshot.startedAt),
    started.toISOString().replace('T', ' ').slice(0, 16),
  ].join(' · ');
  return {
    label: `${live && !finished ? '● ' : ''}${snapshot.planName} (${snapshot.runId})`,
    description,
    tooltip: [
      `Run ${snapshot.runId} of ${snapshot.planName} against ${snapshot.deploymentUrl}`,
      `status ${snapshot.status}, ${VERDICT_LABELS[snapshot.verdict]}`,
      snapshot.reason,
    ]
      .filter((line): line is string => Boolean(line))
      .join('\n'),
    icon,
    children: [
      ...snapshot.stages.map((stage) => {
        const worst = snapshot.workspaces?.worst[stage.name];
        const node = describeStage(stage, snapshot.now);
        return worst?.length ? { ...node, children: worst.map((row) => describeWorkspaceNode(row, stage.name)) } : node;
      }),
      ...snapshot.thresholds.map(describeThreshold),
    ],
  };
}

/** Status bar text while a run is going: stage, active connections, worst p95, pass/fail so far. */
export function statusBarSummary(snapshot: RunSnapshot): { text: string; tooltip: string } {
  const stage = snapshot.stages.find((s) => s.name === snapshot.currentStage);
  const active = snapshot.stages.reduce((sum, s) => sum + (s.state === 'running' ? s.connections.active : 0), 0);
  const worst = worstRecentP95(snapshot);
  const tally = thresholdTally(snapshot);
  const icon = tally.fail > 0 ? '$(error)' : isFinished(snapshot) ? '$(pass)' : '$(pulse)';
  const stageText = isFinished(snapshot) ? VERDICT_LABELS[snapshot.verdict] : (stage?.title ?? snapshot.status);
  const text = `${icon} ${stageText} · ${active} conn · p95 ${worst ? formatMs(worst.p95) : '–'} · ${tally.pass}✓ ${tally.fail}✗`;
  const tooltip = [
    `Scale test ${snapshot.planName} (${snapshot.runId}): ${snapshot.status}`,
    `Active connections: ${active}`,
    worst ? `Worst p95: ${formatMs(worst.p95)} (${worst.stage.title})` : 'No round trips yet',
    `Thresholds: ${tally.pass} passed, ${tally.fail} failed, ${tally.pending} pending`,
    'Click to open the dashboard',
  ].join('\n');
  return { text, tooltip };
}

/** One line for a failed stage or threshold in the Test Explorer. */
export function failureMessage(node: StageSnapshot | ThresholdSnapshot): string {
  if ('expression' in node) {
    return `${node.expression} failed: observed ${node.observed === null ? 'no data' : node.observedText}${node.reason ? ` (${node.reason})` : ''}`;
  }
  const figures = node.latency.count > 0 ? `; p95 ${formatMs(node.latency.p95)}, p99 ${formatMs(node.latency.p99)}` : '';
  return `${node.title} failed${node.reason ? `: ${node.reason}` : ''}${figures}; ${totalErrors(node)} errors, ${node.disconnects} disconnects`;
}
