// `coder-scaletest sim`: runs the simulated Coder deployment in the foreground. When ready it
// prints exactly one JSON line on stdout, {"url", "token"} (the owner's session token: the one
// place a token is printed, on purpose, so scripts can drive the deployment); everything else
// goes to stderr. Serves until SIGINT/SIGTERM, then shuts down cleanly.
import { loadFaultsFile, startSimDeployment, type FaultsConfig } from '../sim';

const USAGE = 'usage: coder-scaletest sim [--host 127.0.0.1] [--port N] [--faults FILE]';

interface SimArgs {
  host: string;
  port: number;
  faults?: FaultsConfig;
}

function parseArgs(argv: string[]): SimArgs {
  const args: SimArgs = { host: '127.0.0.1', port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const [name, inline] = flag.includes('=') ? (flag.split(/=(.*)/s, 2) as [string, string]) : [flag, undefined];
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined || next === '') throw new Error(`${name} needs a value\n${USAGE}`);
      return next;
    };
    if (name === '--host') args.host = value();
    else if (name === '--port') {
      const raw = value();
      const port = Number(raw);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${raw}"\n${USAGE}`);
      args.port = port;
    } else if (name === '--faults') args.faults = loadFaultsFile(value());
    else if (name === '--help' || name === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option "${flag}"\n${USAGE}`);
  }
  return args;
}

export async function runSimCommand(argv: string[]): Promise<number> {
  let args: SimArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
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
