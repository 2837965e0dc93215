// Headless command line over the engine and the simulated deployment (dist/cli.js): dispatches
// to the commands (./commands/*). Exit codes: see ./io.ts.
import { PlanError } from '../engine';
import { startSimDeployment } from '../sim';
import { runSimChild, SIM_CHILD_ARG } from '../sim/process';
import { version } from '../../package.json';
import { RUNNER_MODE_ARG } from '../protocol/runner';
import { UsageError, wantsHelp } from './args';
import { COMMANDS, usageOverview, usageOf } from './commandSpecs';
import { runBaselineCommand } from './commands/baseline';
import { cleanupCommand } from './commands/cleanup';
import { demoCommand } from './commands/demo';
import { initCommand } from './commands/init';
import { runK8sCommand } from './commands/k8s';
import { runCommand } from './commands/run';
import { runSimCommand } from './commands/sim';
import { templateCommand } from './commands/template';
import { checkCommand } from './commands/check';
import { validateCommand } from './commands/validate';
import { connectionFrom } from './credentials';
import { EXIT, type CliIo } from './io';
import { runRunnerMode } from './runner';
import { checkOutDir, readPlan } from './runInputs';

export { EXIT, type CliIo } from './io';

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
      case 'check':
        return await checkCommand(COMMANDS.check!, rest, io);
      case 'template':
        return await templateCommand(COMMANDS.template!, rest, io);
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
    // Not the deployment's failure: the runner itself failed (exit 5).
    io.stderr.write(`error: ${(error as Error).message}\n`);
    return EXIT.runner;
  }
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
      process.exit(EXIT.runner);
    },
  );
}
