// Command-line arguments: each command is a commander Command built from one list of option
// specs, which gives both the parsing and the help text (never two tables kept in sync by
// hand). Every mistake reads as one line that names the option, says what was expected and
// where the command's help is (never commander's own wording, never the whole usage text).
import { Command, CommanderError, Option } from 'commander';

export interface OptionSpec {
  /** Commander flags, e.g. `--out <DIR>` (a value) or `--ndjson` (a switch). */
  flags: string;
  /** One line for the help text. */
  help: string;
  /** For options with a value: what the value is, e.g. "a directory". */
  expects?: string;
}

export interface CommandSpec {
  name: string;
  /** What follows the command name in the usage line, e.g. `PLAN [options]`. */
  usage: string;
  /** One line for the overview (`coder-scaletest --help`). */
  summary: string;
  /** The help text's first paragraph. */
  description: string;
  options: readonly OptionSpec[];
}

/** Bad usage (exit 2). With `command`, the message points at that command's --help. */
export class UsageError extends Error {
  constructor(message: string, command?: string) {
    super(command ? `${message}; see coder-scaletest ${command} --help` : message);
  }
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** True when the arguments ask for help (before any `--` terminator). */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

function buildCommand(spec: CommandSpec): Command {
  const command = new Command(spec.name)
    .usage(spec.usage)
    .description(spec.description)
    .helpOption(false)
    .allowExcessArguments(true)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .configureHelp({ helpWidth: 100 });
  for (const option of spec.options) command.addOption(new Option(option.flags, option.help));
  return command;
}

/** The command's full help, as printed by `coder-scaletest COMMAND --help`. */
export function commandHelp(spec: CommandSpec): string {
  const parent = new Command('coder-scaletest');
  parent.addCommand(buildCommand(spec));
  return parent.commands[0]!.helpInformation().replace(/^Usage:/, 'usage:');
}

/** `--name` of a long flag spec such as `--out <DIR>`. */
const longName = (flags: string) => /--[\w-]+/.exec(flags)![0];

export function parseCommandArgs(spec: CommandSpec, args: string[]): { values: OptionValues; positionals: string[] } {
  precheck(spec, args);
  const command = buildCommand(spec);
  try {
    command.parse(args, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const option = /'([^']+)'/.exec(error.message)?.[1]?.split(/[= ]/)[0] ?? error.message;
    if (error.code === 'commander.unknownOption') throw new UsageError(`unknown option ${option} for "${spec.name}"`, spec.name);
    throw new UsageError(error.message.replace(/^error: /, ''), spec.name);
  }
  // Keys as the user typed them (`--ca-file` → `ca-file`), not commander's camelCase.
  const values: OptionValues = {};
  for (const option of command.options) {
    const value = command.getOptionValue(option.attributeName());
    const key = option.long!.slice(2);
    // A lone `--no-x` defaults x to true in commander; here it is a switch like any other.
    if (option.negate) values[key] = value === false;
    else if (value !== undefined) values[key] = value as string | boolean;
  }
  return { values, positionals: command.args };
}

/**
 * What commander would accept but the user did not mean: `--out --ndjson` (commander takes
 * "--ndjson" as the directory), `--out=` (empty), `--ndjson=yes` (a switch with a value).
 */
function precheck(spec: CommandSpec, args: string[]): void {
  const byName = new Map(spec.options.map((option) => [longName(option.flags), option]));
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  options.forEach((arg, index) => {
    if (!arg.startsWith('--')) return;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const option = byName.get(name!);
    if (!option) return;
    const takesValue = option.flags.includes('<');
    if (!takesValue && inline !== undefined) throw new UsageError(`${name} takes no value, got "${inline}"`, spec.name);
    if (!takesValue) return;
    const next = options[index + 1];
    const missing = inline === undefined ? next === undefined || next.startsWith('-') : inline === '';
    if (missing) throw new UsageError(`${name} needs a value: ${option.expects ?? 'a value'}`, spec.name);
  });
}

/** The string value of an option (undefined when not given). */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A whole-number option within [min, max], or `fallback` when it was not given. */
export function wholeNumberOption(
  command: string,
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`, command);
  return value;
}
