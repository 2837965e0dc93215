// `cleanup --run-id ID`: deletes what a run left behind, and only that.
import { cleanupRun } from '../../engine';
import * as path from 'path';
import { JournalReadError, listLeftoverRuns } from '../../engine/cleanup/cleanup';
import { classifyAccessError } from '../../engine/run/run';
import { parseCommandArgs, stringOption, UsageError, wholeNumberOption } from '../args';
import { COMMANDS } from '../commandSpecs';
import { connectionFrom } from '../credentials';
import { EXIT, type CliIo } from '../io';
import { watchInterrupts } from '../interrupts';
import { accessProblemText, cleanupCommandText } from '../outcomeText';

export async function cleanupCommand(args: string[], io: CliIo): Promise<number> {
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
      runDir: path.join(stringOption(values, 'out') ?? 'scaletest-results', runId),
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
        (outcome.gone.length ? `; already gone: ${outcome.gone.length}` : '') +
        (outcome.refused.length ? `; not touched (not this run's): ${outcome.refused.length}, see the warnings above` : '') +
        ` (from ${outcome.source === 'journal' ? "the run's journal" : 'names on the deployment: no journal found'})` +
        '\n',
    );
    if (!outcome.leftovers.length) return EXIT.passed;
    return interrupted ? EXIT.aborted : EXIT.cleanup;
  } catch (error) {
    if ((error as Error).message.includes('is not a run id')) throw new UsageError((error as Error).message);
    if (error instanceof JournalReadError) {
      io.stderr.write(`error: ${(error as Error).message}\nNothing was deleted.\n`);
      return EXIT.usage;
    }
    const problem = classifyAccessError(error, connection.url);
    io.stderr.write(`error: ${accessProblemText(problem.message, problem.kind)}\n`);
    return EXIT.access;
  }
}
