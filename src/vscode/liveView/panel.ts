// Host side of the live view webview ("Scale Test Dashboard"): one panel, restored after a reload by a serializer.
// It keeps only the newest state and sends it complete (never deltas) when the webview says
// it is ready, when it becomes visible again and whenever a new snapshot arrives while it is
// visible; a hidden webview would drop messages anyway.
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import {
  dispatchMessage,
  type LiveViewCommand,
  type LiveViewState,
  type HostToWebview,
  type MessageHandlers,
  type WebviewToHost,
} from '../../protocol/messages';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { CommandId } from '../commandIds';

const VIEW_TYPE = 'coderScaletest.dashboard';
const TITLE = 'Scale Test Dashboard';

const COMMAND_FOR: Record<LiveViewCommand, CommandId> = {
  stopRun: 'coderScaletest.stopRun',
  openReport: 'coderScaletest.openReportFile',
  exportReport: 'coderScaletest.exportReport',
  showLog: 'coderScaletest.showLog',
};

export interface RenderedReport {
  charts: Record<string, number>;
  title: string;
}

export class LiveViewPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private latest: LiveViewState = {
    type: 'empty',
    message: 'No run yet. Run a plan from the Plans view, or open a past run from the Runs view.',
  };
  private pinned = false;
  private pendingProbes: ((report: RenderedReport) => void)[] = [];
  /** Test hook: every message posted to the webview, serialised, while recording. */
  private recording: string[] | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
          // The webview redraws its own saved state at once; the host adopts it as the newest
          // unless a live run has published something since.
          if (this.latest.type === 'empty' && isLiveViewState(state)) this.latest = state;
          this.attach(panel);
        },
      }),
      vscode.window.onDidChangeActiveColorTheme(() => this.post({ type: 'theme' })),
    );
  }

  /** The extra data a command from the webview refers to (the run being shown). */
  private shownRunDir(): string | undefined {
    return this.latest.type === 'snapshot' ? this.latest.snapshot.reportDir : undefined;
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.attach(
      vscode.window.createWebviewPanel(VIEW_TYPE, TITLE, vscode.ViewColumn.Active, { enableScripts: true, retainContextWhenHidden: false }),
    );
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** A live run's snapshot: shown unless the user pinned a past run or a comparison. */
  showLive(snapshot: RunSnapshot): void {
    if (!this.pinned) this.update({ type: 'snapshot', snapshot, source: 'live' });
  }

  /** A past run or a comparison, kept on screen while a live run goes on, until `unpin`. */
  pin(state: LiveViewState): void {
    this.pinned = true;
    this.update(state);
  }

  unpin(): void {
    this.pinned = false;
  }

  /** Replaces what the dashboard shows; sent now if it is visible, else when it becomes visible. */
  private update(state: LiveViewState): void {
    this.latest = state;
    if (this.panel?.visible) this.post(state);
  }

  /** Asks the webview what it rendered (integration tests). */
  probe(timeoutMs = 10_000): Promise<RenderedReport> {
    if (!this.panel) return Promise.reject(new Error('the dashboard is not open'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingProbes = this.pendingProbes.filter((pending) => pending !== answer);
        reject(new Error(`the dashboard did not answer a probe within ${timeoutMs} ms`));
      }, timeoutMs);
      const answer = (report: RenderedReport) => {
        clearTimeout(timer);
        resolve(report);
      };
      this.pendingProbes.push(answer);
      this.post({ type: 'probe' });
    });
  }

  /** Starts (or stops, returning what was seen) recording every message posted to the webview. */
  recordPosts(on: boolean): string[] {
    const seen = this.recording ?? [];
    this.recording = on ? [] : undefined;
    return seen;
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    const mediaRoot = vscode.Uri.joinPath(this.extensionUri, 'media');
    const distRoot = vscode.Uri.joinPath(this.extensionUri, 'dist');
    panel.webview.options = { enableScripts: true, localResourceRoots: [distRoot, mediaRoot] };
    panel.iconPath = vscode.Uri.joinPath(mediaRoot, 'scaletest.svg');
    panel.webview.html = dashboardHtml(panel.webview, distRoot, mediaRoot);
    const handlers: MessageHandlers<WebviewToHost> = {
      ready: () => this.post(this.latest),
      command: (message) => {
        const runDir = this.shownRunDir();
        void vscode.commands.executeCommand(COMMAND_FOR[message.command], runDir ? { runDir } : undefined);
      },
      rendered: (message) => {
        const waiting = this.pendingProbes;
        this.pendingProbes = [];
        for (const answer of waiting) answer({ charts: message.charts, title: message.title });
      },
    };
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => dispatchMessage(handlers, message)),
      panel.onDidChangeViewState(() => {
        if (panel.visible) this.post(this.latest);
      }),
      panel.onDidDispose(() => {
        this.panel = undefined;
        for (const disposable of this.panelDisposables) disposable.dispose();
        this.panelDisposables = [];
      }),
    );
  }

  private post(message: HostToWebview): void {
    if (!this.panel) return;
    this.recording?.push(JSON.stringify(message));
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

function isLiveViewState(value: unknown): value is LiveViewState {
  const type = (value as { type?: unknown } | undefined)?.type;
  return type === 'snapshot' || type === 'compare' || type === 'empty';
}

function dashboardHtml(webview: vscode.Webview, distRoot: vscode.Uri, mediaRoot: vscode.Uri): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(distRoot, 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'dashboard.css'));
  // chart.js sizes canvases through element.style (CSSOM), which CSP does not block, so no
  // 'unsafe-inline' is needed.
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${style}">
<title>${TITLE}</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
