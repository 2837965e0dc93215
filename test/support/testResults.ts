// The result file every test run writes (unit tests, the in-host integration suite and the
// Playwright-side workbench tests), so scripts/test-all.mjs can add them up.

/** Path of the JSON results file a run writes; set by the runner, read by the reporter. */
export const RESULTS_FILE_ENV = 'CODER_SCALETEST_TEST_RESULTS';
/** Folder where tests may write files (screenshots, reports); set on code-server for the extension host. */
export const TEST_OUTPUT_ENV = 'CODER_SCALETEST_TEST_OUTPUT';

export interface TestResult {
  title: string;
  state: 'passed' | 'failed';
  error?: string;
}

export interface TestResults {
  passes: number;
  failures: number;
  tests: TestResult[];
}
