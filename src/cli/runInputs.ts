// Checks a command makes before it creates anything: the plan file, the report directory, the
// dashboard stage's browser, the worker threads option.
import * as fs from 'fs';
import { parsePlanText, type Plan } from '../engine';
import { findChromium } from '../engine/stages/dashboard/runner';
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

/** Fails before prepare (before any user exists) when the dashboard stage has no browser. */
export function checkChromium(plan: Plan, configured: string | undefined): void {
  if (!plan.traffic.dashboard.enabled) return;
  try {
    findChromium(configured);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `--workers N` overrides the plan's worker threads. */
export function applyWorkersOption(plan: Plan, values: OptionValues, command: string): void {
  const raw = stringOption(values, 'workers');
  if (raw !== undefined) plan.workers = wholeNumberOption(command, 'workers', raw, 0, 0, 256);
}
