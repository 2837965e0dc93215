// Past runs in the results folder, each a `<runId>/report.json`.
import * as fs from 'fs';
import * as path from 'path';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { ScaleTestBackend } from '../backend';

export interface PastRun {
  dir: string;
  snapshot?: RunSnapshot;
  error?: string;
}

/** Past runs in the results folder, newest first, each report read once per modification. */
export class RunHistory {
  private readonly cache = new Map<string, { mtimeMs: number; run: PastRun }>();

  constructor(
    private readonly backend: Pick<ScaleTestBackend, 'readReport'>,
    private readonly resultsFolder: () => string,
  ) {}

  /** The results folder: run directories and baselines/. */
  folder(): string {
    return this.resultsFolder();
  }

  async list(): Promise<PastRun[]> {
    const root = this.resultsFolder();
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(root, { withFileTypes: true });
    } catch {
      return [];
    }
    const runs: { run: PastRun; mtimeMs: number }[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(root, entry.name);
      const reportFile = path.join(dir, 'report.json');
      let mtimeMs: number;
      try {
        mtimeMs = (await fs.promises.stat(reportFile)).mtimeMs;
      } catch {
        continue;
      }
      const cached = this.cache.get(dir);
      if (cached && cached.mtimeMs === mtimeMs) {
        runs.push(cached);
        continue;
      }
      let run: PastRun;
      try {
        run = { dir, snapshot: await this.backend.readReport(dir) };
      } catch (error) {
        run = { dir, error: (error as Error).message };
      }
      this.cache.set(dir, { mtimeMs, run });
      runs.push({ run, mtimeMs });
    }
    return runs.sort((a, b) => (b.run.snapshot?.startedAt ?? b.mtimeMs) - (a.run.snapshot?.startedAt ?? a.mtimeMs)).map(({ run }) => run);
  }
}
