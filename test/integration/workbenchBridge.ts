// A small request channel from tests inside the extension host to the Playwright side,
// for what only the browser can see (webview DOM, screenshots). The in-host side logs a
// line `PREFIX {json}`; the workbench forwards extension-host console output to the
// runner (codeAutomationLog), which acts and writes the reply as JSON to
// <test output>/bridge/<id>.json, where the in-host side polls for it.

export const BRIDGE_PREFIX = '[coder-scaletest-bridge]';
/** Marks mocha's own output among the workbench's console noise, so the runner can show just it. */
export const MOCHA_OUTPUT_PREFIX = '[coder-scaletest-mocha]';
export const BRIDGE_DIR = 'bridge';
/**
 * Put in the title of every in-host test that uses the bridge: runs without the code-server
 * runner (F5, `npm run test:desktop`) leave those tests out.
 */
export const BROWSER_TAG = '@browser';

export type BridgeRequest =
  { id: string; kind: 'webviewText'; selector: string; timeoutMs: number } | { id: string; kind: 'screenshot'; name: string };

export type BridgeReply = { ok: true; text?: string; path?: string } | { ok: false; error: string };
