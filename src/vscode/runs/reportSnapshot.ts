// Reading a finished run's snapshot from its report.json: the Runs view does it for every past
// run, so it stays in the extension bundle (plain fs + JSON) rather than loading the engine's
// bundle (engineModule.ts). No vscode import.
import * as fs from 'fs';
import * as path from 'path';
import type { RunSnapshot } from '../../protocol/snapshot';

function isSnapshot(value: unknown): value is RunSnapshot {
  const candidate = value as Partial<RunSnapshot> | undefined;
  return (
    candidate?.schemaVersion === 1 &&
    Array.isArray(candidate.stages) &&
    Array.isArray(candidate.thresholds) &&
    typeof candidate.runId === 'string'
  );
}

/** The final snapshot stored in `<dir>/report.json`. */
export async function readReportSnapshot(dir: string): Promise<RunSnapshot> {
  const file = path.join(dir, 'report.json');
  let json: unknown;
  try {
    json = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`);
  }
  const snapshot = (json as { snapshot?: unknown }).snapshot ?? json;
  if (!isSnapshot(snapshot)) throw new Error(`${file} is not a coder-scaletest report (no run snapshot in it).`);
  return { ...snapshot, reportDir: dir };
}
