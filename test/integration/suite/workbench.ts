// In-host side of the workbench bridge (see ../workbenchBridge.ts): lets integration tests
// that run inside the extension host ask the Playwright side about the browser.
import * as fs from 'fs';
import * as path from 'path';
import { BRIDGE_DIR, BRIDGE_PREFIX, type BridgeReply, type BridgeRequest } from '../workbenchBridge';
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
  const reply = await ask({ kind: 'webviewText', selector, timeoutMs }, timeoutMs + 10_000);
  return reply.text ?? '';
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
