// A small request channel from tests inside the extension host to the Playwright side, for
// what only the browser can see or do: the DOM of webviews and of the workbench itself
// (walkthroughs, notifications, quick picks), clicks as a person makes them, screenshots.
// The in-host side logs a line `PREFIX {json}`; the workbench forwards extension-host console
// output to the runner (codeAutomationLog), which acts and writes the reply as JSON to
// <test output>/bridge/<id>.json, where the in-host side polls for it.

export const BRIDGE_PREFIX = '[coder-scaletest-bridge]';
/** Marks mocha's own output among the workbench's console noise, so the runner can show just it. */
export const MOCHA_OUTPUT_PREFIX = '[coder-scaletest-mocha]';
export const BRIDGE_DIR = 'bridge';
/** Runs only the tests whose full title matches this regular expression (runSuite.ts's optional second argument). */
export const GREP_ENV = 'CODER_SCALETEST_INTEGRATION_GREP';
/**
 * Put in the title of every in-host test that uses the bridge: runs without the code-server
 * runner (F5, `npm run test:desktop`) leave those tests out.
 */
export const BROWSER_TAG = '@browser';

/** Which document a selector is looked up in: the visible webview's, or the workbench's own (its visible elements). */
export type BridgeTarget = 'webview' | 'workbench';

/** An element: the first match of `selector` in `target`, narrowed to those holding `hasText`. */
export interface BridgeElement {
  target: BridgeTarget;
  selector: string;
  hasText?: string;
  timeoutMs: number;
}

export type BridgeRequest =
  | ({ id: string; kind: 'text' } & BridgeElement)
  | ({ id: string; kind: 'attribute'; name: string } & BridgeElement)
  | ({ id: string; kind: 'click' } & BridgeElement)
  | { id: string; kind: 'screenshot'; name: string };

export type BridgeReply = { ok: true; text?: string; path?: string } | { ok: false; error: string };
