// `run PLAN`: a plan's scale test against a deployment, in this process or sharded.
import { parseCommandArgs, stringOption, UsageError } from '../args';
import { COMMANDS } from '../commandSpecs';
import { connectionFrom, withoutCredentials } from '../credentials';
import { execute } from '../execute';
import { observeSettings } from '../observe';
import { EXIT, type CliIo } from '../io';
import { runPreRunCheck } from './check';
import { applyWorkersOption, checkStagesCanRun, checkOutDir, readPlan } from '../runInputs';
import { baselineSummaryLine, markAfterRun } from './baseline';
import { isShardedRun, runShardedCommand } from './runSharded';

export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMANDS.run!, args);
  if (positionals.length > 1) throw new UsageError(`run takes one plan, got ${positionals.length}`, 'run');
  const plan = readPlan(positionals[0]);
  const connection = connectionFrom(values, io.env, io.stderr, plan);
  // The plan is copied into the report: credentials in its URL must not travel with it.
  if (plan.deployment.url) plan.deployment.url = withoutCredentials(plan.deployment.url, { write: () => {} });
  const out = stringOption(values, 'out') ?? 'scaletest-results';
  checkOutDir(out);
  checkStagesCanRun(plan, stringOption(values, 'chromium'));
  if (isShardedRun(values) && plan.search)
    throw new UsageError('a capacity search (search in the plan) runs in one runner: drop --shards / --shard', 'run');
  applyWorkersOption(plan, values, 'run');
  const observe = observeSettings(values, io.env, plan);
  // The coordinator checks once for all its shards; a shard (--shard i/N) is started after it.
  const check = values.shard === undefined;
  const preRunCheck = check
    ? await runPreRunCheck(plan, connection, {
        skip: values['skip-check'] === true,
        coderBinaryPath: stringOption(values, 'coder-binary'),
        // stderr: stdout stays the run's own output (the live table, NDJSON, the summary).
        out: io.stderr,
        signal: io.signal,
      })
    : undefined;
  if (check && !preRunCheck) return EXIT.failed;
  if (isShardedRun(values)) {
    if (values['mark-baseline'] === true)
      throw new UsageError('--mark-baseline is not available for a sharded run yet: mark a run with `baseline set` instead', 'run');
    return runShardedCommand({ plan, planFile: positionals[0]!, connection, out, values, io, observe });
  }
  const result = await execute(
    plan,
    connection,
    {
      out,
      ndjson: values.ndjson === true,
      chromium: stringOption(values, 'chromium'),
      coderBinary: stringOption(values, 'coder-binary'),
      observe,
      preRunCheck,
    },
    io,
  );
  const againstBaseline = baselineSummaryLine(result.reportDir);
  if (againstBaseline) (values.ndjson === true ? io.stderr : io.stdout).write(againstBaseline);
  if (values['mark-baseline'] === true) markAfterRun(result, out, io);
  return result.exitCode;
}
