// `coder-scaletest baseline set|show|clear` and `run --mark-baseline`: the plan's baseline run,
// which thresholds like `pty.rtt.p95 < baseline * 1.2` and the report's baseline section
// compare with (docs/baselines.md). Baselines live in `<out>/baselines/<plan>.json`.
import * as fs from 'fs';
import * as path from 'path';
import {
  baselineFile,
  clearBaseline,
  listBaselines,
  lookupBaseline,
  markBaseline,
  readBaseline,
  type BaselineRecord,
} from '../../engine/baseline/store';
import type { Plan } from '../../engine/plan/plan';
import type { RunResult } from '../../engine/run/outcome';
import { readReport } from '../../engine/outputs/report/reportFile';
import { parseCommandArgs, stringOption, UsageError, type CommandSpec, type OptionSpec } from '../args';
import type { Output } from '../progress';

const OUT_OPTION: OptionSpec = {
  flags: '--out <DIR>',
  help: 'the results directory holding the reports and baselines/ (default: scaletest-results)',
  expects: 'the results directory',
};

export const BASELINE_COMMAND: CommandSpec = {
  name: 'baseline',
  summary: "mark, show or clear a plan's baseline run",
  usage: 'set RUN | show [PLAN] | clear PLAN [--out DIR]',
  description: `A plan's baseline is a finished run its later runs are compared with: thresholds such as
"pty.rtt.p95 < baseline * 1.2" and the report's "Against the baseline" section. It is stored in
<out>/baselines/<plan name>.json with the run's histograms, so deleting the run keeps it.
  set RUN     marks RUN (a report directory, its report.json, or a run id under --out)
  show [PLAN] shows PLAN's baseline (a plan file or a plan name), or lists every baseline
  clear PLAN  removes PLAN's baseline
See docs/baselines.md.`,
  options: [OUT_OPTION, { flags: '--json', help: 'show: print the baseline(s) as JSON (without histograms)' }],
};

export const MARK_BASELINE_OPTION: OptionSpec = {
  flags: '--mark-baseline',
  help: "when the run passes, mark it as the plan's baseline (see `baseline --help`)",
};

interface Io {
  stdout: Output;
  stderr: Output;
}

export function runBaselineCommand(args: string[], io: Io, readPlan: (file: string) => Plan): number {
  const { values, positionals } = parseCommandArgs(BASELINE_COMMAND, args);
  const [action, target, ...extra] = positionals;
  const out = stringOption(values, 'out') ?? 'scaletest-results';
  if (extra.length) throw new UsageError(`baseline ${action} takes one argument, got ${extra.length + 1}`, 'baseline');
  switch (action) {
    case 'set':
      return setBaseline(target, out, io);
    case 'show':
      return showBaseline(target, out, values.json === true, io, readPlan);
    case 'clear': {
      if (!target) throw new UsageError('baseline clear needs PLAN: a plan file or a plan name', 'baseline');
      const planName = planNameOf(target, readPlan);
      const runId = clearBaseline(out, planName);
      io.stdout.write(
        runId ? `cleared the baseline of "${planName}" (run ${runId})\n` : `"${planName}" has no baseline in ${out}; nothing to clear\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(
        `expected "baseline set RUN", "baseline show [PLAN]" or "baseline clear PLAN", got "baseline ${action ?? ''}"`,
        'baseline',
      );
  }
}

/** A report directory, a report.json, or a run id (a directory of that name under `out`). */
function reportDirOf(run: string, out: string): string {
  const candidates = [run.endsWith('.json') ? path.dirname(run) : run, path.join(out, run)];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'report.json')));
  if (!found)
    throw new UsageError(
      `no report for "${run}": give a run's report directory, its report.json, or a run id with a report under ${out} (--out)`,
      'baseline',
    );
  return found;
}

function setBaseline(run: string | undefined, out: string, io: Io): number {
  if (!run) throw new UsageError('baseline set needs RUN: a report directory, a report.json or a run id', 'baseline');
  const { record, file, replaced } = markBaseline(reportDirOf(run, out), out);
  io.stdout.write(`${describeMark(record, file)}${replaced ? ` (replaces run ${replaced})` : ''}\n`);
  if (record.verdict !== 'pass')
    io.stderr.write(`note: run ${record.runId} did not pass (verdict ${record.verdict}); later runs are compared with a failed run\n`);
  return 0;
}

const describeMark = (record: BaselineRecord, file: string) => `run ${record.runId} is now the baseline of "${record.planName}" (${file})`;

/** A plan file's plan name, or the argument itself as a plan name. */
function planNameOf(target: string, readPlan: (file: string) => Plan): string {
  return target.endsWith('.json') && fs.existsSync(target) ? readPlan(target).name : target;
}

function showBaseline(target: string | undefined, out: string, json: boolean, io: Io, readPlan: (file: string) => Plan): number {
  const strip = (record: BaselineRecord) => ({ ...record, snapshot: undefined, histograms: undefined });
  if (!target) {
    const all = listBaselines(out);
    if (json) io.stdout.write(`${JSON.stringify(all.map(strip), null, 2)}\n`);
    else if (all.length === 0) io.stdout.write(`no baselines in ${path.join(out, 'baselines')}\n`);
    else
      io.stdout.write(
        all
          .map((record) => `${record.planName}: run ${record.runId} (${record.verdict}, ${new Date(record.startedAt).toISOString()})`)
          .join('\n') + '\n',
      );
    return 0;
  }
  const isPlanFile = target.endsWith('.json') && fs.existsSync(target);
  const plan = isPlanFile ? readPlan(target) : undefined;
  const planName = plan?.name ?? target;
  const record = readBaseline(out, planName);
  if (!record) {
    io.stderr.write(
      `"${planName}" has no baseline (${baselineFile(out, planName)} does not exist); mark one with: coder-scaletest baseline set RUN --out ${out}\n`,
    );
    return 1;
  }
  const lookup = plan ? lookupBaseline(out, plan) : undefined;
  const fit = !lookup
    ? ''
    : lookup.kind === 'stale'
      ? `; the plan changed since (${lookup.differences.join(', ')}): its baseline thresholds are not applied`
      : '; the plan is unchanged since';
  if (json) io.stdout.write(`${JSON.stringify({ ...strip(record), planChanged: lookup?.kind === 'stale' }, null, 2)}\n`);
  else
    io.stdout.write(
      `"${planName}": baseline run ${record.runId} (${record.verdict}) of ${new Date(record.startedAt).toISOString()}, marked ${new Date(record.markedAt).toISOString()}, from ${record.reportDir}${fit}\n`,
    );
  return 0;
}

/** After `run --mark-baseline`: marks a run that finished and passed; says why not otherwise. */
export function markAfterRun(result: RunResult, out: string, io: Io): void {
  const { snapshot } = result;
  if (snapshot.status !== 'finished' || result.verdict !== 'pass') {
    io.stderr.write(
      `not marked as the baseline: run ${snapshot.runId} ${snapshot.status !== 'finished' ? `did not finish (${snapshot.status})` : 'failed'}; the baseline stays as it was\n`,
    );
    return;
  }
  try {
    const { record, file, replaced } = markBaseline(result.reportDir, out);
    io.stderr.write(`${describeMark(record, file)}${replaced ? ` (replaces run ${replaced})` : ''}\n`);
  } catch (error) {
    io.stderr.write(`could not mark run ${snapshot.runId} as the baseline: ${(error as Error).message}\n`);
  }
}

/** One line for the end of a run with a baseline: which stages got worse or better, and by what. */
export function baselineSummaryLine(reportDir: string): string | undefined {
  let section;
  try {
    section = readReport(reportDir).baseline;
  } catch {
    return undefined;
  }
  if (!section) return undefined;
  const group = (change: string) => section.comparison.stages.filter((stage) => stage.change === change);
  const parts = (['worse', 'better', 'same'] as const)
    .filter((change) => group(change).length > 0)
    .map(
      (change) =>
        `${change}: ${group(change)
          .map((stage) =>
            change === 'same'
              ? stage.title
              : `${stage.title} (${stage.comparison!.explanation.replace(/^\w+: /, '').replace(/; KS.*$/, '')})`,
          )
          .join(', ')}`,
    );
  const stale = section.planMatches ? '' : ` (the plan changed since: ${section.differences.join(', ')})`;
  return `against the baseline (run ${section.runId})${stale}: ${parts.join('; ') || 'no stage to compare'}\n`;
}
