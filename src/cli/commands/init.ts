// `init [FILE]`: writes the default plan (the reference methodology), or with --search one
// whose capacity search finds how many users the deployment carries (docs/search.md).
import * as fs from 'fs';
import * as path from 'path';
import { defaultPlan, validatePlan, type Plan } from '../../engine';
import { parseCommandArgs, UsageError } from '../args';
import { COMMANDS } from '../commandSpecs';
import { EXIT, type CliIo } from '../io';

/** The default plan searching 100 → 2000 users (docs/search.md's example): the largest that passes, to 50 users. */
export function capacitySearchPlan(): Omit<Plan, 'users'> {
  // The search sets the user count itself: the plan names none.
  const { users: _users, ...plan } = defaultPlan();
  const searching = validatePlan({
    ...plan,
    name: 'how many users? (capacity search)',
    search: { from: 100, to: 2000, step: 'double', resolution: 50 },
  });
  const { users: _searchUsers, ...written } = searching;
  return written;
}

export function initCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseCommandArgs(COMMANDS.init!, args);
  const target = positionals[0] ?? 'plan.scaletest.json';
  if (!target.endsWith('.scaletest.json')) io.stderr.write(`note: name plans *.scaletest.json so editors apply the plan schema\n`);
  if (fs.existsSync(target) && values.force !== true) throw new UsageError(`${target} already exists; pass --force to overwrite it`);
  const search = values.search === true;
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  fs.writeFileSync(target, `${JSON.stringify(search ? capacitySearchPlan() : defaultPlan(), null, 2)}\n`);
  io.stdout.write(
    search
      ? `wrote a capacity-search plan (100 to 2000 users, see docs/search.md) to ${target}\n`
      : `wrote the default plan (reference methodology) to ${target}\n`,
  );
  return EXIT.passed;
}
