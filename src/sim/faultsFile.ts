// Validation of fault configurations (`sim --faults FILE`, setFaults): unknown knobs and
// out-of-range values are rejected with the knob's path and what is allowed.
import * as fs from 'fs';
import Ajv from 'ajv';
import { Type, type TSchema } from '@sinclair/typebox';
import { endpointClasses } from '../coder/endpointClass';
import { DATA_PLANE_KINDS, type FaultsConfig } from './faults';

const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const Millis = Type.Number({ minimum: 0 });
const strict = { additionalProperties: false };

function perClass<T extends TSchema>(value: T) {
  return Type.Partial(Type.Object(Object.fromEntries([...endpointClasses, 'all'].map((name) => [name, value])), strict), strict);
}

/** A minute per connection is far beyond any echo timeout: larger values are typos. */
const PerUnitMillis = Type.Number({ minimum: 0, maximum: 60_000 });
const Above = Type.Optional(Type.Integer({ minimum: 0 }));

function loadLatencySchema() {
  const perConnection = Type.Object({ msPerConnection: PerUnitMillis, above: Above }, strict);
  return Type.Partial(
    Type.Object(
      {
        ...Object.fromEntries(DATA_PLANE_KINDS.map((kind) => [kind, perConnection])),
        api: Type.Object({ msPerRequest: PerUnitMillis, above: Above }, strict),
      },
      strict,
    ),
    strict,
  );
}

export const FaultsSchema = Type.Object(
  {
    latency: Type.Optional(perClass(Type.Object({ ms: Millis, jitterMs: Type.Optional(Millis) }, strict))),
    errorRates: Type.Optional(perClass(Fraction)),
    rateLimited: Type.Optional(
      perClass(Type.Object({ fraction: Fraction, retryAfterSeconds: Type.Integer({ minimum: 0, maximum: 3600 }) }, strict)),
    ),
    dropConnections: Type.Optional(
      Type.Partial(
        Type.Object(
          Object.fromEntries(DATA_PLANE_KINDS.map((kind) => [kind, Type.Object({ fraction: Fraction, afterMs: Millis }, strict)])),
          strict,
        ),
        strict,
      ),
    ),
    loadLatency: Type.Optional(loadLatencySchema()),
    workspaceFaults: Type.Optional(
      Type.Array(
        Type.Object(
          {
            workspace: Type.String({ minLength: 1 }),
            agent: Type.Optional(Type.String({ minLength: 1 })),
            kinds: Type.Optional(Type.Array(Type.Union(DATA_PLANE_KINDS.map((kind) => Type.Literal(kind))), { minItems: 1 })),
            echoDelayMs: Type.Optional(PerUnitMillis),
            dropAfterMs: Type.Optional(Millis),
          },
          strict,
        ),
      ),
    ),
    acceptRate: Type.Optional(
      Type.Partial(
        Type.Object(
          Object.fromEntries(
            DATA_PLANE_KINDS.map((kind) => [
              kind,
              Type.Object({ perSecond: Type.Number({ exclusiveMinimum: 0, maximum: 100000 }) }, strict),
            ]),
          ),
          strict,
        ),
        strict,
      ),
    ),
    failBuilds: Type.Optional(Fraction),
    agentsNeverConnect: Type.Optional(Fraction),
    restart: Type.Optional(Type.Object({ atMs: Millis, downForMs: Millis }, strict)),
    buildDurationMs: Type.Optional(Millis),
    buildDuration: Type.Optional(Type.Object({ medianMs: Millis, p95Ms: Type.Optional(Millis) }, strict)),
    stalledProvisioners: Type.Optional(Type.Integer({ minimum: 0 })),
    workspaceEventDelayMs: Type.Optional(Millis),
    staleParameters: Type.Optional(Fraction),
    agentConnectDelayMs: Type.Optional(Millis),
    startupScriptMs: Type.Optional(Millis),
    startupScriptFails: Type.Optional(Fraction),
    startupScriptTimesOut: Type.Optional(Fraction),
    ptyBackend: Type.Optional(Type.Union([Type.Literal('buffered'), Type.Literal('screen')])),
  },
  strict,
);

const validate = new Ajv({ allErrors: true, strict: false }).compile(FaultsSchema);

/** Returns `value` as a FaultsConfig or throws an error listing every problem. */
export function validateFaults(value: unknown, source = 'faults'): FaultsConfig {
  if (validate(value)) return value as FaultsConfig;
  const problems = (validate.errors ?? []).map((error) => {
    const where = error.instancePath || '(top level)';
    if (error.keyword === 'additionalProperties') {
      return `${where}: unknown knob "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    }
    if (error.keyword === 'required') {
      return `${where}: missing "${(error.params as { missingProperty: string }).missingProperty}"`;
    }
    return `${where}: ${error.message}`;
  });
  throw new Error(`${source} is not a valid fault configuration (see docs/faults.md):\n  ${problems.join('\n  ')}`);
}

/** Reads and validates a faults JSON file. */
export function loadFaultsFile(path: string): FaultsConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read faults file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`faults file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return validateFaults(parsed, `faults file ${path}`);
}
