// Mocha's spec output plus a JSON results file (path from CODER_SCALETEST_TEST_RESULTS).
// Used by the unit tests (`--reporter test/support/resultsReporter.ts`), by the in-host
// integration suite and by the Playwright-side workbench tests.
import * as fs from 'fs';
import * as path from 'path';
import Mocha = require('mocha');
import { RESULTS_FILE_ENV, type TestResult, type TestResults } from './testResults';

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_RUN_END } = Mocha.Runner.constants;

class ResultsReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const tests: TestResult[] = [];
    runner.on(EVENT_TEST_PASS, (test) => tests.push({ title: test.fullTitle(), state: 'passed' }));
    // Failing hooks arrive here too, so a broken before() counts as a failure, not as silence.
    runner.on(EVENT_TEST_FAIL, (test, error: unknown) =>
      tests.push({ title: test.fullTitle(), state: 'failed', error: error instanceof Error ? error.message : String(error) }),
    );
    runner.once(EVENT_RUN_END, () => {
      const file = process.env[RESULTS_FILE_ENV];
      if (!file) return;
      const results: TestResults = {
        passes: tests.filter((t) => t.state === 'passed').length,
        failures: tests.filter((t) => t.state === 'failed').length,
        tests,
      };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    });
  }
}

export = ResultsReporter;
