// `coder-scaletest sim`: runs the simulated Coder deployment in the foreground. When ready it
// prints exactly one JSON line on stdout, {"url", "token"} (the owner's session token: the one
// place a token is printed, on purpose, so scripts can drive the deployment); everything else
// goes to stderr. Serves until SIGINT/SIGTERM, then shuts down cleanly.
import { loadFaultsFile, startSimDeployment, type FaultsConfig } from '../sim';
import { parseCommandArgs, UsageError, wholeNumberOption } from './args';

export const SIM_OPTIONS_HELP = `  --host H            the address to listen on (default: 127.0.0.1)
  --port N            the port, 0 for any free one (default: 0)
  --faults FILE       inject the faults described in this JSON file`;

interface SimArgs {
  host: string;
  port: number;
  faults?: FaultsConfig;
}

function simArgs(argv: string[]): SimArgs {
  const { values, positionals } = parseCommandArgs('sim', argv, {
    host: { type: 'string', expects: 'an address to listen on, e.g. 127.0.0.1' },
    port: { type: 'string', expects: 'a port number, 0 for any free one' },
    faults: { type: 'string', expects: 'a faults JSON file' },
  });
  if (positionals.length) throw new UsageError(`sim takes no arguments, got "${positionals[0]}"`, 'sim');
  return {
    host: values.host ?? '127.0.0.1',
    port: wholeNumberOption('sim', 'port', values.port, 0, 0, 65535),
    faults: values.faults === undefined ? undefined : loadFaultsFile(values.faults),
  };
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
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ url: sim.url, token: sim.ownerToken })}\n`);
  process.stderr.write(`owner: ${sim.ownerEmail}; Prometheus metrics: ${sim.prometheusUrl}\nPress Ctrl+C to stop.\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stderr.write(`${signal}: shutting down\n`);
  await sim.close();
  return 0;
}
