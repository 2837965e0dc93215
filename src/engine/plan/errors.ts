// Plan errors in plain words: the schema validator's errors named by field, with the allowed
// values or the expected form, and JSON syntax errors located by line and column.
import type { ErrorObject } from 'ajv';

/** One sentence per problem, each naming its field; a union's branch noise left out. */
export function schemaProblems(errors: ErrorObject[]): string[] {
  return dedupe(withoutBranchNoise(errors).map(describeAjvError));
}

function describeAjvError(error: ErrorObject): string {
  const path = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${path}: unknown field "${String(params.additionalProperty)}" (check the spelling; see the plan schema)`;
    case 'required':
      return `${path}: missing required field "${String(params.missingProperty)}"`;
    case 'type':
      return `${path}: must be ${article(String(params.type))}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${path}: ${error.message}`;
    case 'pattern':
      return `${path}: ${patternHint(path) ?? `must match ${String(params.pattern)}`}`;
    case 'const':
    case 'anyOf':
      return `${path}: must be one of ${allowedLiterals(error) ?? 'the documented values'}`;
    default:
      return `${path}: ${error.message ?? 'is invalid'}`;
  }
}

function fieldPath(instancePath: string): string {
  if (!instancePath) return 'plan';
  return instancePath
    .slice(1)
    .split('/')
    .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : `${index > 0 ? '.' : ''}${part}`))
    .join('');
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function patternHint(path: string): string | undefined {
  if (path === 'runIdPrefix') return 'must be 1-6 lowercase letters or digits, starting with a letter (e.g. "st")';
  if (path.endsWith('url') || path.endsWith('Url')) return 'must be an http:// or https:// URL';
  if (path.startsWith('traffic.dashboard.pages')) return 'must be a path starting with "/"';
  return undefined;
}

function allowedLiterals(error: ErrorObject): string | undefined {
  const branches = error.schema as Array<{ const?: unknown }> | undefined;
  const literals = Array.isArray(branches) ? branches.map((branch) => branch.const).filter((value) => value !== undefined) : [];
  return literals.length > 0 ? literals.join(', ') : undefined;
}

/** A union's failure reports every branch (`const`) plus the union (`anyOf`): keep the union. */
function withoutBranchNoise(errors: ErrorObject[]): ErrorObject[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors.filter((e) => e.keyword !== 'const' || !unionPaths.has(e.instancePath));
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

/** Turns V8's "at position N" into "at line L column C" (1-based), which editors can jump to. */
export function withLineAndColumn(message: string, text: string): string {
  const match = /at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  if (!match) return message;
  const position = Math.min(Number(match[1]), text.length);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return message.replace(match[0], `at line ${line} column ${column}`);
}
