// *Check Deployment*'s view: every line with its status and finding, advice only where needed.
import * as assert from 'assert';
import type { CheckReport } from '../../../../src/engine/check/check';
import { checkMarkdown } from '../../../../src/vscode/check/markdown';

const report: CheckReport = {
  planName: 'smoke',
  deploymentUrl: 'https://coder.example.com',
  checkedAt: '2026-12-07T05:00:00.000Z',
  passed: false,
  offerTemplatePush: true,
  lines: [
    { id: 'reachable', title: 'Deployment reachable', status: 'pass', detail: 'answers', advice: 'never shown on a pass' },
    {
      id: 'echo-app',
      title: 'Echo app',
      status: 'fail',
      detail: 'agent main has no app "wsec" (apps: a|b)',
      advice: 'push the scale-test template',
    },
    { id: 'prometheus', title: 'Prometheus scrape URLs', status: 'warn', detail: 'no scrape URL', advice: 'set deployment.prometheusUrl' },
  ],
};

describe('vscode check view', () => {
  it('tables each line with its status, escapes table cells, and lists what to do for the lines that need it', () => {
    const text = checkMarkdown(report);
    assert.match(text, /^# Pre-run check: smoke\n\nhttps:\/\/coder\.example\.com — \*\*failed\*\*/);
    assert.match(text, /\| ❌ fail \| Echo app \| agent main has no app "wsec" \(apps: a\\\|b\) \|/);
    assert.match(
      text,
      /- \*\*Echo app\*\* \(fail\): push the scale-test template\n- \*\*Prometheus scrape URLs\*\* \(warn\): set deployment\.prometheusUrl/,
    );
    assert.ok(!text.includes('never shown on a pass'));
    assert.match(text, /Push Scale-Test Template/);
  });
});
