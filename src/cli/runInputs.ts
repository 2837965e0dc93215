// Checks a command makes before it creates anything: the plan file, the report directory, what
// the enabled stages need on this machine (their preflight), the worker threads option.
import * as fs from 'fs';
import { enabledStages, parsePlanText, trafficSettings, type Plan } from '../engine/plan/plan';
import { stringOption, UsageError, wholeNumberOption, type OptionValues } from './args';

export function readPlan(file: string | undefined): Plan {
  if (!file) throw new UsageError('missing PLAN: the path of a *.scaletest.json file (create one with `coder-scaletest init`)');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read plan ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  return parsePlanText(text, file);
}

/** Fails before anything is created when the reports could not be written. */
export function checkOutDir(out: string): void {
  try {
    fs.mkdirSync(out, { recursive: true });
    fs.accessSync(out, fs.constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `--out ${out}: cannot write reports there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pick a writable directory`,
    );
  }
}

/** Fails before prepare (before any user exists) when an enabled stage cannot run on this machine (e.g. no browser). */
export function checkStagesCanRun(plan: Plan, chromiumPath: string | undefined): void {
  for (const stage of enabledStages(plan)) {
    const problem = stage.preflight?.(trafficSettings(plan, stage.id), { chromiumPath });
    if (problem) throw new UsageError(problem);
  }
}

/** `--workers N` overrides the plan's worker threads. */
export function applyWorkersOption(plan: Plan, values: OptionValues, command: string): void {
  const raw = stringOption(values, 'workers');
  if (raw !== undefined) plan.workers = wholeNumberOption(command, 'workers', raw, 0, 0, 256);
}
