// Runs the in-host integration suite (out/test/integration/suite/index.js, built by
// esbuild.mjs) inside a real VS Code for one route:
//   node --import tsx test/integration/runSuite.ts <minimum|latest> [GREP]
// (GREP: only the tests whose full title matches this regular expression, as mocha's --grep;
// for working on one test.)
// Writes test-results/integration-<route>/results.json and exits non-zero on any failure.
import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import type { Locator } from 'playwright-core';
import {
  BRIDGE_DIR,
  BRIDGE_PREFIX,
  GREP_ENV,
  MOCHA_OUTPUT_PREFIX,
  type BridgeElement,
  type BridgeReply,
  type BridgeRequest,
} from './workbenchBridge';
import { ROOT, TEST_RESULTS_DIR, WorkbenchSession, findRoute } from './harness';
import { RESULTS_FILE_ENV, type TestResults } from '../support/testResults';

const SUITE_INDEX = path.join(ROOT, 'out', 'test', 'integration', 'suite', 'index.js');
const SUITE_TIMEOUT_MS = Number(process.env.CODER_SCALETEST_SUITE_TIMEOUT_MS) || 20 * 60_000;
const START_TIMEOUT_MS = 120_000;

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

async function main(routeName: string | undefined, grep: string | undefined): Promise<number> {
  if (!routeName) throw new Error('usage: runSuite.ts <route> (a route name from .cache/vscode-routes.json)');
  if (!fs.existsSync(SUITE_INDEX)) throw new Error(`${SUITE_INDEX} is missing: run \`npm run build\` first.`);
  const route = findRoute(routeName);
  const outputName = `integration-${route.name}`;
  const resultsFile = path.join(TEST_RESULTS_DIR, outputName, 'results.json');
  console.log(`[integration] VS Code ${route.vscode} (code-server ${route.codeServer}, Node from ${route.node})`);

  const session = await WorkbenchSession.start({
    route,
    outputName,
    env: { [RESULTS_FILE_ENV]: resultsFile, ...(grep ? { [GREP_ENV]: grep } : {}) },
  });
  let workbenchLog: fs.WriteStream | undefined;
  try {
    const exitCode = new Promise<number>((resolve) => {
      void session.page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    let markSuiteStarted = () => {};
    const suiteStarted = new Promise<void>((resolve) => (markSuiteStarted = resolve));
    // Mocha's output is shown; the rest of the workbench's console (gallery lookups that
    // fail offline and the like) goes to workbench.log.
    workbenchLog = fs.createWriteStream(path.join(session.outputDir, 'workbench.log'));
    await session.page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = format(...args);
      const bridged = bridgeRequest(line);
      if (bridged) void answer(session, bridged);
      else if (line.startsWith(MOCHA_OUTPUT_PREFIX)) {
        markSuiteStarted();
        console.log(`  ${line.slice(MOCHA_OUTPUT_PREFIX.length + 1)}`);
      } else workbenchLog?.write(`[${type}] ${line}\n`);
    });
    await session.page.goto(
      session.workbenchUrl([
        ['extensionDevelopmentPath', session.remoteUri(ROOT)],
        ['extensionTestsPath', session.remoteUri(SUITE_INDEX)],
        ['skipWelcome', 'true'],
      ]),
    );
    // A workbench that ignores the test payload says nothing at all: give up early on it
    // rather than waiting for the whole suite's time limit.
    const started = await Promise.race([suiteStarted.then(() => true), exitCode.then(() => true), delay(START_TIMEOUT_MS, false)]);
    const code = started ? await Promise.race([exitCode, delay(SUITE_TIMEOUT_MS, undefined)]) : undefined;
    await session.screenshot('workbench-at-end').catch(() => undefined);
    if (!started) {
      console.error(
        `[integration] the test index did not start within ${START_TIMEOUT_MS} ms (was the test payload ignored? see ${session.outputDir}/workbench.log)`,
      );
      return 1;
    }
    if (code === undefined) {
      console.error(`[integration] the suite did not finish within ${SUITE_TIMEOUT_MS} ms`);
      return 1;
    }
    if (!fs.existsSync(resultsFile)) {
      console.error(
        `[integration] the suite exited with ${code} but wrote no results (did the test index load? see ${session.outputDir}/code-server.log)`,
      );
      return 1;
    }
    const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as TestResults;
    return code === 0 && results.failures === 0 && results.passes > 0 ? 0 : 1;
  } finally {
    workbenchLog?.end();
    await session.dispose();
  }
}

function bridgeRequest(line: string): BridgeRequest | undefined {
  const at = line.indexOf(BRIDGE_PREFIX);
  if (at < 0) return undefined;
  return JSON.parse(line.slice(at + BRIDGE_PREFIX.length)) as BridgeRequest;
}

/**
 * The first element matching the request, once it is in the document. In the workbench, only
 * visible ones: its lists keep rows of removed items (old notifications, closed quick picks)
 * in the DOM, hidden.
 */
async function find(session: WorkbenchSession, element: BridgeElement): Promise<Locator> {
  const options = element.hasText === undefined ? undefined : { hasText: element.hasText };
  const locator =
    element.target === 'webview'
      ? session.activeWebview().locator(element.selector, options).first()
      : session.page.locator(element.selector, options).filter({ visible: true }).first();
  await locator.waitFor({ state: 'attached', timeout: element.timeoutMs });
  return locator;
}

async function answer(session: WorkbenchSession, request: BridgeRequest): Promise<void> {
  let reply: BridgeReply;
  try {
    switch (request.kind) {
      case 'text':
        reply = { ok: true, text: (await (await find(session, request)).textContent()) ?? '' };
        break;
      case 'attribute':
        reply = { ok: true, text: (await (await find(session, request)).getAttribute(request.name)) ?? '' };
        break;
      case 'click':
        await (await find(session, request)).click({ timeout: request.timeoutMs });
        reply = { ok: true };
        break;
      case 'screenshot':
        reply = { ok: true, path: await session.screenshot(request.name) };
        break;
    }
  } catch (error) {
    reply = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const dir = path.join(session.outputDir, BRIDGE_DIR);
  fs.mkdirSync(dir, { recursive: true });
  // Written under a temporary name and renamed, so the poller never reads half a file.
  const file = path.join(dir, `${request.id}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(reply));
  fs.renameSync(`${file}.tmp`, file);
}

main(process.argv[2], process.argv[3]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[integration] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
