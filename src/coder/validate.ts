// Compiles the project's TypeBox schemas with ajv and checks every API response against them,
// so a deployment that answers with an unexpected shape fails loudly, naming the field.
import Ajv, { type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';

// Formats (uuid, date-time, email) are documentation for the spec check, not rejections:
// a client that refuses a slightly unusual timestamp would be the weakest link of a run.
// Created on first use: ajv's constructor compiles its meta-schemas, work an extension host
// that only lists runs should not pay at activation.
let ajv: Ajv | undefined;
const compiled = new WeakMap<TSchema, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    ajv ??= new Ajv({ allErrors: false, strict: false, validateFormats: false });
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Thrown when a response body does not have the shape the Coder API promises. */
export class SchemaMismatchError extends Error {
  constructor(
    readonly context: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${context}: unexpected response shape at ${field || '(body)'}: ${problem}`);
    this.name = 'SchemaMismatchError';
  }
}

/**
 * Go encodes a nil slice as `null`; treat it as the empty array the schema describes, in place,
 * so callers never have to tell the two apart.
 */
function nilSlicesToEmpty(schema: TSchema, value: unknown): unknown {
  if (schema.type === 'array') {
    if (value === null) return [];
    if (Array.isArray(value) && schema.items) {
      for (let i = 0; i < value.length; i++) value[i] = nilSlicesToEmpty(schema.items as TSchema, value[i]);
    }
    return value;
  }
  if (schema.type === 'object' && schema.properties && value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const [key, propertySchema] of Object.entries(schema.properties as Record<string, TSchema>)) {
      if (key in record) record[key] = nilSlicesToEmpty(propertySchema, record[key]);
    }
  }
  return value;
}

/** Returns `value` typed by `schema`, or throws SchemaMismatchError naming `context` and the field. */
export function parseAs<T extends TSchema>(schema: T, value: unknown, context: string): Static<T> {
  const normalized = nilSlicesToEmpty(schema, value);
  const validate = validatorFor(schema);
  if (!validate(normalized)) {
    const error = validate.errors?.[0];
    const field = error ? error.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
    const missing = error?.keyword === 'required' ? String((error.params as { missingProperty?: string }).missingProperty) : '';
    throw new SchemaMismatchError(context, missing ? (field ? `${field}.${missing}` : missing) : field, error?.message ?? 'invalid');
  }
  return normalized as Static<T>;
}

/** Boolean form for tests and the conformance check. */
export function matchesSchema(schema: TSchema, value: unknown): { ok: true } | { ok: false; error: string } {
  try {
    parseAs(schema, structuredClone(value), 'value');
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
