// Which run a command is about: a Runs node, a report folder, a report file, or the user's pick.
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { ScaleTestBackend } from '../backend';
import type { RunHistory } from './pastRuns';
import { ReportFileNode, RunNode } from './tree';

/** Run argument forms: a Runs node, or `{ runDir }` / `{ file }`. */
export type RunArg = RunNode | ReportFileNode | { runDir?: string; file?: string } | undefined;

export async function pickRun(
  history: RunHistory,
  backend: Pick<ScaleTestBackend, 'readReport'>,
  arg: RunArg,
  purpose: string,
): Promise<{ snapshot: RunSnapshot; dir?: string } | undefined> {
  if (arg instanceof RunNode && arg.snapshot) return { snapshot: arg.snapshot, dir: arg.dir };
  const dir =
    arg instanceof ReportFileNode
      ? path.dirname(arg.file)
      : arg && !(arg instanceof RunNode)
        ? (arg.runDir ?? (arg.file ? path.dirname(arg.file) : undefined))
        : undefined;
  if (dir) return { snapshot: await backend.readReport(dir), dir };
  const runs = (await history.list()).filter((run) => run.snapshot);
  if (runs.length === 0) throw new Error('No finished run in the results folder (setting coderScaletest.resultsFolder): run a plan first.');
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({ label: `${run.snapshot!.planName} (${run.snapshot!.runId})`, description: run.snapshot!.verdict, run })),
    { title: `Which run to ${purpose}?` },
  );
  return picked ? { snapshot: picked.run.snapshot!, dir: picked.run.dir } : undefined;
}
