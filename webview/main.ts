// The dashboard webview (browser bundle): renders complete run snapshots sent by the host.
// Stable test hook: #dashboard-root gets data-rendered="true" after the first render.
import {
  dispatchMessage,
  type DashboardCommand,
  type DashboardState,
  type HostToWebview,
  type MessageHandlers,
  type WebviewToHost,
} from '../src/protocol/messages';
import {
  describeRampFigures,
  formatBytes,
  formatCount,
  formatDuration,
  formatMs,
  isFinished,
  thresholdTally,
  totalErrors,
  VERDICT_LABELS,
} from '../src/protocol/format';
import type { RunSnapshot, StageSnapshot, Verdict } from '../src/protocol/snapshot';
import { ChartBoard } from './charts';
import { comparisonSection } from './compareView';
import { byId, h, replace, table } from './dom';
import { renderWorkspaces, workspacesPanel } from './workspacesView';
import { referencePanel, renderReference } from './referenceView';
import { SearchView } from './searchView';

declare function acquireVsCodeApi(): {
  postMessage(message: WebviewToHost): void;
  getState(): DashboardState | undefined;
  setState(state: DashboardState): void;
};
const vscodeApi = acquireVsCodeApi();

const COMMAND_BUTTONS: { id: string; command: DashboardCommand; label: string; aria: string }[] = [
  { id: 'btn-stop', command: 'stopRun', label: 'Stop run', aria: 'Stop the running scale test' },
  { id: 'btn-report', command: 'openReport', label: 'Open report', aria: 'Open the HTML report of this run' },
  { id: 'btn-export', command: 'exportReport', label: 'Export…', aria: 'Export a report of this run' },
  { id: 'btn-log', command: 'showLog', label: 'Show log', aria: 'Show the scale test log' },
];

function buildLayout(): void {
  const app = byId('app');
  replace(
    app,
    h(
      'main',
      { id: 'dashboard-root', 'aria-live': 'off' },
      h(
        'header',
        { class: 'run-header' },
        h('div', { class: 'run-title' }, h('h1', { id: 'title' }, 'Coder Scale Test'), h('div', { id: 'subtitle', class: 'muted' })),
        h('div', { class: 'badges' }, h('span', { id: 'status-badge', class: 'badge' }), h('span', { id: 'elapsed', class: 'num muted' })),
        h(
          'div',
          { class: 'actions', role: 'toolbar', 'aria-label': 'Run actions' },
          ...COMMAND_BUTTONS.map((button) => {
            const element = h('button', { id: button.id, type: 'button', 'aria-label': button.aria }, button.label);
            element.addEventListener('click', () => vscodeApi.postMessage({ type: 'command', command: button.command }));
            return element;
          }),
        ),
      ),
      // Reserved even when empty, so the page does not jump when the warning appears.
      h('div', { id: 'warning', class: 'warning', role: 'status' }),
      h('p', { id: 'empty', class: 'empty muted' }),
      h(
        'div',
        { id: 'run-view' },
        h('section', { id: 'search-view', class: 'search-view', 'aria-label': 'Capacity search' }),
        h('section', { id: 'timeline', class: 'timeline', 'aria-label': 'Stage timeline' }),
        h('section', { id: 'charts', class: 'charts', 'aria-label': 'Charts' }),
        h(
          'div',
          { class: 'panels' },
          h(
            'section',
            { class: 'panel wide', 'aria-labelledby': 'stages-heading' },
            h('h2', { id: 'stages-heading' }, 'Stages'),
            h('div', { id: 'stages' }),
          ),
          h(
            'section',
            { class: 'panel wide', 'aria-labelledby': 'thresholds-heading' },
            h('h2', { id: 'thresholds-heading' }, 'Thresholds'),
            h('div', { id: 'thresholds' }),
          ),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'deployment-heading' },
            h('h2', { id: 'deployment-heading' }, 'Deployment'),
            h('div', { id: 'deployment' }),
          ),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'api-heading' },
            h('h2', { id: 'api-heading' }, 'API'),
            h('div', { id: 'api' }),
          ),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'runner-heading' },
            h('h2', { id: 'runner-heading' }, 'Runner'),
            h('div', { id: 'runner' }),
          ),
          referencePanel(),
          workspacesPanel(),
        ),
      ),
      h('section', { id: 'compare-view', 'aria-label': 'Run comparison' }),
    ),
  );
}

const VERDICT_ICONS: Record<Verdict | 'running', string> = { pass: '✔', fail: '✖', pending: '…', skipped: '–', running: '▶' };

function verdictChip(verdict: Verdict | 'running', text?: string): HTMLElement {
  return h(
    'span',
    { class: `verdict verdict-${verdict}` },
    h('span', { 'aria-hidden': 'true' }, VERDICT_ICONS[verdict]),
    ` ${text ?? VERDICT_LABELS[verdict as Verdict] ?? verdict}`,
  );
}

function keyValues(rows: [string, string | HTMLElement][]): HTMLElement {
  return h('dl', { class: 'kv' }, ...rows.flatMap(([key, value]) => [h('dt', {}, key), h('dd', { class: 'num' }, value)]));
}

function stageVerdict(stage: StageSnapshot): Verdict | 'running' {
  return stage.verdict === 'pending' && (stage.state === 'running' || stage.state === 'stopping') ? 'running' : stage.verdict;
}

function renderTimeline(snapshot: RunSnapshot): void {
  const container = byId('timeline');
  const stages = snapshot.stages.filter((stage) => stage.plannedStartMs !== undefined && stage.plannedEndMs !== undefined);
  const span = Math.max(snapshot.timelineMs, 1);
  const t0 = snapshot.timelineStartedAt;
  const nowOffset = t0 === undefined ? undefined : Math.min(Math.max(snapshot.now - t0, 0), span);
  const percent = (ms: number) => `${Math.min(Math.max((ms / span) * 100, 0), 100)}%`;
  const slots = snapshot.slotMs > 0 ? Math.round(span / snapshot.slotMs) : 0;

  const rows = stages.map((stage) => {
    const planned = h('div', {
      class: 'bar planned',
      title: `planned ${formatDuration(stage.plannedStartMs!)}–${formatDuration(stage.plannedEndMs!)}`,
    });
    planned.style.left = percent(stage.plannedStartMs!);
    planned.style.width = percent(stage.plannedEndMs! - stage.plannedStartMs!);
    const track = h('div', { class: 'track' }, planned);
    if (t0 !== undefined && stage.startedAt !== undefined) {
      const actual = h('div', { class: `bar actual verdict-bg-${stageVerdict(stage)}` });
      const start = stage.startedAt - t0;
      actual.style.left = percent(start);
      actual.style.width = percent((stage.endedAt ?? snapshot.now) - stage.startedAt);
      track.appendChild(actual);
    }
    return h('div', { class: 'timeline-row' }, h('span', { class: 'timeline-label' }, stage.title), track);
  });
  const axis = h('div', { class: 'timeline-axis', 'aria-hidden': 'true' });
  for (let slot = 0; slot <= slots; slot++) {
    const tick = h('span', {}, `T${slot}`);
    tick.style.left = percent(slot * snapshot.slotMs);
    axis.appendChild(tick);
  }
  const body = h('div', { class: 'timeline-body' }, ...rows);
  if (nowOffset !== undefined && !isFinished(snapshot)) {
    const now = h('div', { class: 'now-line', title: `now: ${formatDuration(nowOffset)} into the timeline` });
    now.style.left = percent(nowOffset);
    body.appendChild(h('div', { class: 'now-layer' }, now));
  }
  const label =
    nowOffset === undefined
      ? 'Traffic has not started yet'
      : `${formatDuration(nowOffset)} of ${formatDuration(span)} into the traffic timeline`;
  replace(
    container,
    h('h2', {}, 'Timeline ', h('span', { class: 'muted num' }, label)),
    body,
    h('div', { class: 'timeline-axis-row' }, h('span', { class: 'timeline-label' }), axis),
  );
}

function renderStages(snapshot: RunSnapshot): void {
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

function renderThresholds(snapshot: RunSnapshot): void {
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

function renderDeployment(snapshot: RunSnapshot): void {
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

function renderApi(snapshot: RunSnapshot): void {
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

function renderRunner(snapshot: RunSnapshot): void {
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

function setButtons(snapshot: RunSnapshot | undefined, source: 'live' | 'report' | undefined): void {
  const running = snapshot !== undefined && source === 'live' && !isFinished(snapshot);
  byId<HTMLButtonElement>('btn-stop').disabled = !running;
  byId<HTMLButtonElement>('btn-report').disabled = !snapshot?.reportDir || running;
  byId<HTMLButtonElement>('btn-export').disabled = !snapshot?.reportDir || running;
}

function showView(view: 'run' | 'compare' | 'empty'): void {
  byId('run-view').hidden = view !== 'run';
  byId('compare-view').hidden = view !== 'compare';
  byId('empty').hidden = view !== 'empty';
}

buildLayout();
const board = new ChartBoard(byId('charts'));
const searchView = new SearchView(byId('search-view'));
let current: DashboardState | undefined;

function renderSnapshot(snapshot: RunSnapshot, source: 'live' | 'report'): void {
  showView('run');
  byId('title').textContent = snapshot.planName;
  byId('subtitle').textContent = `${snapshot.runId} · ${snapshot.deploymentUrl}${source === 'report' ? ' · from report' : ''}`;
  const badge = byId('status-badge');
  const finished = isFinished(snapshot);
  replace(
    badge,
    verdictChip(
      finished ? snapshot.verdict : 'running',
      finished ? `${snapshot.status}, ${VERDICT_LABELS[snapshot.verdict]}` : snapshot.status,
    ),
  );
  byId('elapsed').textContent = formatDuration(snapshot.now - snapshot.startedAt);
  const warning = byId('warning');
  const warnings = [
    snapshot.runner.overloaded
      ? `⚠ ${snapshot.runner.warning ?? 'The runner is overloaded: latencies may reflect this machine, not the deployment.'}`
      : '',
    snapshot.reason && snapshot.verdict === 'fail' ? `✖ ${snapshot.reason}` : '',
  ].filter(Boolean);
  warning.textContent = warnings.join(' ');
  warning.classList.toggle('active', warnings.length > 0);
  setButtons(snapshot, source);
  renderTimeline(snapshot);
  board.render(snapshot);
  searchView.render(snapshot.search);
  renderStages(snapshot);
  renderThresholds(snapshot);
  renderDeployment(snapshot);
  renderApi(snapshot);
  renderRunner(snapshot);
  renderReference(snapshot);
  renderWorkspaces(snapshot);
}

function compareRow(
  label: string,
  left: number | undefined,
  right: number | undefined,
  format: (n: number) => string,
): (string | HTMLElement)[] {
  const delta = left !== undefined && right !== undefined ? right - left : undefined;
  const deltaText = delta === undefined ? '–' : `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${format(Math.abs(delta))}`;
  return [
    label,
    left === undefined ? '–' : format(left),
    right === undefined ? '–' : format(right),
    h('span', { class: delta && delta > 0 ? 'worse' : delta && delta < 0 ? 'better' : undefined }, deltaText),
  ];
}

function renderCompare(message: Extract<HostToWebview, { type: 'compare' }>): void {
  showView('compare');
  board.clear();
  searchView.clear();
  const { left, right } = message;
  byId('title').textContent = `${left.label} vs ${right.label}`;
  byId('subtitle').textContent =
    `${left.snapshot.runId} (${left.snapshot.deploymentUrl}) · ${right.snapshot.runId} (${right.snapshot.deploymentUrl})`;
  replace(byId('status-badge'), verdictChip(left.snapshot.verdict), ' → ', verdictChip(right.snapshot.verdict));
  byId('elapsed').textContent = '';
  byId('warning').textContent = '';
  byId('warning').classList.remove('active');
  setButtons(undefined, undefined);

  const stageNames = [...new Set([...left.snapshot.stages, ...right.snapshot.stages].map((stage) => stage.name))];
  const rows: (string | HTMLElement)[][] = [];
  for (const name of stageNames) {
    const a = left.snapshot.stages.find((stage) => stage.name === name);
    const b = right.snapshot.stages.find((stage) => stage.name === name);
    const title = (a ?? b)!.title;
    // Only figures at least one run has: no rows of dashes for stages without round trips.
    if (a?.latency.count || b?.latency.count) {
      for (const figure of ['p50', 'p95', 'p99'] as const) {
        rows.push(
          compareRow(
            `${title} ${figure}`,
            a?.latency.count ? a.latency[figure] : undefined,
            b?.latency.count ? b.latency[figure] : undefined,
            formatMs,
          ),
        );
      }
    }
    rows.push(compareRow(`${title} errors`, a ? totalErrors(a) : undefined, b ? totalErrors(b) : undefined, formatCount));
    if (name !== 'prepare' && name !== 'cleanup')
      rows.push(compareRow(`${title} disconnects`, a?.disconnects, b?.disconnects, formatCount));
  }
  rows.push(compareRow('API p95', left.snapshot.api.total.latency.p95, right.snapshot.api.total.latency.p95, formatMs));
  rows.push(compareRow('API 5xx', left.snapshot.api.total.errors5xx, right.snapshot.api.total.errors5xx, formatCount));
  rows.push(
    compareRow('Duration', left.snapshot.now - left.snapshot.startedAt, right.snapshot.now - right.snapshot.startedAt, formatDuration),
  );

  const expressions = [...new Set([...left.snapshot.thresholds, ...right.snapshot.thresholds].map((t) => t.expression))];
  const thresholdRows = expressions.map((expression) => {
    const a = left.snapshot.thresholds.find((t) => t.expression === expression);
    const b = right.snapshot.thresholds.find((t) => t.expression === expression);
    return [
      h('code', {}, expression),
      a ? verdictChip(a.verdict, a.observed === null ? 'no data' : a.observedText) : '–',
      b ? verdictChip(b.verdict, b.observed === null ? 'no data' : b.observedText) : '–',
    ];
  });
  replace(
    byId('compare-view'),
    comparisonSection(message),
    h(
      'section',
      { class: 'panel wide' },
      h('h2', {}, 'Figures'),
      table('Figures of both runs', ['Figure', left.label, right.label, 'Change'], rows),
    ),
    h(
      'section',
      { class: 'panel wide' },
      h('h2', {}, 'Thresholds'),
      table('Thresholds of both runs', ['Expression', left.label, right.label], thresholdRows),
    ),
  );
}

function renderEmpty(message: string): void {
  showView('empty');
  board.clear();
  searchView.clear();
  byId('title').textContent = 'Coder Scale Test';
  byId('subtitle').textContent = '';
  byId('status-badge').replaceChildren();
  byId('elapsed').textContent = '';
  byId('empty').textContent = message;
  setButtons(undefined, undefined);
}

function show(state: DashboardState): void {
  current = state;
  if (state.type === 'snapshot') renderSnapshot(state.snapshot, state.source);
  else if (state.type === 'compare') renderCompare(state);
  else renderEmpty(state.message);
  byId('dashboard-root').dataset.rendered = 'true';
}

const handlers: MessageHandlers<HostToWebview> = {
  snapshot: (message) => {
    show(message);
    vscodeApi.setState(message);
  },
  compare: (message) => {
    show(message);
    vscodeApi.setState(message);
  },
  empty: (message) => {
    show(message);
    vscodeApi.setState(message);
  },
  theme: () => {
    if (current) show(current);
  },
  probe: () => {
    vscodeApi.postMessage({
      type: 'rendered',
      charts: { ...board.pointCounts(), ...searchView.pointCounts() },
      title: byId('title').textContent ?? '',
    });
  },
};

window.addEventListener('message', (event: MessageEvent<unknown>) => dispatchMessage(handlers, event.data));
// VS Code swaps the body's theme class (vscode-light / vscode-dark / high contrast) on theme change.
new MutationObserver(() => current && show(current)).observe(document.body, { attributes: true, attributeFilter: ['class'] });

const restored = vscodeApi.getState();
show(restored ?? { type: 'empty', message: 'Waiting for a run…' });
vscodeApi.postMessage({ type: 'ready' });
