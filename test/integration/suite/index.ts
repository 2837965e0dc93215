// Test index loaded by VS Code's extension host (extensionTestsPath). Runs mocha over every
// bundled *.test.js beside it; esbuild.mjs bundles each test/integration/suite/*.test.ts as
// its own entry. Tests that need long (small plan runs take minutes) call this.timeout().
import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import * as vscode from 'vscode';
import Mocha = require('mocha');
import ResultsReporter = require('../../support/resultsReporter');
import { BROWSER_TAG, GREP_ENV, MOCHA_OUTPUT_PREFIX } from '../workbenchBridge';
import { TEST_OUTPUT_ENV } from '../../support/testResults';

const DEFAULT_TEST_TIMEOUT_MS = 120_000;

export async function run(): Promise<void> {
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(`${MOCHA_OUTPUT_PREFIX} ${format(...args)}`);
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: DEFAULT_TEST_TIMEOUT_MS, reporter: ResultsReporter });
  if (!process.env[TEST_OUTPUT_ENV]) {
    // Started without the code-server runner (F5 in a desktop VS Code): nobody answers the
    // workbench bridge, so the tests that need the browser side cannot run here.
    console.log(`${BROWSER_TAG} tests need the code-server runner (npm test); running the others.`);
    mocha.grep(BROWSER_TAG).invert();
  }
  const grep = process.env[GREP_ENV];
  if (grep) mocha.grep(new RegExp(grep));
  const testFiles = fs
    .readdirSync(__dirname)
    .filter((file) => file.endsWith('.test.js'))
    .sort();
  if (testFiles.length === 0) throw new Error(`no *.test.js files in ${__dirname}: run \`npm run build\``);
  for (const file of testFiles) mocha.addFile(path.join(__dirname, file));
  Mocha.reporters.Base.consoleLog(`running ${testFiles.join(', ')} in VS Code ${vscode.version}`);
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
