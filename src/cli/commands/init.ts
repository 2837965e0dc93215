// `init [FILE]`: writes the default plan (the reference methodology).
import * as fs from 'fs';
import * as path from 'path';
import { defaultPlan } from '../../engine';
import { parseCommandArgs, UsageError } from '../args';
import { COMMANDS } from '../commandSpecs';
import { EXIT, type CliIo } from '../io';

export function initCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseCommandArgs(COMMANDS.init!, args);
  const target = positionals[0] ?? 'plan.scaletest.json';
  if (!target.endsWith('.scaletest.json')) io.stderr.write(`note: name plans *.scaletest.json so editors apply the plan schema\n`);
  if (fs.existsSync(target) && values.force !== true) throw new UsageError(`${target} already exists; pass --force to overwrite it`);
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  fs.writeFileSync(target, `${JSON.stringify(defaultPlan(), null, 2)}\n`);
  io.stdout.write(`wrote the default plan (reference methodology) to ${target}\n`);
  return EXIT.passed;
}
