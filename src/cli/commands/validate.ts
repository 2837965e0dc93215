// `validate PLAN`: checks a plan and says what it would run.
import { parseCommandArgs } from '../args';
import { COMMANDS } from '../commandSpecs';
import { EXIT, type CliIo } from '../io';
import { readPlan } from '../runInputs';

export function validateCommand(args: string[], io: CliIo): number {
  const { positionals } = parseCommandArgs(COMMANDS.validate!, args);
  const plan = readPlan(positionals[0]);
  io.stdout.write(
    `${positionals[0]}: valid plan "${plan.name}": ${plan.search ? `capacity search ${plan.search.from}-${plan.search.to} users` : `${plan.users} users`}, ${plan.timeline.slotSeconds} s slots, ${plan.thresholds.length} thresholds, cleanup ${plan.cleanup.strategy}\n`,
  );
  return EXIT.passed;
}
