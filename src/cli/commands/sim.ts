// `coder-scaletest sim`: runs the simulated Coder deployment in the foreground. When ready it
// prints exactly one JSON line on stdout, {"url", "token"} (the owner's session token: the one
// place a token is printed, on purpose, so scripts can drive the deployment); everything else
// goes to stderr. Serves until SIGINT/SIGTERM/SIGHUP, then shuts down cleanly.
import { coderVersionBehaviour, DEFAULT_CODER_VERSION, loadFaultsFile, startSimDeployment, type FaultsConfig } from '../../sim';
import { parseCommandArgs, stringOption, UsageError, wholeNumberOption, type CommandSpec, type OptionValues } from '../args';

export const SIM_COMMAND: CommandSpec = {
  name: 'sim',
  summary: 'serve the simulated deployment (prints its URL and owner token)',
  usage: '[options]',
  description: `Serves the simulated Coder deployment in the foreground until Ctrl-C (or SIGTERM, SIGHUP). Prints one
JSON line, {"url", "token"} (the owner's session token), on stdout when ready; everything else on stderr.`,
  options: [
    { flags: '--host <H>', help: 'the address to listen on (default: 127.0.0.1)', expects: 'an address to listen on, e.g. 127.0.0.1' },
    { flags: '--port <N>', help: 'the port, 0 for any free one (default: 0)', expects: 'a port number, 0 for any free one' },
    { flags: '--faults <FILE>', help: 'inject the faults described in this JSON file (see docs/faults.md)', expects: 'a faults JSON file' },
    {
      flags: '--provisioners <N>',
      help: 'provisioner daemons, each running one build at a time (default: 50, the reference deployment; coderd ships 3)',
      expects: 'a whole number of provisioner daemons, e.g. 10',
    },
    {
      flags: '--autobuild-poll-ms <MS>',
      help: "how often the lifecycle executor looks for workspaces due to autostart (default: 60000, coderd's --autobuild-poll-interval)",
      expects: 'milliseconds between autostart checks, e.g. 5000',
    },
    {
      flags: '--coder-version <V>',
      help: `the coderd version to behave like, e.g. 2.16.0 (default: ${DEFAULT_CODER_VERSION}; see docs/fidelity.md)`,
      expects: 'a coderd version such as 2.16.0',
    },
    { flags: '--no-template', help: 'start without the built-in scale-test template (push one with `template push`)' },
    { flags: '--subdomain-apps', help: 'serve a wildcard app host (*.apps.localhost:PORT) for subdomain apps' },
  ],
};

interface SimArgs {
  host: string;
  port: number;
  faults?: FaultsConfig;
  coderVersion?: string;
  provisionerDaemons?: number;
  autobuildPollMs?: number;
  template: boolean;
  subdomainApps: boolean;
}

function simArgs(argv: string[]): SimArgs {
  const { values, positionals } = parseCommandArgs(SIM_COMMAND, argv);
  if (positionals.length) throw new UsageError(`sim takes no arguments, got "${positionals[0]}"`, 'sim');
  const faults = stringOption(values, 'faults');
  return {
    host: stringOption(values, 'host') ?? '127.0.0.1',
    port: wholeNumberOption('sim', 'port', stringOption(values, 'port'), 0, 0, 65535),
    faults: faults === undefined ? undefined : loadFaultsFile(faults),
    coderVersion: checkedCoderVersion(stringOption(values, 'coder-version')),
    provisionerDaemons: optionalWhole(values, 'provisioners', 1, 10_000),
    autobuildPollMs: optionalWhole(values, 'autobuild-poll-ms', 100, 3_600_000),
    template: values['no-template'] !== true,
    subdomainApps: values['subdomain-apps'] === true,
  };
}

function optionalWhole(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const raw = stringOption(values, name);
  return raw === undefined ? undefined : wholeNumberOption('sim', name, raw, min, min, max);
}

function checkedCoderVersion(version: string | undefined): string | undefined {
  if (version === undefined) return undefined;
  try {
    coderVersionBehaviour(version);
  } catch (error) {
    throw new UsageError(`--coder-version: ${(error as Error).message}`, 'sim');
  }
  return version;
}

export async function runSimCommand(argv: string[]): Promise<number> {
  let args: SimArgs;
  try {
    args = simArgs(argv);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 2;
  }
  const sim = await startSimDeployment({
    host: args.host,
    port: args.port,
    faults: args.faults,
    coderVersion: args.coderVersion,
    provisionerDaemons: args.provisionerDaemons,
    autobuildPollMs: args.autobuildPollMs,
    template: args.template,
    subdomainApps: args.subdomainApps,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ url: sim.url, token: sim.ownerToken })}\n`);
  process.stderr.write(`owner: ${sim.ownerEmail}; Prometheus metrics: ${sim.prometheusUrl}\nPress Ctrl+C to stop.\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGHUP', () => resolve('SIGHUP'));
  });
  process.stderr.write(`${signal}: shutting down\n`);
  await sim.close();
  return 0;
}
