// The results file is what `npm test` counts, so it must count failures and broken hooks.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RESULTS_FILE_ENV, type TestResults } from '../../support/testResults';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('results reporter', () => {
  it('writes passes, failures and failing hooks to the results file', function () {
    this.timeout(30_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'results-reporter-'));
    const resultsFile = path.join(dir, 'results.json');
    try {
      const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
      const child = spawnSync(
        process.execPath,
        [mocha, '--no-config', '--require', 'tsx/cjs', '--reporter', 'test/support/resultsReporter.ts', 'test/support/reporterFixture.ts'],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, [RESULTS_FILE_ENV]: resultsFile } },
      );
      assert.strictEqual(child.status, 2, `mocha should exit with the failure count; stderr: ${child.stderr}`);
      const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as TestResults;
      assert.strictEqual(results.passes, 1);
      assert.strictEqual(results.failures, 2);
      assert.deepStrictEqual(
        results.tests.map((test) => [test.state, test.error ?? '']),
        [
          ['passed', ''],
          ['failed', 'expected failure'],
          ['failed', 'hook failure'],
        ],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
