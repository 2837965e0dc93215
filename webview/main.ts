// The dashboard webview (browser bundle).
// Stable test hook: #dashboard-root gets data-rendered="true" after the first render.
import type { HostToWebview, WebviewToHost } from '../src/protocol/messages';

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void; getState(): unknown; setState(state: unknown): void };
const vscodeApi = acquireVsCodeApi();

const app = document.getElementById('app')!;
app.innerHTML = '<main id="dashboard-root"><h1 id="title">Coder Scale Test</h1><p id="status">Waiting for a run…</p></main>';

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  if (message.type === 'empty') document.getElementById('status')!.textContent = message.message;
  document.getElementById('dashboard-root')!.dataset.rendered = 'true';
});
vscodeApi.postMessage({ type: 'ready' });
