// The run view's panels of figures: stages, thresholds, the deployment, coderd's API and
// this runner, each rendered into its element of the layout from a complete snapshot.
import { describeRampFigures, formatBytes, formatCount, formatMs, thresholdTally, totalErrors } from '../src/protocol/format';
import type { RunSnapshot } from '../src/protocol/snapshot';
import { byId, h, replace, table } from './dom';
import { stageVerdict, verdictChip } from './verdicts';

function keyValues(rows: [string, string | HTMLElement][]): HTMLElement {
  return h('dl', { class: 'kv' }, ...rows.flatMap(([key, value]) => [h('dt', {}, key), h('dd', { class: 'num' }, value)]));
}

export function renderStages(snapshot: RunSnapshot): void {
  const rows = snapshot.stages.map((stage) => {
    const active = stage.progress
      ? `${stage.progress.done}/${stage.progress.total}`
      : `${stage.connections.active}/${stage.connections.target}`;
    const latency = stage.latency.count > 0 ? stage.latency : undefined;
    return [
      stage.title,
      verdictChip(stageVerdict(stage), stage.state === 'running' ? 'running' : undefined),
      active,
      latency ? formatMs(latency.p50) : '–',
      latency ? formatMs(latency.p95) : '–',
      latency ? formatMs(latency.p99) : '–',
      describeRampFigures(stage) ?? '–',
      formatCount(stage.completed),
      formatCount(totalErrors(stage) + stage.mismatches),
      formatCount(stage.disconnects),
    ];
  });
  replace(
    byId('stages'),
    table('Stages', ['Stage', 'Verdict', 'Active/target', 'p50', 'p95', 'p99', 'Ramp', 'Done', 'Errors', 'Disc.'], rows, 2),
  );
}

export function renderThresholds(snapshot: RunSnapshot): void {
  const tally = thresholdTally(snapshot);
  const rows = snapshot.thresholds.map((threshold) => [
    threshold.limit
      ? h('span', {}, h('code', {}, threshold.expression), h('br'), h('span', { class: 'muted' }, threshold.limit))
      : h('code', {}, threshold.expression),
    verdictChip(threshold.verdict),
    threshold.observed === null ? 'no data' : threshold.observedText,
    threshold.reason ?? (threshold.abortOnFail ? 'aborts when breached' : ''),
  ]);
  replace(
    byId('thresholds'),
    h('p', { class: 'muted num' }, `${tally.pass} passed · ${tally.fail} failed · ${tally.pending} pending`),
    rows.length
      ? table('Thresholds', ['Expression', 'Verdict', 'Observed', 'Note'], rows, 2)
      : h('p', { class: 'muted' }, 'This plan has no thresholds.'),
  );
}

export function renderDeployment(snapshot: RunSnapshot): void {
  const deployment = snapshot.deployment;
  const rows: [string, string | HTMLElement][] = [
    ['URL', deployment.url],
    ['Version', deployment.version ?? '–'],
    ['Health', verdictChip(deployment.healthy ? 'pass' : 'fail', deployment.healthy ? 'healthy' : 'unhealthy')],
    ['Restarts', formatCount(deployment.restarts)],
    ['Health check', deployment.healthLatencyMs === undefined ? '–' : formatMs(deployment.healthLatencyMs)],
  ];
  if (deployment.stats) {
    const stats = deployment.stats;
    rows.push(['Workspaces', `${stats.workspacesRunning} running, ${stats.workspacesBuilding} building, ${stats.workspacesFailed} failed`]);
    rows.push(['Sessions', `${stats.sessionsSsh} SSH, ${stats.sessionsReconnectingPty} terminal, ${stats.sessionsVscode} VS Code`]);
  }
  const prom = deployment.prometheus;
  if (prom) {
    if (prom.cpuCores !== undefined) rows.push(['coderd CPU', `${prom.cpuCores.toFixed(2)} cores`]);
    if (prom.residentMemoryBytes !== undefined) rows.push(['coderd memory', formatBytes(prom.residentMemoryBytes)]);
    if (prom.apiRequestsPerSecond !== undefined) rows.push(['API req/s', prom.apiRequestsPerSecond.toFixed(1)]);
    if (prom.apiLatencyP95Ms !== undefined) rows.push(['API p95 (coderd)', formatMs(prom.apiLatencyP95Ms)]);
    if (prom.concurrentWebsockets !== undefined) rows.push(['WebSockets', formatCount(prom.concurrentWebsockets)]);
    if (prom.scrapeError) rows.push(['Prometheus', prom.scrapeError]);
  }
  if (deployment.lastError) rows.push(['Last error', deployment.lastError]);
  replace(byId('deployment'), keyValues(rows));
}

export function renderApi(snapshot: RunSnapshot): void {
  const total = snapshot.api.total;
  const rows: [string, string][] = [
    ['Requests', formatCount(total.requests)],
    ['4xx / 5xx', `${formatCount(total.errors4xx)} / ${formatCount(total.errors5xx)}`],
    ['Network errors', formatCount(total.networkErrors)],
    ['p95 / p99', total.latency.count ? `${formatMs(total.latency.p95)} / ${formatMs(total.latency.p99)}` : '–'],
  ];
  const classes = Object.entries(snapshot.api.byClass).filter(([, api]) => api.requests > 0);
  replace(
    byId('api'),
    keyValues(rows),
    classes.length
      ? table(
          'API by endpoint class',
          ['Class', 'Requests', '5xx', 'p95'],
          classes.map(([name, api]) => [name, formatCount(api.requests), formatCount(api.errors5xx), formatMs(api.latency.p95)]),
        )
      : null,
  );
}

export function renderRunner(snapshot: RunSnapshot): void {
  const runner = snapshot.runner;
  replace(
    byId('runner'),
    keyValues([
      ['CPU', `${runner.cpuPercent.toFixed(0)}%${runner.cores ? ` (of ${runner.cores} cores)` : ''}`],
      ['Memory (RSS)', formatBytes(runner.rssBytes)],
      ['Heap used', formatBytes(runner.heapUsedBytes)],
      [
        'Child processes',
        runner.children
          ? runner.children.count === 0
            ? 'none'
            : `${runner.children.count}: CPU ${runner.children.cpuPercent.toFixed(0)}%, RSS ${formatBytes(runner.children.rssBytes)}` +
              ` (${runner.children.kinds.map((k) => `${k.count} ${k.kind}`).join(', ')})`
          : (runner.childrenUnavailable ?? '–'),
      ],
      ['Event-loop lag p99', formatMs(runner.eventLoopLagP99Ms)],
      ['Overloaded', runner.overloaded ? verdictChip('fail', 'yes') : verdictChip('pass', 'no')],
    ]),
  );
}
