// The scale-test plan: its JSON Schema (TypeBox, so the type and the schema are one
// definition), its defaults (the reference methodology) and validation with errors that name
// the field and the problem in plain words.
import { Type, type Static } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';
import { TRAFFIC_STAGES, type TrafficStageName } from '../protocol/snapshot';
import { parseThreshold } from './thresholds';
import { appLabelProblem } from './naming';

/** Node's timers hold at most 2^31-1 ms (~24.8 days); longer delays fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const DAY_SECONDS = 86400;

const Window = (description: string, defaultWindow: [number, number]) =>
  Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ minimum: 0 })], {
    description,
    default: defaultWindow,
  });

const echoTrafficBase = (title: string) => ({
  enabled: Type.Boolean({ default: true, description: `Run the ${title} stage.` }),
  bytesPerTick: Type.Integer({
    // 8 sequence digits, ':', at least one random byte and the newline (src/engine/echoSession.ts).
    minimum: 11,
    maximum: 32768,
    default: 1024,
    description: 'Bytes written per connection on every tick (reference: 1024).',
  }),
  tickIntervalMs: Type.Integer({
    minimum: 10,
    maximum: 60000,
    default: 100,
    description: 'Interval between ticks on each connection, in ms (reference: 100).',
  }),
});

const echoTrafficOptions = (title: string) => ({
  additionalProperties: false,
  default: {},
  description: `${title} traffic: one echo connection per workspace.`,
});

export const DASHBOARD_PAGES = ['/workspaces', '/templates', '/users', '/@{owner}/{workspace}'] as const;

export const PlanSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'Path or URL of this JSON Schema (for editors).' })),
    name: Type.String({ minLength: 1, default: 'scale test', description: 'A name for the run, shown in reports.' }),
    deployment: Type.Object(
      {
        url: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description: 'Access URL of the Coder deployment (e.g. https://coder.example.com). Overridden by --url or CODER_URL.',
          }),
        ),
        organization: Type.Optional(
          Type.String({ minLength: 1, description: 'Organization name or id. Default: the owner\'s first organization.' }),
        ),
        template: Type.Optional(
          Type.String({ minLength: 1, description: 'Template name or id for the workspaces. Default: the organization\'s first template.' }),
        ),
        prometheusUrl: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description: 'coderd Prometheus endpoint (e.g. http://127.0.0.1:2112/metrics) to show the deployment\'s CPU, request rate, latency and WebSockets.',
          }),
        ),
      },
      { additionalProperties: false, default: {}, description: 'The deployment under test.' },
    ),
    users: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 10,
      description: 'Number of scale-test users; each gets one workspace (reference scale: 2000).',
    }),
    runIdPrefix: Type.String({
      pattern: '^[a-z][a-z0-9]{0,5}$',
      default: 'st',
      description: 'Start of the run id (1-6 lowercase letters/digits). Every user and workspace name carries the run id.',
    }),
    concurrency: Type.Object(
      {
        prepare: Type.Integer({ minimum: 1, maximum: 500, default: 10, description: 'Users/workspaces created in parallel.' }),
        cleanup: Type.Integer({ minimum: 1, maximum: 500, default: 10, description: 'Workspaces/users deleted in parallel.' }),
      },
      { additionalProperties: false, default: {}, description: 'Bounded parallelism of prepare and cleanup.' },
    ),
    timeline: Type.Object(
      {
        slotSeconds: Type.Number({
          minimum: 0.1,
          maximum: 86400,
          default: 60,
          description: 'Length of one timeline slot (T0..T1, T1..T2, ...), in seconds.',
        }),
        ssh: Window('SSH stage window in slots [start, end] (reference: T0-T3).', [0, 3]),
        pty: Window('Web terminal stage window in slots (reference: T1-T4).', [1, 4]),
        apps: Window('Workspace apps stage window in slots (reference: T2-T5).', [2, 5]),
        dashboard: Window('Dashboard stage window in slots (reference: T3-T6).', [3, 6]),
      },
      { additionalProperties: false, default: {}, description: 'Equal slots; each traffic stage runs in its window.' },
    ),
    traffic: Type.Object(
      {
        ssh: Type.Object(
          {
            ...echoTrafficBase('SSH'),
            transport: Type.Union([Type.Literal('coder-cli'), Type.Literal('direct')], {
              default: 'coder-cli',
              description: 'coder-cli: `coder ssh --stdio` with the CLI downloaded from the deployment (works with any coderd); direct: plain TCP to directAddress (the simulated deployment\'s SSH port).',
            }),
            directAddress: Type.Optional(
              Type.String({ pattern: '^[^:]+:\\d+$', description: 'host:port of a direct SSH endpoint (transport "direct" only).' }),
            ),
          },
          echoTrafficOptions('SSH'),
        ),
        pty: Type.Object(echoTrafficBase('Web terminal'), echoTrafficOptions('Web terminal')),
        apps: Type.Object(
          {
            ...echoTrafficBase('Workspace apps'),
            slug: Type.String({ minLength: 1, default: 'wsec', description: 'Slug of the WebSocket echo app in the template (reference: wsec).' }),
          },
          echoTrafficOptions('Workspace apps'),
        ),
        dashboard: Type.Object(
          {
            enabled: Type.Boolean({ default: true, description: 'Run the dashboard stage (headless Chromium).' }),
            intervalSeconds: Type.Number({ minimum: 0.1, maximum: 3600, default: 10, description: 'Mean time between page visits per user (reference: 10).' }),
            jitterSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 5, description: 'Uniform jitter around the interval (reference: ±5).' }),
            pages: Type.Array(Type.String({ pattern: '^/' }), {
              minItems: 1,
              default: [...DASHBOARD_PAGES],
              description: 'Dashboard paths to visit; {owner} and {workspace} are replaced per user.',
            }),
            maxBrowsers: Type.Integer({
              minimum: 1,
              default: 50,
              description: 'At most this many simulated dashboard users (browser contexts) in the one Chromium.',
            }),
          },
          { additionalProperties: false, default: {}, description: 'Dashboard traffic through headless Chromium.' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Per-stage traffic settings.' },
    ),
    thresholds: Type.Array(
      Type.Object(
        {
          expression: Type.String({
            minLength: 1,
            description: '`<metric> <op> <value><unit>`, e.g. `pty.rtt.p95 < 300ms`, `ssh.disconnects <= 1%`, `api.errors_5xx == 0`.',
          }),
          abortOnFail: Type.Boolean({ default: false, description: 'Abort the run when this threshold is breached.' }),
          abortAfterSeconds: Type.Number({
            minimum: 0,
            maximum: DAY_SECONDS,
            default: 0,
            description: 'With abortOnFail: abort only after the breach has lasted this long.',
          }),
        },
        { additionalProperties: false },
      ),
      { description: 'Pass criteria, evaluated live and at the end.' },
    ),
    cleanup: Type.Object(
      {
        strategy: Type.Union([Type.Literal('always'), Type.Literal('on-success'), Type.Literal('on-failure'), Type.Literal('never')], {
          default: 'always',
          description: 'When to delete the users and workspaces this run created (also applies on abort).',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Cleanup of what the run created.' },
    ),
    seed: Type.Optional(Type.Integer({ description: 'Seed for payloads and dashboard jitter (random when absent).' })),
    timeouts: Type.Object(
      {
        buildSeconds: Type.Number({ minimum: 1, maximum: DAY_SECONDS, default: 600, description: 'Longest wait for a workspace build (at most a day).' }),
        agentSeconds: Type.Number({ minimum: 1, maximum: DAY_SECONDS, default: 600, description: 'Longest wait for a workspace agent to connect (at most a day).' }),
        connectSeconds: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Longest wait to open one traffic connection (at most an hour).' }),
        echoSeconds: Type.Number({ minimum: 0.1, maximum: 3600, default: 30, description: 'A tick whose echo has not arrived after this long counts as lost (at most an hour).' }),
        cleanupSeconds: Type.Number({ minimum: 1, maximum: DAY_SECONDS, default: 600, description: 'Longest wait for one workspace deletion (at most a day).' }),
      },
      { additionalProperties: false, default: {}, description: 'Time limits.' },
    ),
  },
  {
    additionalProperties: false,
    $id: 'https://coder-scaletest.dev/scaletest-plan.schema.json',
    title: 'Coder scale test plan',
    description: 'A staged scale test against a Coder deployment (*.scaletest.json).',
  },
);

export type Plan = Static<typeof PlanSchema>;
export type ThresholdSpec = Plan['thresholds'][number];

export const DEFAULT_THRESHOLDS: string[] = [
  // No user interruption.
  'ssh.disconnects == 0',
  'pty.disconnects == 0',
  'apps.disconnects == 0',
  'ssh.mismatches == 0',
  'pty.mismatches == 0',
  'apps.mismatches == 0',
  'ssh.errors == 0',
  'pty.errors == 0',
  'apps.errors == 0',
  'dashboard.errors == 0',
  'prepare.failures == 0',
  // No coderd crash or restart, no internal errors.
  'deployment.restarts == 0',
  'api.errors_5xx == 0',
  // API responses under 300 ms; echo round trips likewise.
  'api.latency.p95 < 300ms',
  'ssh.rtt.p95 < 300ms',
  'pty.rtt.p95 < 300ms',
  'apps.rtt.p95 < 300ms',
  // Opening a session is part of what a user waits for: the coder CLI's tunnel set-up makes
  // SSH slower to open than a WebSocket, so it gets a longer budget.
  'ssh.connect.p95 < 10s',
  'pty.connect.p95 < 5s',
  'apps.connect.p95 < 5s',
  // Coder's connection criterion: at least 90 % of target throughput.
  'ssh.throughput >= 90%',
  'pty.throughput >= 90%',
  'apps.throughput >= 90%',
];

/**
 * JSON Schema as written to schemas/scaletest-plan.schema.json and used for validation. Fields
 * with a default are not `required` in it, so a short plan is valid in an editor too; the
 * validated Plan has them all, since validation fills the defaults.
 */
export function planJsonSchema(): Record<string, unknown> {
  const schema = JSON.parse(JSON.stringify(PlanSchema)) as Record<string, unknown>;
  const relax = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const object = node as Record<string, unknown>;
    const properties = object.properties as Record<string, { default?: unknown }> | undefined;
    if (Array.isArray(object.required) && properties) {
      object.required = (object.required as string[]).filter((key) => properties[key]?.default === undefined);
      if ((object.required as string[]).length === 0) delete object.required;
    }
    Object.values(object).forEach(relax);
  };
  relax(schema);
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...schema };
}

export function planSchemaFileText(): string {
  return `${JSON.stringify(planJsonSchema(), null, 2)}\n`;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateSchema = ajv.compile(planJsonSchema());

export class PlanError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid plan:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlanError';
  }
}

/** The default plan: the reference methodology, with all defaults written out in schema order. */
export function defaultPlan(): Plan {
  const filled = validatePlan({ name: 'reference scale test' });
  return Object.fromEntries(Object.keys(PlanSchema.properties).filter((key) => key in filled).map((key) => [key, filled[key as keyof Plan]])) as Plan;
}

/** Validates `json` (fills defaults) or throws PlanError listing every problem. */
export function validatePlan(json: unknown): Plan {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PlanError(['plan: must be a JSON object like {"users": 10, ...}']);
  }
  const plan = structuredClone(json) as Record<string, unknown>;
  if (plan.thresholds === undefined) plan.thresholds = DEFAULT_THRESHOLDS.map((expression) => ({ expression }));
  const problems: string[] = [];
  if (!validateSchema(plan)) {
    problems.push(...dedupe(withoutBranchNoise(validateSchema.errors ?? []).map(describeAjvError)));
    throw new PlanError(problems);
  }
  const valid = plan as Plan;
  for (const stage of TRAFFIC_STAGES) {
    const [start, end] = valid.timeline[stage];
    if (end <= start) problems.push(`timeline.${stage}: the window [${start}, ${end}] must end after it starts`);
    const endSeconds = end * valid.timeline.slotSeconds;
    if (endSeconds * 1000 > MAX_TIMER_MS) {
      problems.push(
        `timeline.${stage}: the window ends ${Math.round(endSeconds)} s after T0, beyond the longest supported timeline ` +
          `(${Math.floor(MAX_TIMER_MS / 1000)} s, about 24 days); shorten timeline.slotSeconds or the window`,
      );
    }
  }
  if (TRAFFIC_STAGES.every((stage) => !valid.traffic[stage].enabled)) {
    problems.push('traffic: every traffic stage is disabled, so the run would measure nothing; enable at least one (traffic.<stage>.enabled)');
  }
  if (valid.traffic.ssh.transport === 'direct' && !valid.traffic.ssh.directAddress) {
    problems.push('traffic.ssh.directAddress: required when traffic.ssh.transport is "direct" (e.g. "127.0.0.1:2222")');
  }
  // Subdomain apps put workspace and user names into one DNS label; they must fit (issue 12).
  const labelProblem = appLabelProblem(valid.traffic.apps.slug, valid.runIdPrefix, valid.users);
  if (labelProblem) problems.push(`runIdPrefix: ${labelProblem}`);
  valid.thresholds.forEach((threshold, index) => {
    try {
      parseThreshold(threshold.expression);
    } catch (error) {
      problems.push(`thresholds[${index}].expression: ${(error as Error).message}`);
    }
  });
  if (problems.length > 0) throw new PlanError(problems);
  return valid;
}

/** Parses plan text (JSON) and validates it; JSON syntax errors are reported as PlanError too. */
export function parsePlanText(text: string, source = 'plan'): Plan {
  let json: unknown;
  // Editors on Windows may save a UTF-8 byte order mark; JSON.parse rejects it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new PlanError([`${source}: not valid JSON (${withLineAndColumn((error as Error).message, body)})`]);
  }
  return validatePlan(json);
}

/** Window of a traffic stage in ms from T0. */
export function stageWindowMs(plan: Plan, stage: TrafficStageName): { startMs: number; endMs: number } {
  const [start, end] = plan.timeline[stage];
  const slotMs = plan.timeline.slotSeconds * 1000;
  return { startMs: start * slotMs, endMs: end * slotMs };
}

/** Length of the traffic timeline (T0 .. the end of the last enabled stage), ms. */
export function timelineMs(plan: Plan): number {
  let end = 0;
  for (const stage of TRAFFIC_STAGES) {
    if (plan.traffic[stage].enabled) end = Math.max(end, stageWindowMs(plan, stage).endMs);
  }
  return end;
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
  const schemaPath = error.schemaPath;
  if (schemaPath.includes('strategy')) return 'always, on-success, on-failure, never';
  if (schemaPath.includes('transport')) return 'coder-cli, direct';
  return undefined;
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
