// Headless command line over the engine and the simulated deployment (dist/cli.js).
// Exit codes: 0 passed, 1 thresholds or cleanup failed, 2 bad usage or invalid plan, 3 deployment
// unreachable or authentication failed, 130 stopped by a signal (SIGINT, SIGTERM, SIGHUP).
import * as fs from 'fs';
import * as path from 'path';
import type { DeploymentConnection } from '../coder/connection';
import { cleanupRun, defaultPlan, parsePlanText, PlanError, startRun, type Plan, type RunResult } from '../engine';
import { listLeftoverRuns } from '../engine/cleanup';
import { findChromium } from '../engine/dashboardStage';
import { classifyAccessError } from '../engine/run';
import { accessProblemText, cleanupCommandText, cliEvent } from './outcomeText';
import { startSimDeployment } from '../sim';
import { runSimChild, SIM_CHILD_ARG, startSimDeploymentProcess } from '../sim/process';
import { version } from '../../package.json';
import { ProgressView, renderSummary, type Output } from './progress';
import { parseCommandArgs, stringOption, UsageError, wantsHelp, wholeNumberOption, type OptionValues } from './args';
import { COMMANDS, usageOf, usageOverview } from './commandSpecs';
import { ABORTED_EXIT, watchInterrupts } from './interrupts';
import { baselineSummaryLine, markAfterRun, runBaselineCommand } from './baselineCommand';
import { runK8sCommand } from './k8sCommand';
import { isShardedRun, runShardedCommand } from './shardCommands';
import { runSimCommand } from './simCommand';
import { runRunnerMode } from './runner';
import { RUNNER_MODE_ARG } from '../protocol/runner';

export const EXIT = { passed: 0, failed: 1, usage: 2, access: 3, aborted: ABORTED_EXIT } as const;

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Aborts a run (the CLI links it to Ctrl-C); tests pass their own. */
  signal?: AbortSignal;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command && Object.hasOwn(COMMANDS, command) && wantsHelp(rest)) {
    io.stdout.write(usageOf(command));
    return EXIT.passed;
  }
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'validate':
        return validateCommand(rest, io);
      case 'init':
        return initCommand(rest, io);
      case 'cleanup':
        return await cleanupCommand(rest, io);
      case 'demo':
        return await demoCommand(rest, io);
      case 'sim':
        return await runSimCommand(rest);
      case 'k8s':
        return await runK8sCommand(rest, io, { readPlan, connectionFrom, checkOutDir });
      case 'baseline':
        return runBaselineCommand(rest, io, readPlan);
      case '--version':
      case '-v':
        io.stdout.write(`${version}\n`);
        return EXIT.passed;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(usageOverview());
        return command === undefined ? EXIT.usage : EXIT.passed;
      default:
        throw new UsageError(`unknown command "${command}"; see coder-scaletest --help`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof PlanError) {
      io.stderr.write(`${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`error: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
}

function readPlan(file: string | undefined): Plan {
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

function connectionFrom(values: OptionValues, env: NodeJS.ProcessEnv, stderr: Output, plan?: Plan): DeploymentConnection {
  const given = stringOption(values, 'url') ?? env.CODER_URL ?? plan?.deployment.url;
  if (!given) throw new UsageError('no deployment URL: pass --url, set CODER_URL, or set deployment.url in the plan');
  if (!/^https?:\/\//.test(given))
    throw new UsageError(`the deployment URL must start with http:// or https://, got "${redactUrl(given)}"`);
  const url = withoutCredentials(given, stderr);
  const token = stringOption(values, 'token') ?? tokenFromFile(stringOption(values, 'token-file')) ?? env.CODER_SESSION_TOKEN;
  if (!token) throw new UsageError("no session token: pass --token or set CODER_SESSION_TOKEN to a Coder owner's token");
  const caFile = stringOption(values, 'ca-file');
  if (caFile !== undefined) {
    try {
      fs.accessSync(caFile, fs.constants.R_OK);
    } catch {
      throw new UsageError(
        `--ca-file ${caFile}: no such readable file; pass the PEM file of the CA that signed the deployment's certificate`,
      );
    }
  }
  const insecure = values.insecure === true;
  const tls = caFile || insecure ? { caFile, insecure } : undefined;
  return { url, token, tls };
}

function tokenFromFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--token-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const token = text.trim();
  if (!token || /\s/.test(token)) throw new UsageError(`--token-file ${file}: expected one session token on one line`);
  return token;
}

/** A URL with any user name and password replaced, for messages. */
function redactUrl(url: string): string {
  return url.replace(/^(https?:\/\/)[^@/]*@/, '$1[credentials]@');
}

/**
 * Coder authenticates with the session token, never with credentials in the URL; these would
 * only end up in logs and reports, so they are dropped (and the user told so).
 */
function withoutCredentials(url: string, stderr: Output): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`"${redactUrl(url)}" is not a valid deployment URL; expected e.g. https://coder.example.com`);
  }
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '';
  parsed.password = '';
  stderr.write(`note: ignoring the user name and password in the deployment URL (Coder authenticates with the session token)\n`);
  return parsed.toString().replace(/\/$/, '');
}

/** Fails before anything is created when the reports could not be written. */
function checkOutDir(out: string): void {
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
function checkChromium(plan: Plan, configured: string | undefined): void {
  if (!plan.traffic.dashboard.enabled) return;
  try {
    findChromium(configured);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `--workers N` overrides the plan's worker threads. */
function applyWorkersOption(plan: Plan, values: OptionValues, command: string): void {
  const raw = stringOption(values, 'workers');
  if (raw !== undefined) plan.workers = wholeNumberOption(command, 'workers', raw, 0, 0, 256);
}

interface ExecuteOptions {
  out: string;
  ndjson: boolean;
  chromium?: string;
  coderBinary?: string;
}

async function execute(plan: Plan, connection: DeploymentConnection, options: ExecuteOptions, io: CliIo): Promise<RunResult> {
  const view = new ProgressView(io.stdout, io.stderr, options.ndjson);
  let runId: string | undefined;
  const interrupts = watchInterrupts(
    io.stderr,
    {
      stop: 'stopping traffic, cleaning up and writing the partial report',
      hurry: 'no new deletions and no more waiting for cleanup; writing the report',
      cleanupCommand: () => runId && cleanupCommandText(runId),
    },
    io.signal,
  );
  try {
    const handle = startRun({
      plan,
      connection,
      outDir: options.out,
      signal: interrupts.stop,
      cleanupSignal: interrupts.hurry,
      log: (event) => view.event(cliEvent(event, runId ?? '')),
      chromiumPath: options.chromium,
      coderBinaryPath: options.coderBinary,
    });
    runId = handle.runId;
    handle.subscribe((snapshot) => view.snapshot(snapshot));
    const result = await handle.done;
    view.finish();
    if (result.exitCode === EXIT.access) {
      io.stderr.write(
        `error: ${accessProblemText(result.snapshot.reason ?? '', result.access)}\nNo users, workspaces or traffic were created.\n`,
      );
    } else {
      (options.ndjson ? io.stderr : io.stdout).write(renderSummary(result, Boolean(io.stdout.isTTY) && !options.ndjson));
    }
    return result;
  } finally {
    interrupts.dispose();
  }
}

async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMANDS.run!, args);
  if (positionals.length > 1) throw new UsageError(`run takes one plan, got ${positionals.length}`, 'run');
  const plan = readPlan(positionals[0]);
  const connection = connectionFrom(values, io.env, io.stderr, plan);
  // The plan is copied into the report: credentials in its URL must not travel with it.
  if (plan.deployment.url) plan.deployment.url = withoutCredentials(plan.deployment.url, { write: () => {} });
  const out = stringOption(values, 'out') ?? 'scaletest-results';
  checkOutDir(out);
  checkChromium(plan, stringOption(values, 'chromium'));
  if (isShardedRun(values) && plan.search)
    throw new UsageError('a capacity search (search in the plan) runs in one runner: drop --shards / --shard', 'run');
  applyWorkersOption(plan, values, 'run');
  if (isShardedRun(values)) {
    if (values['mark-baseline'] === true)
      throw new UsageError('--mark-baseline is not available for a sharded run yet: mark a run with `baseline set` instead', 'run');
    return runShardedCommand({ plan, planFile: positionals[0]!, connection, out, values, io });
  }
  const result = await execute(
    plan,
    connection,
    { out, ndjson: values.ndjson === true, chromium: stringOption(values, 'chromium'), coderBinary: stringOption(values, 'coder-binary') },
    io,
  );
  const againstBaseline = baselineSummaryLine(result.reportDir);
  if (againstBaseline) (values.ndjson === true ? io.stderr : io.stdout).write(againstBaseline);
  if (values['mark-baseline'] === true) markAfterRun(result, out, io);
  return result.exitCode;
}

function validateCommand(args: string[], io: CliIo): number {
  const { positionals } = parseCommandArgs(COMMANDS.validate!, args);
  const plan = readPlan(positionals[0]);
  io.stdout.write(
    `${positionals[0]}: valid plan "${plan.name}": ${plan.search ? `capacity search ${plan.search.from}-${plan.search.to} users` : `${plan.users} users`}, ${plan.timeline.slotSeconds} s slots, ${plan.thresholds.length} thresholds, cleanup ${plan.cleanup.strategy}\n`,
  );
  return EXIT.passed;
}

function initCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseCommandArgs(COMMANDS.init!, args);
  const target = positionals[0] ?? 'plan.scaletest.json';
  if (!target.endsWith('.scaletest.json')) io.stderr.write(`note: name plans *.scaletest.json so editors apply the plan schema\n`);
  if (fs.existsSync(target) && values.force !== true) throw new UsageError(`${target} already exists; pass --force to overwrite it`);
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  fs.writeFileSync(target, `${JSON.stringify(defaultPlan(), null, 2)}\n`);
  io.stdout.write(`wrote the default plan (reference methodology) to ${target}\n`);
  return EXIT.passed;
}

async function cleanupCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMANDS.cleanup!, args);
  const concurrency = wholeNumberOption('cleanup', 'concurrency', stringOption(values, 'concurrency'), 10, 1, 100);
  const runId = stringOption(values, 'run-id') ?? positionals[0];
  const connection = connectionFrom(values, io.env, io.stderr);
  try {
    if (!runId) {
      // Never guess which run to delete: list the candidates and let the user name one.
      const runs = await listLeftoverRuns(connection);
      const listing = [...runs].map(([id, users]) => `  ${id}  (${users} user${users === 1 ? '' : 's'})`).join('\n');
      io.stderr.write(
        `error: missing --run-id: the id printed when the run started (also the name of its report directory).\n` +
          (runs.size
            ? `Runs with scale-test users on ${connection.url}:\n${listing}\n`
            : `No scale-test users are left on ${connection.url}.\n`),
      );
      return EXIT.usage;
    }
    const interrupts = watchInterrupts(
      io.stderr,
      {
        stop: 'deletions under way finish, no new ones start',
        hurry: 'no more waiting for the deletions under way',
        cleanupCommand: () => cleanupCommandText(runId),
      },
      io.signal,
    );
    const outcome = await cleanupRun({
      connection,
      runId,
      concurrency,
      signal: interrupts.stop,
      abandon: interrupts.hurry,
      log: (level, message) => io.stderr.write(`${level}: ${message}\n`),
    }).finally(() => interrupts.dispose());
    const interrupted = interrupts.stop.aborted;
    io.stdout.write(
      `run ${runId}: deleted ${outcome.deletedWorkspaces} workspace(s) and ${outcome.deletedUsers} user(s)` +
        (outcome.leftovers.length
          ? `; ${interrupted ? 'interrupted, left behind' : 'could not delete'}: ${outcome.leftovers.join(', ')}`
          : '') +
        (outcome.refused.length ? `; not touched (not this run's): ${outcome.refused.length}, see the warnings above` : '') +
        '\n',
    );
    if (!outcome.leftovers.length) return EXIT.passed;
    return interrupted ? EXIT.aborted : EXIT.failed;
  } catch (error) {
    if ((error as Error).message.includes('is not a run id')) throw new UsageError((error as Error).message);
    const problem = classifyAccessError(error, connection.url);
    io.stderr.write(`error: ${accessProblemText(problem.message, problem.kind)}\n`);
    return EXIT.access;
  }
}

async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(COMMANDS.demo!, args);
  const users = wholeNumberOption('demo', 'users', stringOption(values, 'users'), 20, 1, 200);
  const slotText = stringOption(values, 'slot-seconds');
  const slotSeconds = Number(slotText ?? 8);
  if (!(slotSeconds >= 1 && slotSeconds <= 600))
    throw new UsageError(`--slot-seconds must be a number from 1 to 600, got "${slotText}"`, 'demo');
  const out = stringOption(values, 'out') ?? 'scaletest-results';
  checkOutDir(out);
  const ndjson = values.ndjson === true;
  const chromium = stringOption(values, 'chromium');
  const info = ndjson ? io.stderr : io.stdout;

  info.write(`starting the embedded simulated Coder deployment...\n`);
  // In a process of its own, so the simulator's half of the traffic cannot stall the runner.
  // Below the runner's CPU priority: on one machine, the runner's event loop is the stopwatch.
  const sim = await startSimDeploymentProcess({ buildDurationMs: 1500, agentConnectDelayMs: 500, directSsh: true, niceness: 5 });
  try {
    const plan = demoPlan(defaultPlan(), {
      users,
      slotSeconds,
      dashboard: values['no-dashboard'] !== true,
      directSsh: values['ssh-cli'] === true ? undefined : sim.directSsh,
      prometheusUrl: sim.prometheusUrl,
    });
    checkChromium(plan, chromium);
    applyWorkersOption(plan, values, 'demo');
    info.write(
      `simulated deployment at ${sim.url}; running the reference plan scaled down: ${users} users, ${slotSeconds} s slots ` +
        `(SSH T0-T3, web terminal T1-T4, apps T2-T5, dashboard T3-T6: ${6 * slotSeconds} s of traffic)\n`,
    );
    const result = await execute(plan, { url: sim.url, token: sim.ownerToken }, { out, ndjson, chromium }, io);
    return result.exitCode;
  } finally {
    await sim.close();
  }
}

/** The default plan scaled down for the embedded simulator. */
export function demoPlan(
  plan: Plan,
  options: { users: number; slotSeconds: number; dashboard: boolean; directSsh?: { host: string; port: number }; prometheusUrl?: string },
): Plan {
  plan.name = 'demo: reference scale test, scaled down, against the simulated deployment';
  plan.users = options.users;
  plan.timeline.slotSeconds = options.slotSeconds;
  plan.deployment.prometheusUrl = options.prometheusUrl;
  plan.concurrency = { prepare: 10, cleanup: 10 };
  plan.traffic.dashboard.enabled = options.dashboard;
  // One Chromium context per user is heavy on a small machine; a handful shows the stage.
  plan.traffic.dashboard.maxBrowsers = Math.min(options.users, 5);
  plan.traffic.dashboard.intervalSeconds = Math.max(1, Math.min(10, options.slotSeconds / 3));
  plan.traffic.dashboard.jitterSeconds = plan.traffic.dashboard.intervalSeconds / 2;
  if (options.directSsh) {
    // The simulator's direct SSH port spares one coder CLI process per connection (--ssh-cli
    // takes the `coder ssh --stdio` path instead, as against a real deployment).
    plan.traffic.ssh.transport = 'direct';
    plan.traffic.ssh.directAddress = `${options.directSsh.host}:${options.directSsh.port}`;
  }
  return plan;
}

if (require.main === module && process.argv[2] === RUNNER_MODE_ARG) {
  runRunnerMode();
} else if (require.main === module) {
  // The same bundle is also the simulated deployment's own process (src/sim/process.ts).
  const entry =
    process.argv[2] === SIM_CHILD_ARG
      ? runSimChild(startSimDeployment)
      : main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
  entry.then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(EXIT.failed);
    },
  );
}
