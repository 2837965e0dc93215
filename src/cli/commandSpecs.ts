// Every command's options, once: commander parses with them and writes the help from them.
import { version } from '../../package.json';
import { commandHelp, type CommandSpec, type OptionSpec } from './args';
import { exitCodeHelp } from '../engine/judge/outcome';
import { OBSERVE_OPTIONS } from './observe';
import { BASELINE_COMMAND, MARK_BASELINE_OPTION } from './commands/baseline';
import { K8S_COMMAND } from './commands/k8s';
import { SHARD_RUN_OPTIONS } from './commands/runSharded';
import { SIM_COMMAND } from './commands/sim';
import { templateCommandSpec } from './commands/template';
import { checkCommandSpec } from './commands/check';

const connectionOptions = (urlDefault: string): OptionSpec[] => [
  { flags: '--url <URL>', help: `the deployment (default: ${urlDefault})`, expects: 'the deployment URL, e.g. https://coder.example.com' },
  {
    flags: '--token <TOKEN>',
    help: "an owner's session token (default: CODER_SESSION_TOKEN; prefer it or --token-file, since other users see --token in `ps`)",
    expects: "a Coder owner's session token",
  },
  { flags: '--token-file <FILE>', help: "read the owner's session token from this file", expects: 'a file holding the session token' },
  { flags: '--ca-file <PEM>', help: 'trust these CA certificates (TLS)', expects: 'a PEM file of CA certificates to trust' },
  { flags: '--insecure', help: 'skip TLS certificate verification' },
];

const out: OptionSpec = {
  flags: '--out <DIR>',
  help: "where the run's report directory goes (default: scaletest-results)",
  expects: 'a directory for the reports',
};
const ndjson: OptionSpec = { flags: '--ndjson', help: 'write one JSON snapshot per line on stdout (logs go to stderr)' };
const chromium: OptionSpec = {
  flags: '--chromium <PATH>',
  help: 'the Chromium for the dashboard stage (default: found on this machine)',
  expects: 'the path of a Chromium binary',
};

const workers: OptionSpec = {
  flags: '--workers <N>',
  help: "worker threads for the SSH, web terminal and apps connections (default: the plan's workers, else one per core but one; 0 or 1: all on the main thread)",
  expects: 'a whole number of worker threads from 0 to 256',
};

const STOP_HELP = `SIGINT (Ctrl-C), SIGTERM and SIGHUP stop it: traffic ends, cleanup runs, the partial report is
written (exit 130). A second signal stops waiting for cleanup (what is left is named, with the
cleanup command); a third exits at once.`;

export const COMMANDS: Record<string, CommandSpec> = {
  run: {
    name: 'run',
    summary: "run a plan's scale test against a deployment",
    usage: 'PLAN [options]',
    description: `Runs the plan's scale test against a deployment: prepare, traffic stages, thresholds, cleanup, reports.\n${STOP_HELP}\nExit codes (the first that applies, in this order: 3, 2, 130, 4, 1, 5):\n${exitCodeHelp()}`,
    options: [
      ...connectionOptions("CODER_URL, then the plan's deployment.url"),
      out,
      ndjson,
      chromium,
      {
        flags: '--coder-binary <PATH>',
        help: 'the coder CLI for SSH (default: downloaded from the deployment)',
        expects: 'the path of a coder CLI binary',
      },
      MARK_BASELINE_OPTION,
      workers,
      ...OBSERVE_OPTIONS,
      { flags: '--skip-check', help: 'start without the pre-run check (`coder-scaletest check`); the report records it' },
      ...SHARD_RUN_OPTIONS,
    ],
  },
  validate: {
    name: 'validate',
    summary: 'check a plan file',
    usage: 'PLAN',
    description: 'Checks a plan file and prints what it would run; exit 2 names each invalid field.',
    options: [],
  },
  init: {
    name: 'init',
    summary: 'write the default plan',
    usage: '[PATH] [--search] [--force]',
    description:
      'Writes the default plan (the reference methodology) to PATH (default: plan.scaletest.json); with --search, a plan\nwhose capacity search finds how many users the deployment carries (docs/search.md).',
    options: [
      { flags: '--search', help: 'a capacity search (100 to 2000 users, doubling, then bisecting to 50) instead of a fixed user count' },
      { flags: '--force', help: 'overwrite an existing file' },
    ],
  },
  cleanup: {
    name: 'cleanup',
    summary: 'delete what a run left behind (no --run-id: list runs)',
    usage: '--run-id ID [options]',
    description: `Deletes the workspaces and users a run left behind. When the run's directory (<out>/<ID>) holds
its journal, exactly what the journal names is deleted (also after the runner was killed);
without one, only what passes every check of what coder-scaletest creates (naming, email,
owner) is touched. Look-alikes are named and left alone; what is already gone is reported.
Without --run-id, lists the runs that still have users on the deployment.
The first stop signal (Ctrl-C, SIGTERM, SIGHUP) starts no new deletions, lets those under way
finish and lists what is left (exit 130); a second stops waiting; a third exits at once.`,
    options: [
      {
        flags: '--run-id <ID>',
        help: "the id printed when the run started (also its report directory's name)",
        expects: 'the id printed when the run started',
      },
      ...connectionOptions('CODER_URL'),
      {
        flags: '--out <DIR>',
        help: "where the run's reports are (default: scaletest-results): its journal is read from <DIR>/<ID>",
        expects: 'the results directory the run wrote to',
      },
      { flags: '--concurrency <N>', help: 'parallel deletions (default: 10)', expects: 'a whole number of parallel deletions' },
    ],
  },
  demo: {
    name: 'demo',
    summary: 'run a scaled-down plan against the embedded simulator',
    usage: '[options]',
    description: 'Starts the embedded simulated Coder deployment and runs the reference plan, scaled down, against it.',
    options: [
      { flags: '--users <N>', help: 'users (and workspaces), 1 to 200 (default: 20)', expects: 'a whole number of users from 1 to 200' },
      {
        flags: '--slot-seconds <S>',
        help: 'length of a timeline slot, 1 to 600 (default: 8)',
        expects: 'seconds per timeline slot, from 1 to 600',
      },
      out,
      ndjson,
      { flags: '--no-dashboard', help: 'skip the dashboard (Chromium) stage' },
      { flags: '--ssh-cli', help: 'SSH through the coder CLI (as against a real deployment) instead of direct TCP' },
      chromium,
      workers,
    ],
  },
  check: checkCommandSpec(connectionOptions("CODER_URL, then the plan's deployment.url")),
  template: templateCommandSpec(connectionOptions('CODER_URL')),
  sim: SIM_COMMAND,
  k8s: K8S_COMMAND,
  baseline: BASELINE_COMMAND,
};

/** Where the overview's summaries start; a longer usage puts its summary on the next line there. */
const SUMMARY_COLUMN = 48;

export function usageOverview(): string {
  const lines = Object.values(COMMANDS).map((spec) => {
    const usage = `  coder-scaletest ${spec.name} ${spec.usage}`;
    return usage.length + 2 <= SUMMARY_COLUMN
      ? usage.padEnd(SUMMARY_COLUMN) + spec.summary
      : `${usage}\n${' '.repeat(SUMMARY_COLUMN)}${spec.summary}`;
  });
  return `coder-scaletest ${version}: staged scale tests against a Coder deployment

usage:
${lines.join('\n')}
  coder-scaletest COMMAND --help | --help | --version

CODER_URL and CODER_SESSION_TOKEN work in place of --url and --token (an owner's token).
Exit codes (when several apply: 3, 2, 130, 4, 1, 5, in that order):
${exitCodeHelp()}
`;
}

export function usageOf(command: string): string {
  return commandHelp(COMMANDS[command]!);
}
