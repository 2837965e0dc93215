// Headless command line over the engine and the simulated deployment (dist/cli.js).
// Exit codes: 0 passed, 1 thresholds failed, 2 bad usage or invalid plan, 3 deployment
// unreachable or authentication failed, 130 aborted.
import * as fs from 'fs';
import * as path from 'path';
import type { DeploymentConnection } from '../coder/connection';
import { cleanupRun, defaultPlan, parsePlanText, PlanError, startRun, type Plan, type RunResult } from '../engine';
import { listLeftoverRuns } from '../engine/cleanup';
import { classifyAccessError } from '../engine/run';
import { startSimDeployment } from '../sim';
import { version } from '../../package.json';
import { ProgressView, renderSummary, type Output } from './progress';
import { parseCommandArgs, UsageError, wantsHelp, wholeNumberOption, type OptionSpecs } from './args';
import { runSimCommand, SIM_OPTIONS_HELP } from './simCommand';

export const EXIT = { passed: 0, failed: 1, usage: 2, access: 3, aborted: 130 } as const;

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Aborts a run (the CLI links it to Ctrl-C); tests pass their own. */
  signal?: AbortSignal;
}

const CONNECTION_OPTIONS = {
  url: { type: 'string', expects: 'the deployment URL, e.g. https://coder.example.com' },
  token: { type: 'string', expects: "a Coder owner's session token" },
  'ca-file': { type: 'string', expects: 'a PEM file of CA certificates to trust' },
  insecure: { type: 'boolean' },
} as const satisfies OptionSpecs;

const OPTIONS = {
  run: {
    ...CONNECTION_OPTIONS,
    out: { type: 'string', expects: 'a directory for the reports' },
    ndjson: { type: 'boolean' },
    chromium: { type: 'string', expects: 'the path of a Chromium binary' },
    'coder-binary': { type: 'string', expects: 'the path of a coder CLI binary' },
  },
  validate: {},
  init: { force: { type: 'boolean' } },
  cleanup: {
    ...CONNECTION_OPTIONS,
    'run-id': { type: 'string', expects: 'the id printed when the run started' },
    concurrency: { type: 'string', expects: 'a whole number of parallel deletions' },
  },
  demo: {
    users: { type: 'string', expects: 'a whole number of users from 1 to 200' },
    'slot-seconds': { type: 'string', expects: 'seconds per timeline slot, from 1 to 600' },
    out: { type: 'string', expects: 'a directory for the reports' },
    ndjson: { type: 'boolean' },
    'no-dashboard': { type: 'boolean' },
    'ssh-cli': { type: 'boolean' },
    chromium: { type: 'string', expects: 'the path of a Chromium binary' },
  },
} as const satisfies Record<string, OptionSpecs>;

const connectionHelp = (urlDefault: string) => `  --url URL           the deployment (default: ${urlDefault})
  --token TOKEN       an owner's session token (default: CODER_SESSION_TOKEN)
  --ca-file PEM       trust these CA certificates (TLS)
  --insecure          skip TLS certificate verification`;

/** Each command's synopsis (for the overview) and its full help (for `COMMAND --help`). */
const COMMAND_HELP: Record<string, { synopsis: string; help: string }> = {
  run: {
    synopsis: `run PLAN [--url URL] [--token TOKEN] [--out DIR] [--ndjson]
                           [--ca-file PEM] [--insecure] [--chromium PATH] [--coder-binary PATH]`,
    help: `Runs the plan's scale test against a deployment: prepare, traffic stages, thresholds, cleanup, reports.

${connectionHelp("CODER_URL, then the plan's deployment.url")}
  --out DIR           where the run's report directory goes (default: scaletest-results)
  --ndjson            write one JSON snapshot per line on stdout (logs go to stderr)
  --chromium PATH     the Chromium for the dashboard stage (default: found on this machine)
  --coder-binary PATH the coder CLI for SSH (default: downloaded from the deployment)`,
  },
  validate: { synopsis: 'validate PLAN', help: 'Checks a plan file and prints what it would run; exit 2 names each invalid field.' },
  init: {
    synopsis: 'init [PATH] [--force]            write the default plan (default: plan.scaletest.json)',
    help: `Writes the default plan (the reference methodology) to PATH (default: plan.scaletest.json).

  --force             overwrite an existing file`,
  },
  cleanup: {
    synopsis: 'cleanup --run-id ID [--url URL] [--token TOKEN]   (without --run-id: lists runs with leftovers)',
    help: `Deletes the workspaces and users a run left behind (names carry the run id; nothing broader).
Without --run-id, lists the runs that still have users on the deployment.
Ctrl-C starts no new deletions, lets those under way finish and lists what is left (exit 130).

  --run-id ID         the id printed when the run started (also its report directory's name)
${connectionHelp('CODER_URL')}
  --concurrency N     parallel deletions (default: 10)`,
  },
  demo: {
    synopsis: 'demo [--users N] [--slot-seconds S] [--out DIR] [--ndjson] [--no-dashboard] [--ssh-cli]',
    help: `Starts the embedded simulated Coder deployment and runs the reference plan, scaled down, against it.

  --users N           users (and workspaces), 1 to 200 (default: 20)
  --slot-seconds S    length of a timeline slot, 1 to 600 (default: 8)
  --out DIR           where the run's report directory goes (default: scaletest-results)
  --ndjson            write one JSON snapshot per line on stdout (logs go to stderr)
  --no-dashboard      skip the dashboard (Chromium) stage
  --ssh-cli           SSH through the coder CLI (as against a real deployment) instead of direct TCP
  --chromium PATH     the Chromium for the dashboard stage (default: found on this machine)`,
  },
  sim: {
    synopsis: 'sim [--host H] [--port N] [--faults FILE]',
    help: `Serves the simulated Coder deployment in the foreground until Ctrl-C. Prints one JSON line,
{"url", "token"} (the owner's session token), on stdout when ready; everything else on stderr.

${SIM_OPTIONS_HELP}`,
  },
};

const USAGE = `coder-scaletest ${version}: staged scale tests against a Coder deployment

usage:
${Object.values(COMMAND_HELP)
  .map(({ synopsis }) => `  coder-scaletest ${synopsis}`)
  .join('\n')}
  coder-scaletest COMMAND --help | --help | --version

CODER_URL and CODER_SESSION_TOKEN work in place of --url and --token (an owner's token).
Exit codes: 0 passed, 1 thresholds failed, 2 bad usage or invalid plan,
3 deployment unreachable or authentication failed, 130 aborted (after cleanup).
`;

function commandUsage(command: string): string {
  const { synopsis, help } = COMMAND_HELP[command]!;
  return `usage: coder-scaletest ${synopsis.replace(/\n\s+/g, ' ')}\n\n${help}\n`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command && Object.hasOwn(COMMAND_HELP, command) && wantsHelp(rest)) {
    io.stdout.write(commandUsage(command));
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
      case '--version':
      case '-v':
        io.stdout.write(`${version}\n`);
        return EXIT.passed;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(USAGE);
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
    throw new UsageError(`cannot read plan ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return parsePlanText(text, file);
}

function connectionFrom(values: { url?: string; token?: string; 'ca-file'?: string; insecure?: boolean }, env: NodeJS.ProcessEnv, plan?: Plan): DeploymentConnection {
  const url = values.url ?? env.CODER_URL ?? plan?.deployment.url;
  if (!url) throw new UsageError('no deployment URL: pass --url, set CODER_URL, or set deployment.url in the plan');
  if (!/^https?:\/\//.test(url)) throw new UsageError(`the deployment URL must start with http:// or https://, got "${url}"`);
  const token = values.token ?? env.CODER_SESSION_TOKEN;
  if (!token) throw new UsageError("no session token: pass --token or set CODER_SESSION_TOKEN to a Coder owner's token");
  const tls = values['ca-file'] || values.insecure ? { caFile: values['ca-file'], insecure: values.insecure } : undefined;
  return { url, token, tls };
}

/** Wires Ctrl-C to an abort: the first one says `what` happens now; a second one exits at once. */
function interruptSignal(io: CliIo, what: string): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (io.signal?.aborted) controller.abort();
  else io.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      io.stderr.write(`\ninterrupted: ${what} (Ctrl-C again to quit at once)\n`);
      controller.abort();
    } else {
      process.exit(EXIT.aborted);
    }
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

async function execute(plan: Plan, connection: DeploymentConnection, options: { out: string; ndjson: boolean; chromium?: string; coderBinary?: string }, io: CliIo): Promise<RunResult> {
  const view = new ProgressView(io.stdout, io.stderr, options.ndjson);
  const interrupt = interruptSignal(io, 'stopping traffic, cleaning up and writing the partial report');
  try {
    const handle = startRun({
      plan,
      connection,
      outDir: options.out,
      signal: interrupt.signal,
      log: (event) => view.event(event),
      chromiumPath: options.chromium,
      coderBinaryPath: options.coderBinary,
    });
    handle.subscribe((snapshot) => view.snapshot(snapshot));
    const result = await handle.done;
    view.finish();
    if (result.exitCode === EXIT.access) {
      io.stderr.write(`error: ${result.snapshot.reason}\nNo users, workspaces or traffic were created.\n`);
    } else {
      (options.ndjson ? io.stderr : io.stdout).write(renderSummary(result, Boolean(io.stdout.isTTY) && !options.ndjson));
    }
    return result;
  } finally {
    interrupt.dispose();
  }
}

async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', args, OPTIONS.run);
  if (positionals.length > 1) throw new UsageError(`run takes one plan, got ${positionals.length}`, 'run');
  const plan = readPlan(positionals[0]);
  const connection = connectionFrom(values, io.env, plan);
  const result = await execute(
    plan,
    connection,
    { out: values.out ?? 'scaletest-results', ndjson: Boolean(values.ndjson), chromium: values.chromium, coderBinary: values['coder-binary'] },
    io,
  );
  return result.exitCode;
}

function validateCommand(args: string[], io: CliIo): number {
  const { positionals } = parseCommandArgs('validate', args, OPTIONS.validate);
  const plan = readPlan(positionals[0]);
  io.stdout.write(
    `${positionals[0]}: valid plan "${plan.name}": ${plan.users} users, ${plan.timeline.slotSeconds} s slots, ${plan.thresholds.length} thresholds, cleanup ${plan.cleanup.strategy}\n`,
  );
  return EXIT.passed;
}

function initCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseCommandArgs('init', args, OPTIONS.init);
  const target = positionals[0] ?? 'plan.scaletest.json';
  if (!target.endsWith('.scaletest.json')) io.stderr.write(`note: name plans *.scaletest.json so editors apply the plan schema\n`);
  if (fs.existsSync(target) && !values.force) throw new UsageError(`${target} already exists; pass --force to overwrite it`);
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  fs.writeFileSync(target, `${JSON.stringify(defaultPlan(), null, 2)}\n`);
  io.stdout.write(`wrote the default plan (reference methodology) to ${target}\n`);
  return EXIT.passed;
}

async function cleanupCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('cleanup', args, OPTIONS.cleanup);
  const concurrency = wholeNumberOption('cleanup', 'concurrency', values.concurrency, 10, 1, 100);
  const runId = values['run-id'] ?? positionals[0];
  const connection = connectionFrom(values, io.env);
  try {
    if (!runId) {
      // Never guess which run to delete: list the candidates and let the user name one.
      const runs = await listLeftoverRuns(connection);
      const listing = [...runs].map(([id, users]) => `  ${id}  (${users} user${users === 1 ? '' : 's'})`).join('\n');
      io.stderr.write(
        `error: missing --run-id: the id printed when the run started (also the name of its report directory).\n` +
          (runs.size ? `Runs with scale-test users on ${connection.url}:\n${listing}\n` : `No scale-test users are left on ${connection.url}.\n`),
      );
      return EXIT.usage;
    }
    const interrupt = interruptSignal(io, 'deletions under way finish, no new ones start');
    const outcome = await cleanupRun({
      connection,
      runId,
      concurrency,
      signal: interrupt.signal,
      log: (level, message) => io.stderr.write(`${level}: ${message}\n`),
    }).finally(() => interrupt.dispose());
    const interrupted = interrupt.signal.aborted;
    io.stdout.write(
      `run ${runId}: deleted ${outcome.deletedWorkspaces} workspace(s) and ${outcome.deletedUsers} user(s)` +
        (outcome.leftovers.length ? `; ${interrupted ? 'interrupted, left behind' : 'could not delete'}: ${outcome.leftovers.join(', ')}` : '') +
        '\n',
    );
    if (!outcome.leftovers.length) return EXIT.passed;
    return interrupted ? EXIT.aborted : EXIT.failed;
  } catch (error) {
    if ((error as Error).message.includes('is not a run id')) throw new UsageError((error as Error).message);
    io.stderr.write(`error: ${classifyAccessError(error, connection.url).message}\n`);
    return EXIT.access;
  }
}

async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('demo', args, OPTIONS.demo);
  const users = wholeNumberOption('demo', 'users', values.users, 20, 1, 200);
  const slotSeconds = Number(values['slot-seconds'] ?? 8);
  if (!(slotSeconds >= 1 && slotSeconds <= 600)) throw new UsageError(`--slot-seconds must be a number from 1 to 600, got "${values['slot-seconds']}"`, 'demo');
  const out = values.out ?? 'scaletest-results';
  const info = values.ndjson ? io.stderr : io.stdout;

  info.write(`starting the embedded simulated Coder deployment...\n`);
  const sim = await startSimDeployment({ buildDurationMs: 1500, agentConnectDelayMs: 500, directSsh: true });
  try {
    const plan = demoPlan(defaultPlan(), {
      users,
      slotSeconds,
      dashboard: !values['no-dashboard'],
      directSsh: values['ssh-cli'] ? undefined : sim.directSsh,
      prometheusUrl: sim.prometheusUrl,
    });
    info.write(
      `simulated deployment at ${sim.url}; running the reference plan scaled down: ${users} users, ${slotSeconds} s slots ` +
        `(SSH T0-T3, web terminal T1-T4, apps T2-T5, dashboard T3-T6: ${6 * slotSeconds} s of traffic)\n`,
    );
    const result = await execute(plan, { url: sim.url, token: sim.ownerToken }, { out, ndjson: Boolean(values.ndjson), chromium: values.chromium }, io);
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

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(EXIT.failed);
    },
  );
}
