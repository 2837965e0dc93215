// Command-line arguments of one command, checked so that every mistake reads as one line that
// names the option, says what was expected and where the command's help is (never Node's
// parseArgs wording, never the whole usage text).
import { parseArgs } from 'util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** For string options: what the value is, e.g. "a directory". */
  expects?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Bad usage (exit 2). With `command`, the message points at that command's --help. */
export class UsageError extends Error {
  constructor(message: string, command?: string) {
    super(command ? `${message}; see coder-scaletest ${command} --help` : message);
  }
}

type Values<T extends OptionSpecs> = { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };

/** True when the arguments ask for help (before any `--` terminator). */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

export function parseCommandArgs<T extends OptionSpecs>(command: string, args: string[], specs: T): { values: Values<T>; positionals: string[] } {
  // Non-strict parsing yields tokens for everything, so the checks below can word the errors.
  const options = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type }]));
  const { values, positionals, tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (!spec) throw new UsageError(`unknown option ${token.rawName} for "${command}"`, command);
    if (spec.type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value, got "${token.value}"`, command);
    // `--out --ndjson` would otherwise silently take "--ndjson" as the directory.
    const missing = token.value === undefined || token.value === '' || (!token.inlineValue && token.value.startsWith('-'));
    if (spec.type === 'string' && missing) throw new UsageError(`${token.rawName} needs a value: ${spec.expects ?? 'a value'}`, command);
  }
  return { values: values as Values<T>, positionals };
}

/** A whole-number option within [min, max], or `fallback` when it was not given. */
export function wholeNumberOption(command: string, name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`, command);
  return value;
}
