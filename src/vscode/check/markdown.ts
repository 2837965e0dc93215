// The pre-run check as Markdown for *Check Deployment*'s preview. No vscode import (unit-tested).
import type { CheckReport } from '../../engine/check/check';

/** How each status reads in the preview's table. */
export const CHECK_MARKS = { pass: '✅ pass', warn: '⚠️ warn', fail: '❌ fail', skip: '➖ skip' } as const;

/** The check as Markdown: a table of the lines, then what to do for each that needs it. */
export function checkMarkdown(report: CheckReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = report.lines.map((line) => `| ${CHECK_MARKS[line.status]} | ${line.title} | ${cell(line.detail)} |`);
  const advice = report.lines
    .filter((line) => line.advice && line.status !== 'pass')
    .map((line) => `- **${line.title}** (${line.status}): ${line.advice}`);
  return [
    `# Pre-run check: ${report.planName}`,
    '',
    `${report.deploymentUrl} — ${report.passed ? '**passed**' : '**failed**'} at ${report.checkedAt}`,
    '',
    '| | check | found |',
    '| --- | --- | --- |',
    ...rows,
    '',
    ...(advice.length ? ['## What to do', '', ...advice, ''] : []),
    report.offerTemplatePush ? 'Run **Coder Scale Test: Push Scale-Test Template** to put the scale-test template on the deployment.' : '',
  ].join('\n');
}
