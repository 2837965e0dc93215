// The dashboard webview (browser bundle).
import type { HostToWebview, WebviewToHost } from '../src/protocol/messages';

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void; getState(): unknown; setState(state: unknown): void };
const vscodeApi = acquireVsCodeApi();

const app = document.getElementById('app')!;
app.innerHTML = '<h1 id="title">Coder Scale Test</h1><p id="status">Waiting for a run…</p>';

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  if (message.type === 'empty') document.getElementById('status')!.textContent = message.message;
});
vscodeApi.postMessage({ type: 'ready' });
