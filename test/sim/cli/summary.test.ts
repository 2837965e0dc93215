// `run --summary FILE.md` and $GITHUB_STEP_SUMMARY: the run in Markdown for CI pages, checked
// section by section against the run's own report (a structural example: it fails when a
// section is missing or says something the report does not).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import type { RunReport } from '../../../src/engine/outputs/report/report';
import { capture } from '../../support/capture';
import { smallPlan, startTestSim, tempDir } from '../../support/simRun';

/** The Markdown table under `heading`, as rows of cells (header first). */
function tableAfter(markdown: string, heading: RegExp): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  assert.ok(start >= 0, `a section ${heading}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|') || /^\|(-+\|)+$/.test(line)) continue;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

describe('run --summary: the run as Markdown for CI', function () {
  this.timeout(90_000);

  it('writes the verdict, stages, failed thresholds, reference figures and cleanup; appends to $GITHUB_STEP_SUMMARY', async () => {
    const sim = await startTestSim();
    const dir = tempDir();
    try {
      const plan = smallPlan(sim, { users: 2, only: ['ssh'] });
      plan.thresholds = [
        { expression: 'ssh.reconnects >= 1', abortOnFail: false, abortAfterSeconds: 0 },
        { expression: 'ssh.mismatches == 0', abortOnFail: false, abortAfterSeconds: 0 },
      ];
      const planFile = path.join(dir, 'summary.scaletest.json');
      fs.writeFileSync(planFile, JSON.stringify(plan));
      const stepSummary = path.join(dir, 'step-summary.md');
      fs.writeFileSync(stepSummary, '# an earlier step\n');
      const summaryFile = path.join(dir, 'nested', 'summary.md');
      const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken, GITHUB_STEP_SUMMARY: stepSummary });
      const out = path.join(dir, 'out');
      const code = await main(['run', planFile, '--url', sim.url, '--out', out, '--summary', summaryFile], io);
      assert.strictEqual(code, 1, io.err());
      const [runId] = fs.readdirSync(out);
      const report = JSON.parse(fs.readFileSync(path.join(out, runId, 'report.json'), 'utf8')) as RunReport;
      const markdown = fs.readFileSync(summaryFile, 'utf8');
      assert.strictEqual(
        markdown,
        fs.readFileSync(path.join(out, runId, 'summary.md'), 'utf8'),
        'the report directory holds the same summary',
      );
      assert.strictEqual(fs.readFileSync(stepSummary, 'utf8'), `# an earlier step\n${markdown}\n`, 'appended to the step summary');

      // The verdict sentence.
      const [headline] = markdown.split('\n');
      assert.strictEqual(headline, `## ❌ Scale test failed: ${report.planName}`);
      assert.ok(markdown.includes(`**${report.reason}**`));
      assert.match(
        markdown,
        new RegExp(`Run \`${runId}\` against ${sim.url.replace(/\./g, '\\.')} .* exit code \\*\\*1\\*\\* \\(thresholds failed\\)`),
      );
      // The stage table: one row per stage, figures from the report.
      const stages = tableAfter(markdown, /^### Stages$/);
      assert.deepStrictEqual(stages[0], [
        'Stage',
        'Verdict',
        'Progress / connections',
        'Completed / sent',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'Disconnects',
        'Errors',
      ]);
      assert.deepStrictEqual(
        stages.slice(1).map((row) => [row[0], row[3]]),
        report.stages.map((stage) => [stage.title, `${stage.completed}/${stage.sent}`]),
      );
      // Only the failed threshold, with what was observed.
      const failed = tableAfter(markdown, /^### Failed thresholds \(1 of 2\)$/);
      assert.deepStrictEqual(
        failed.slice(1).map((row) => row.slice(0, 3)),
        [['`ssh.reconnects >= 1`', '0', '>= 1']],
      );
      // Coder's reference figures, and the cleanup.
      assert.ok(tableAfter(markdown, /^### Coder's reference figures$/).length > 1);
      assert.match(
        markdown,
        new RegExp(
          `### Cleanup\\n\\nDeleted ${report.cleanup.deletedWorkspaces} workspace\\(s\\) and ${report.cleanup.deletedUsers} user\\(s\\); nothing was left behind\\.`,
        ),
      );
    } finally {
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
