// In-host side of the workbench bridge (see ../workbenchBridge.ts): lets integration tests
// that run inside the extension host ask the Playwright side about the browser.
import * as fs from 'fs';
import * as path from 'path';
import { BRIDGE_DIR, BRIDGE_PREFIX, type BridgeElement, type BridgeReply, type BridgeRequest } from '../workbenchBridge';
import { TEST_OUTPUT_ENV } from '../../support/testResults';

let nextId = 0;
// Each *.test.ts is bundled on its own with its own copy of this module, so the counter alone
// repeats across test files in one extension host; the random part keeps ids unique.
const idPrefix = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** The folder where in-host tests may write files; test-results/<route>/ under the repo. */
export function testOutputDir(): string {
  const dir = process.env[TEST_OUTPUT_ENV];
  if (!dir) throw new Error(`${TEST_OUTPUT_ENV} is not set: run integration tests through \`npm test\` (scripts/test-all.mjs).`);
  return dir;
}

/** A request without its id (Omit applied to each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type RequestBody = WithoutId<BridgeRequest>;

async function ask(body: RequestBody, timeoutMs: number): Promise<BridgeReply & { ok: true }> {
  const id = `${idPrefix}-${nextId++}`;
  const replyFile = path.join(testOutputDir(), BRIDGE_DIR, `${id}.json`);
  console.log(`${BRIDGE_PREFIX} ${JSON.stringify({ id, ...body })}`);
  await waitFor(
    () => fs.existsSync(replyFile),
    timeoutMs,
    () => `the test runner did not answer a ${body.kind} request`,
  );
  const reply = JSON.parse(fs.readFileSync(replyFile, 'utf8')) as BridgeReply;
  if (!reply.ok) throw new Error(`${body.kind} failed: ${reply.error}`);
  return reply;
}

/**
 * Waits until an element matching `selector` exists in the active webview's document and
 * returns its text content. Fails after `timeoutMs`.
 */
export async function webviewText(selector: string, timeoutMs = 30_000): Promise<string> {
  return elementText({ target: 'webview', selector, timeoutMs });
}

/**
 * Waits until the text of the first `selector` in the visible webview matches `expected` and
 * returns it: a webview re-renders a moment after the change that causes it, so one read may
 * still see the old page. Fails with the last text seen after `timeoutMs`.
 */
export async function webviewTextMatching(selector: string, expected: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  for (;;) {
    seen = await webviewText(selector, Math.max(1_000, deadline - Date.now())).catch(() => seen);
    if (expected.test(seen)) return seen;
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms the webview's ${selector} does not match ${expected}: ${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Where to look for an element, as in {@link BridgeElement}, with a default wait of 30 s. */
type ElementQuery = Omit<BridgeElement, 'timeoutMs'> & { timeoutMs?: number };
const withTimeout = (query: ElementQuery): BridgeElement => ({ ...query, timeoutMs: query.timeoutMs ?? 30_000 });

/** The text content of the first element the query finds, once it exists. */
export async function elementText(query: ElementQuery): Promise<string> {
  const element = withTimeout(query);
  const reply = await ask({ kind: 'text', ...element }, element.timeoutMs + 10_000);
  return reply.text ?? '';
}

/** An attribute of the first element the query finds ('' when it has none). */
export async function elementAttribute(query: ElementQuery, name: string): Promise<string> {
  const element = withTimeout(query);
  const reply = await ask({ kind: 'attribute', name, ...element }, element.timeoutMs + 10_000);
  return reply.text ?? '';
}

/** Clicks the first element the query finds, as a person does (it must be visible and enabled). */
export async function click(query: ElementQuery): Promise<void> {
  const element = withTimeout(query);
  await ask({ kind: 'click', ...element }, element.timeoutMs + 10_000);
}

/** Saves a screenshot of the whole workbench as <test output>/<name>.png; returns its path. */
export async function screenshot(name: string): Promise<string> {
  const reply = await ask({ kind: 'screenshot', name }, 30_000);
  return reply.path ?? '';
}

/** Polls `condition` every 100 ms; fails with `describe()` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
