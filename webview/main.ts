// The dashboard webview (browser bundle): renders complete run snapshots sent by the host.
// Stable test hook: #dashboard-root gets data-rendered="true" after the first render.
// This file lays out the page and routes the host's messages; each view renders in its own module.
import {
  dispatchMessage,
  type LiveViewCommand,
  type LiveViewState,
  type HostToWebview,
  type MessageHandlers,
  type WebviewToHost,
} from '../src/protocol/messages';
import { formatDuration, isFinished, VERDICT_LABELS } from '../src/protocol/format';
import type { RunSnapshot } from '../src/protocol/snapshot';
import { ChartBoard } from './charts';
import { comparisonSection, figurePanels } from './compareView';
import { byId, h, replace } from './dom';
import { renderApi, renderDeployment, renderRunner, renderStages, renderThresholds } from './runPanels';
import { renderWorkspaces, workspacesPanel } from './workspacesView';
import { referencePanel, renderReference } from './referenceView';
import { SearchView } from './searchView';
import { renderTimeline } from './timelineView';
import { verdictChip } from './verdicts';

declare function acquireVsCodeApi(): {
  postMessage(message: WebviewToHost): void;
  getState(): LiveViewState | undefined;
  setState(state: LiveViewState): void;
};
const vscodeApi = acquireVsCodeApi();

const COMMAND_BUTTONS: { id: string; command: LiveViewCommand; label: string; aria: string }[] = [
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
let current: LiveViewState | undefined;

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
  replace(byId('compare-view'), comparisonSection(message), ...figurePanels(message));
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

function show(state: LiveViewState): void {
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
