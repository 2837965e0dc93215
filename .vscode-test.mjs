// `npm run test:desktop`: the in-host integration tests in a desktop VS Code that
// @vscode/test-electron downloads (needs access to VS Code's update servers; `npm test`
// runs the same tests in code-server instead). Tests tagged @browser need the code-server
// runner's browser side, so they are left out here.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  files: 'out/test/integration/suite/*.test.js',
  version: 'stable',
  mocha: { ui: 'bdd', timeout: 120_000, grep: '@browser', invert: true },
});
