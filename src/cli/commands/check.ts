// `check PLAN`: the pre-run check (engine/check/check.ts) — every line pass / warn / fail with
// what to do; exit 0 when nothing fails, 1 otherwise; `--json` for pipelines. `run` performs the
// same check first (runPreRunCheck) and stops on a fail unless given `--skip-check`.
import { checkDeployment, type CheckReport } from '../../engine/check/check';
import type { CheckLineId, CheckStatus } from '../../engine/check/lines';
import type { Plan } from '../../engine/plan/plan';
import type { PreRunCheckRecord } from '../../engine/run/options';
import type { DeploymentConnection } from '../../coder/connection';
import { parseCommandArgs, stringOption, UsageError, type CommandSpec, type OptionSpec } from '../args';
import { connectionFrom, withoutCredentials } from '../credentials';
import { EXIT, type CliIo } from '../io';
import type { Output } from '../progress';
import { readPlan } from '../runInputs';

export function checkCommandSpec(connectionOptions: OptionSpec[]): CommandSpec {
  return {
    name: 'check',
    summary: 'check the deployment against a plan before anything is created',
    usage: 'PLAN [--json] [options]',
    description: `Checks, with the plan's own settings and without creating anything: the deployment is reachable, its
version supported and the token an owner's; the template has an agent, the echo app and a value for
every required parameter; rate limits, the wildcard app host, provisioner daemons and their queue,
licence seats, the coder CLI, Prometheus scrape URLs, this runner's capacity and leftovers of earlier
runs. Each line passes, warns or fails with what to do. Exit 0 when no line fails, 1 otherwise.
\`run\` performs the same check first and stops on a fail (--skip-check overrides, and the report says so).`,
    options: [
      ...connectionOptions,
      { flags: '--json', help: 'print the check as one JSON object (lines with status, detail and advice)' },
      {
        flags: '--coder-binary <PATH>',
        help: 'the coder CLI the SSH stage will use (default: downloaded from the deployment)',
        expects: 'the path of a coder CLI binary',
      },
    ],
  };
}

const RUN_VERIFIES_ITSELF = new Set<CheckLineId>(['reachable', 'owner', 'template', 'parameters']);

const MARKS: Record<CheckStatus, string> = { pass: 'pass', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** The check as text: one line per check, advice indented under the ones that need it. */
export function formatCheck(report: CheckReport): string {
  const width = Math.max(...report.lines.map((line) => line.title.length));
  const rows = report.lines.map((line) => {
    const head = `  ${MARKS[line.status]}  ${line.title.padEnd(width)}  ${line.detail}`;
    return line.advice && line.status !== 'pass' ? `${head}\n        → ${line.advice}` : head;
  });
  const counts = (['pass', 'warn', 'fail', 'skip'] as const)
    .map((status) => `${report.lines.filter((l) => l.status === status).length} ${status}`)
    .join(', ');
  return `pre-run check of "${report.planName}" against ${report.deploymentUrl}:\n${rows.join('\n')}\n${report.passed ? 'check passed' : 'check FAILED'} (${counts})\n`;
}

export async function checkCommand(spec: CommandSpec, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  if (positionals.length > 1) throw new UsageError(`check takes one plan, got ${positionals.length}`, 'check');
  const plan = readPlan(positionals[0]);
  const connection = connectionFrom(values, io.env, io.stderr, plan);
  if (plan.deployment.url) plan.deployment.url = withoutCredentials(plan.deployment.url, { write: () => {} });
  const report = await checkDeployment({ plan, connection, coderBinaryPath: stringOption(values, 'coder-binary'), signal: io.signal });
  if (values.json === true) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout.write(formatCheck(report));
  if (report.lines.find((line) => line.id === 'reachable' || line.id === 'owner')?.status === 'fail') return EXIT.access;
  return report.passed ? EXIT.passed : EXIT.failed;
}

/**
 * `run`'s first step: the same check, printed on `out`; undefined when a line fails (the run
 * must not start), else what the report records. `skip` records that it was skipped.
 */
export async function runPreRunCheck(
  plan: Plan,
  connection: DeploymentConnection,
  options: { skip: boolean; coderBinaryPath?: string; out: Output; signal?: AbortSignal },
): Promise<PreRunCheckRecord | undefined> {
  if (options.skip) {
    options.out.write('pre-run check skipped (--skip-check): the report records it\n');
    return { skipped: true };
  }
  const report = await checkDeployment({ plan, connection, coderBinaryPath: options.coderBinaryPath, signal: options.signal });
  // Access and the plan's template and parameters the run verifies again itself, before it
  // creates anything, and refuses with their own exit codes (3, 2) and a report: left to it.
  const blocking = report.lines.filter((line) => line.status === 'fail' && !RUN_VERIFIES_ITSELF.has(line.id));
  if (blocking.length > 0) {
    options.out.write(
      `${formatCheck(report)}No users, workspaces or traffic were created. Fix the failing lines, or run with --skip-check.\n`,
    );
    return undefined;
  }
  const warnings = report.lines.filter((line) => line.status === 'warn').map((line) => line.title);
  options.out.write(
    `pre-run check passed${warnings.length ? ` with ${warnings.length} warning(s): ${warnings.join(', ')}` : ''} (coder-scaletest check PLAN shows every line)\n`,
  );
  return {
    skipped: false,
    passed: report.passed,
    lines: report.lines.map(({ id, status, detail }) => ({ id, status, detail })),
  };
}
