// The scale-test plan: its JSON Schema (TypeBox, so the type and the schema are one
// definition), its defaults (the reference methodology) and validation with errors that name
// the field and the problem in plain words.
import { Type, type Static, type TObject } from '@sinclair/typebox';
import Ajv, { type ValidateFunction } from 'ajv';
import { schemaProblems, withLineAndColumn } from './errors';
import type { TrafficStageDefinition } from '../stages/definition';
import { BUILTIN_TRAFFIC_STAGES, registryVersion, trafficStages } from '../stages/registry';
import { SearchSchema, searchProblems, withOneStepProblem } from '../search/schema';
import { parseThreshold } from '../judge/thresholds';

/** Node's timers hold at most 2^31-1 ms (~24.8 days); longer delays fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const DAY_SECONDS = 86400;

const Window = (description: string, defaultWindow: [number, number]) =>
  Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ minimum: 0 })], {
    description,
    default: defaultWindow,
  });

const windowSchema = (stage: TrafficStageDefinition) =>
  Window(
    `${stage.title} stage window in slots [start, end] (reference: T${stage.defaultWindow[0]}-T${stage.defaultWindow[1]}).`,
    stage.defaultWindow,
  );

/**
 * The plan's fields; `timeline` and `traffic` get one field per registered traffic stage.
 * Long on purpose: it is the schema itself, field by field, in the order editors show them.
 */
function planProperties(stages: readonly TrafficStageDefinition[]) {
  return {
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
          Type.String({ minLength: 1, description: "Organization name or id. Default: the owner's first organization." }),
        ),
        template: Type.Optional(
          Type.String({ minLength: 1, description: "Template name or id for the workspaces. Default: the organization's first template." }),
        ),
        parameters: Type.Optional(
          Type.Record(Type.String({ minLength: 1 }), Type.String(), {
            description:
              "Values for the template's parameters, name → value, sent with every workspace. Every required parameter (one without a default) needs a value here or in the preset; the run checks before it creates anything.",
          }),
        ),
        preset: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              "Name of a preset of the template's active version: each workspace is created with it and its parameter values; give the template's other parameters in deployment.parameters.",
          }),
        ),
        prometheusUrl: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description:
              "coderd Prometheus endpoint (e.g. http://127.0.0.1:2112/metrics) to show the deployment's CPU, request rate, latency and WebSockets.",
          }),
        ),
        provisionerPrometheusUrl: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description:
              "An external provisioner daemon's Prometheus endpoint (`coder provisioner start` with CODER_PROMETHEUS_ENABLE=true), for its CPU beside Coder's reference figures.",
          }),
        ),
        databaseMetricsUrl: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description:
              "A Prometheus node_exporter on the database host (node_cpu_seconds_total), for the database's CPU beside Coder's reference figures.",
          }),
        ),
      },
      { additionalProperties: false, default: {}, description: 'The deployment under test.' },
    ),
    users: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 10,
      description:
        'Number of scale-test users; each gets one workspace (reference scale: 2000). With `search`, set by the search (its `to`).',
    }),
    search: Type.Optional(SearchSchema),
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
        ...Object.fromEntries(stages.map((stage) => [stage.id, windowSchema(stage)])),
      },
      { additionalProperties: false, default: {}, description: 'Equal slots; each traffic stage runs in its window.' },
    ),
    traffic: Type.Object(Object.fromEntries(stages.map((stage) => [stage.id, stage.settings])), {
      additionalProperties: false,
      default: {},
      description: 'Per-stage traffic settings.',
    }),
    thresholds: Type.Array(
      Type.Object(
        {
          expression: Type.String({
            minLength: 1,
            description:
              "`<metric> <op> <value><unit>`, e.g. `pty.rtt.p95 < 300ms`, `ssh.disconnects <= 1%`, `api.errors_5xx == 0`; or against the plan's baseline run, `<metric> <op> baseline [* <factor>] [+|- <value><unit>]`, e.g. `pty.rtt.p95 < baseline * 1.2` (docs/baselines.md).",
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
      {
        description:
          "Pass criteria, evaluated live and at the end. Without it: the reference criteria of the stages the plan enables, each stage's own among them.",
      },
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
    workers: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 256,
        description:
          "Worker threads for the echo stages' connections (SSH, web terminal, apps), each stage's connections spread over them. Default: one per core but one. 0 or 1: all on the runner's main thread.",
      }),
    ),
    timeouts: Type.Object(
      {
        buildSeconds: Type.Number({
          minimum: 1,
          maximum: DAY_SECONDS,
          default: 600,
          description: 'Longest wait for a workspace build (at most a day).',
        }),
        agentSeconds: Type.Number({
          minimum: 1,
          maximum: DAY_SECONDS,
          default: 600,
          description:
            "Longest wait for a workspace's agent to be ready: connected, and its startup script (which starts the template's apps) finished (at most a day).",
        }),
        connectSeconds: Type.Number({
          minimum: 1,
          maximum: 3600,
          default: 30,
          description: 'Longest wait to open one traffic connection (at most an hour).',
        }),
        echoSeconds: Type.Number({
          minimum: 0.1,
          maximum: 3600,
          default: 30,
          description: 'A tick whose echo has not arrived after this long counts as lost (at most an hour).',
        }),
        cleanupSeconds: Type.Number({
          minimum: 1,
          maximum: DAY_SECONDS,
          default: 600,
          description: 'Longest wait for one workspace deletion (at most a day).',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Time limits.' },
    ),
    observe: Type.Object(
      {
        metricsAddress: Type.Optional(
          Type.String({
            pattern: '^(\\[[^\\]]+\\]|[^:\\[\\]]*):\\d{1,5}$',
            description:
              'Serve Prometheus /metrics at HOST:PORT while the run goes (default: off). `:9464` or `127.0.0.1:9464` stays on this machine; `0.0.0.0:9464` serves every interface. Overridden by --metrics-address.',
          }),
        ),
        metricsLingerSeconds: Type.Number({
          minimum: 0,
          maximum: 600,
          default: 5,
          description: 'How long /metrics is still served after the run ends, so the last scrape lands.',
        }),
        grafanaUrl: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description:
              "Grafana to write the run's stage windows to as annotations (token: GRAFANA_TOKEN or --grafana-token-file). Overridden by --grafana-url.",
          }),
        ),
        grafanaDashboard: Type.Optional(
          Type.String({
            minLength: 1,
            description: "Ties the annotations to this dashboard's uid (default: organization annotations, tag coder-scaletest).",
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Prometheus and Grafana: where the run shows up beside coderd (docs/observe.md).',
      },
    ),
  };
}

const PLAN_OPTIONS = {
  additionalProperties: false,
  $id: 'https://coder-scaletest.dev/scaletest-plan.schema.json',
  title: 'Coder scale test plan',
  description: 'A staged scale test against a Coder deployment (*.scaletest.json).',
};

/** The plan's TypeBox schema for the stages registered now. */
export function planSchema(): TObject {
  return Type.Object(planProperties(trafficStages()), PLAN_OPTIONS);
}

type BuiltinStage = (typeof BUILTIN_TRAFFIC_STAGES)[number];
type BasePlan = Static<TObject<ReturnType<typeof planProperties>>>;

/**
 * A validated plan. The built-in stages' settings are typed from their definitions; a stage
 * registered at run time reads its fragment through trafficSettings() / stageWindowMs().
 */
export type Plan = Omit<BasePlan, 'timeline' | 'traffic'> & {
  timeline: { slotSeconds: number } & { [S in BuiltinStage as S['id']]: [number, number] };
  traffic: { [S in BuiltinStage as S['id']]: Static<S['settings']> };
};
export type ThresholdSpec = Plan['thresholds'][number];

/** `plan.traffic.<id>` of any registered stage. */
export function trafficSettings(plan: Plan, stageId: string): { enabled: boolean } & Record<string, unknown> {
  return (plan.traffic as unknown as Record<string, { enabled: boolean } & Record<string, unknown>>)[stageId];
}

/** The traffic stages this plan runs, in timeline order. */
export function enabledStages(plan: Plan): TrafficStageDefinition[] {
  return trafficStages().filter((stage) => trafficSettings(plan, stage.id)?.enabled);
}

/**
 * The reference pass criteria: the run's own, and for each traffic stage those its metric
 * families imply plus its own (`defaultThresholds` in its definition). With a plan, only the
 * stages it enables (what a plan without `thresholds` is judged by); without, every registered
 * stage (what `init` writes: a stage enabled later in the file brings its criteria, which are
 * skipped while it is off).
 */
export function defaultThresholds(plan?: Plan): string[] {
  const stages = plan ? enabledStages(plan) : trafficStages();
  const having = (family: 'counters' | 'throughput') => stages.filter((stage) => stage.metrics.includes(family)).map((stage) => stage.id);
  const echo = having('throughput');
  return [
    // No user interruption.
    ...echo.map((id) => `${id}.disconnects == 0`),
    ...echo.map((id) => `${id}.mismatches == 0`),
    ...having('counters').map((id) => `${id}.errors == 0`),
    'prepare.failures == 0',
    // No coderd crash or restart, no internal errors.
    'deployment.restarts == 0',
    'api.errors_5xx == 0',
    // API responses under 300 ms; echo round trips likewise.
    'api.latency.p95 < 300ms',
    ...echo.map((id) => `${id}.rtt.p95 < 300ms`),
    // Opening a session is part of what a user waits for: the handshake, and being up when the
    // ramp planned it (open lag: a deployment slow to accept connections falls behind the plan).
    ...stages
      .filter((stage) => stage.metrics.includes('connect'))
      .flatMap((stage) => [
        `${stage.id}.connect.p95 < ${stage.connectP95Budget ?? '5s'}`,
        `${stage.id}.open_lag.p95 < ${stage.connectP95Budget ?? '5s'}`,
      ]),
    // Coder's connection criterion: at least 90 % of target throughput.
    ...echo.map((id) => `${id}.throughput >= 90%`),
    // What each stage's own definition asks of it.
    ...stages.flatMap((stage) => stage.defaultThresholds ?? []),
  ];
}

/**
 * JSON Schema as written to schemas/scaletest-plan.schema.json and used for validation. Fields
 * with a default are not `required` in it, so a short plan is valid in an editor too; the
 * validated Plan has them all, since validation fills the defaults.
 */
export function planJsonSchema(): Record<string, unknown> {
  const schema = JSON.parse(JSON.stringify(planSchema())) as Record<string, unknown>;
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

// verbose: a union's error carries its branches, whose literals name the allowed values.
// Created on first validation, not at import (the extension host imports this at activation).
let ajv: Ajv | undefined;
let compiled: { version: number; validate: ValidateFunction } | undefined;

/** The schema validator, compiled again only when the stage registry changed. */
function schemaValidator(): ValidateFunction {
  if (compiled?.version !== registryVersion()) {
    const schema = planJsonSchema();
    ajv ??= new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
    // The schema keeps its $id, which ajv allows once: drop the previous registry's compilation.
    ajv.removeSchema(schema.$id as string);
    compiled = { version: registryVersion(), validate: ajv.compile(schema) };
  }
  return compiled.validate;
}

export class PlanError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid plan:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlanError';
  }
}

/** The default plan: the reference methodology, with all defaults written out in schema order. */
export function defaultPlan(): Plan {
  // Every stage's criteria, also of the stages it leaves off: enabling one in the file brings them.
  const thresholds = defaultThresholds().map((expression) => ({ expression }));
  const filled = validatePlan({ name: 'reference scale test', thresholds });
  return Object.fromEntries(
    Object.keys(planSchema().properties)
      .filter((key) => key in filled)
      .map((key) => [key, filled[key as keyof Plan]]),
  ) as Plan;
}

/** Validates `json` (fills defaults) or throws PlanError listing every problem. */
export function validatePlan(json: unknown): Plan {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PlanError(['plan: must be a JSON object like {"users": 10, ...}']);
  }
  const plan = structuredClone(json) as Record<string, unknown>;
  // Without thresholds the plan is judged by the defaults of the stages it enables, known once
  // the schema has filled the stages' settings.
  const defaulted = plan.thresholds === undefined;
  if (defaulted) plan.thresholds = [];
  const problems: string[] = [];
  const validateSchema = schemaValidator();
  if (!validateSchema(plan)) {
    problems.push(...withOneStepProblem(schemaProblems(validateSchema.errors ?? [])));
    throw new PlanError(problems);
  }
  const valid = plan as Plan;
  if (defaulted)
    valid.thresholds = defaultThresholds(valid).map((expression) => ({ expression, abortOnFail: false, abortAfterSeconds: 0 }));
  if (valid.search) {
    problems.push(...searchProblems(valid.search, (json as Record<string, unknown>).users));
    // The pool never grows beyond `to`: what `users` bounds elsewhere (names, app labels) holds.
    valid.users = valid.search.to;
  }
  for (const stage of trafficStages()) {
    const [start, end] = stageWindow(valid, stage.id);
    if (end <= start) problems.push(`timeline.${stage.id}: the window [${start}, ${end}] must end after it starts`);
    problems.push(...(stage.validate?.(trafficSettings(valid, stage.id), valid) ?? []));
    const endSeconds = end * valid.timeline.slotSeconds;
    if (endSeconds * 1000 > MAX_TIMER_MS) {
      problems.push(
        `timeline.${stage.id}: the window ends ${Math.round(endSeconds)} s after T0, beyond the longest supported timeline ` +
          `(${Math.floor(MAX_TIMER_MS / 1000)} s, about 24 days); shorten timeline.slotSeconds or the window`,
      );
    }
  }
  if (enabledStages(valid).length === 0) {
    problems.push(
      'traffic: every traffic stage is disabled, so the run would measure nothing; enable at least one (traffic.<stage>.enabled)',
    );
  }
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

function stageWindow(plan: Plan, stageId: string): [number, number] {
  return (plan.timeline as unknown as Record<string, [number, number]>)[stageId];
}

/** Window of a traffic stage in ms from T0. */
export function stageWindowMs(plan: Plan, stageId: string): { startMs: number; endMs: number } {
  const [start, end] = stageWindow(plan, stageId);
  const slotMs = plan.timeline.slotSeconds * 1000;
  return { startMs: start * slotMs, endMs: end * slotMs };
}

/** Length of the traffic timeline (T0 .. the end of the last enabled stage), ms. */
export function timelineMs(plan: Plan): number {
  return Math.max(0, ...enabledStages(plan).map((stage) => stageWindowMs(plan, stage.id).endMs));
}
