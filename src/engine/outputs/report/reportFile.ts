// Reading a report back (the VS Code face, baselines, tools), apart from the writers in
// ./report.ts, so a reader does not bundle the report's HTML and its inlined chart code.
import * as fs from 'fs';
import * as path from 'path';
import type { RunReport } from './report';

/** Reads `<dir>/report.json` (for the VS Code face and tools); clear error when it is not a report. */
export function readReport(dir: string): RunReport {
  const file = dir.endsWith('.json') ? dir : path.join(dir, 'report.json');
  let report: RunReport;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8')) as RunReport;
  } catch (error) {
    throw new Error(`cannot read the scale-test report ${file}: ${(error as Error).message}`);
  }
  if (report?.schemaVersion !== 1 || !report.snapshot) throw new Error(`${file} is not a coder-scaletest report (schemaVersion 1)`);
  return report;
}
